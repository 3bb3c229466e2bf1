"""Subjects' tables: who stands behind the reported persons, why we think so, and every change.

Membership is a link table with history: a reported person belongs to one subject at a time
(`until` empty), and a merge, split or relink closes rows and opens new ones instead of
overwriting a column. So any earlier state can be shown and restored, and anything that hangs on a
subject (decisions, warnings) keeps pointing at the subject it was made for; `merged_into_id`
tells where that subject's reported persons went.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tiptriage.db import Base, Id, UTCDateTime
from tiptriage.i18n import N_

# "join": the fast path fused two subjects a new record links to (never across an analyst's decision).
# "identify": an analyst recorded who is behind a reported person and linkage looked again.
OPERATION_KINDS = (N_("link"), N_("new"), N_("join"), N_("confirm"), N_("reject"), N_("merge"), N_("split"), N_("relink"),
                   N_("identify"))
# Operations through which an analyst shaped subjects: what relinking and joins never undo.
ANALYST_OPERATIONS = (N_("merge"), N_("confirm"), N_("split"))
DECISIONS = (N_("linked"), N_("review"), N_("new"))
REVIEW_KINDS = (N_("possible_match"), N_("possible_same_subject"))
REVIEW_STATUSES = (N_("open"), N_("confirmed"), N_("rejected"), N_("superseded"))


class Subject(Base):
    __tablename__ = "subjects"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    # Set when the subject lost all its reported persons to a merge; a split can bring it back.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    merged_into_id: Mapped[int | None] = mapped_column(Id, ForeignKey("subjects.id"))


class SubjectOperation(Base):
    """One change to subjects (automatic or by an analyst), with who, when and why."""

    __tablename__ = "subject_operations"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # one of OPERATION_KINDS
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class SubjectMember(Base):
    """A reported person's membership of a subject, from `since` until `until` (open: current)."""

    __tablename__ = "subject_members"
    __table_args__ = (
        Index("ix_subject_members_person_until", "reported_person_id", "until"),
        Index("ix_subject_members_subject_until", "subject_id", "until"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    subject_id: Mapped[int] = mapped_column(Id, ForeignKey("subjects.id"))
    reported_person_id: Mapped[int] = mapped_column(Id, ForeignKey("reported_persons.id"))
    report_id: Mapped[int] = mapped_column(Id, ForeignKey("reports.id"), index=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_by: Mapped[int] = mapped_column(Id, ForeignKey("subject_operations.id"))
    ended_by: Mapped[int | None] = mapped_column(Id, ForeignKey("subject_operations.id"))


class SubjectRecord(Base):
    """What linkage compares of one reported person (role "reported"), computed once at linking."""

    __tablename__ = "subject_records"

    reported_person_id: Mapped[int] = mapped_column(
        Id, ForeignKey("reported_persons.id"), primary_key=True, autoincrement=False
    )
    report_id: Mapped[int] = mapped_column(Id, ForeignKey("reports.id"), index=True)
    features: Mapped[dict] = mapped_column(JSON)


class SubjectKey(Base):
    """Indexed blocking keys (email:…, phone:…, uid:…, name_yob:…) and `ip:` keys for fan-out counts."""

    __tablename__ = "subject_keys"
    __table_args__ = (Index("ix_subject_keys_key_person", "key", "reported_person_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(400))
    reported_person_id: Mapped[int] = mapped_column(Id, ForeignKey("reported_persons.id"), index=True)


class SubjectTermCount(Base):
    """How many records carry a value (given name, family name): term frequencies for common names."""

    __tablename__ = "subject_term_counts"

    field: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class SubjectLink(Base):
    """Why a reported person went where it went: the best candidate and the per-field evidence."""

    __tablename__ = "subject_links"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    reported_person_id: Mapped[int] = mapped_column(Id, ForeignKey("reported_persons.id"), index=True)
    subject_id: Mapped[int] = mapped_column(Id, ForeignKey("subjects.id"), index=True)
    decision: Mapped[str] = mapped_column(String(16))  # one of DECISIONS
    candidate_subject_id: Mapped[int | None] = mapped_column(Id, ForeignKey("subjects.id"))
    candidate_person_id: Mapped[int | None] = mapped_column(Id, ForeignKey("reported_persons.id"))
    match_weight: Mapped[float | None] = mapped_column(Float)
    match_probability: Mapped[float | None] = mapped_column(Float)
    model_version: Mapped[str] = mapped_column(String(64))
    evidence: Mapped[dict] = mapped_column(JSON)  # fields, levels, weights, values; guards that fired
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    operation_id: Mapped[int] = mapped_column(Id, ForeignKey("subject_operations.id"))


class SubjectReview(Base):
    """A possible match for an analyst: a reported person (or a subject) that may be another subject."""

    __tablename__ = "subject_reviews"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # one of REVIEW_KINDS
    status: Mapped[str] = mapped_column(String(16), index=True)  # one of REVIEW_STATUSES
    reported_person_id: Mapped[int | None] = mapped_column(Id, ForeignKey("reported_persons.id"), index=True)
    subject_id: Mapped[int] = mapped_column(Id, ForeignKey("subjects.id"), index=True)
    candidate_subject_id: Mapped[int] = mapped_column(Id, ForeignKey("subjects.id"), index=True)
    link_id: Mapped[int | None] = mapped_column(Id, ForeignKey("subject_links.id"))
    match_weight: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    operation_id: Mapped[int | None] = mapped_column(Id, ForeignKey("subject_operations.id"))


class LinkageModel(Base):
    """A trained linkage model (Splink's JSON inside ours), one row per version; one is active."""

    __tablename__ = "subject_models"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    version: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, index=True)
    document: Mapped[dict] = mapped_column(JSON)


class SubjectRetriage(Base):
    """Reports whose subject changed: triage takes them up again and sets `retriaged_at`."""

    __tablename__ = "subject_retriage"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    report_id: Mapped[int] = mapped_column(Id, ForeignKey("reports.id"), index=True)
    operation_id: Mapped[int] = mapped_column(Id, ForeignKey("subject_operations.id"))
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retriaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class RelinkRun(Base):
    """A batch re-clustering, proposed and shown before an analyst applies (or discards) it."""

    __tablename__ = "subject_relink_runs"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    engine: Mapped[str] = mapped_column(String(16))
    model_version: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # proposed, applied, discarded
    summary: Mapped[dict] = mapped_column(JSON)
    # reported person id → proposed cluster label, for every reported person in the run
    clusters: Mapped[dict] = mapped_column(JSON)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    operation_id: Mapped[int | None] = mapped_column(Id, ForeignKey("subject_operations.id"))


# Where an identification comes from: the provider's subscriber data (art. 126na Sv), the
# population registers (BRP, RNI for non-residents), or the investigation itself.
IDENTIFICATION_SOURCES = ("provider", "BRP", "RNI", "investigation")


def has_address(identity) -> bool:
    """Whether an identification (stored, or as given) places the person: the country alone does not."""
    return any((identity.street, identity.postcode, identity.city))


class Identification(Base):
    """Who the unit established stands behind a reported person: the answer to NEEDS_IDENTIFICATION.

    Recorded by an analyst after the subscriber request and a register check (a subscriber is the
    holder of a connection, not necessarily its user: the analyst records the person, not the
    subscriber). Rows are never changed; a new identification adds a row and the newest counts.
    Linkage compares the person with it as if the report had named them (`features.identified`).
    """

    __tablename__ = "identifications"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    report_id: Mapped[int] = mapped_column(Id, ForeignKey("reports.id"), index=True)
    person_id: Mapped[int] = mapped_column(Id, ForeignKey("reported_persons.id"), index=True)
    given_name: Mapped[str] = mapped_column(String(200))
    family_name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    street: Mapped[str | None] = mapped_column(String(200))  # street and house number
    postcode: Mapped[str | None] = mapped_column(String(16))
    city: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    source: Mapped[str] = mapped_column(String(16))  # one of IDENTIFICATION_SOURCES
    reference: Mapped[str] = mapped_column(String(200))  # e.g. the request's or register query's number
    note: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
