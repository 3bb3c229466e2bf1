"""Triage's tables: recommendations (immutable history), the queue's current state, decisions and
what analysts record: risk items and dates of birth verified in a register.

A recommendation is never updated or deleted: re-triage adds the next one (`seq`) and keeps the
rest. `triage_state` is the one mutable row per report, a projection of the newest recommendation
and decision that the queue and the plan read.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event, literal_column,
)
from sqlalchemy.orm import Mapped, mapped_column

from tiptriage.db import Base, Id, UTCDateTime
from tiptriage.i18n import N_

# Where a report stands in the queue.
QUEUE_STATUSES = (N_("open"), N_("reopened"), N_("awaiting_approval"), N_("decided"), N_("superseded"))
DECISION_KINDS = (N_("confirm"), N_("override"))
# Registers a date of birth can be verified in: the Dutch population register (residents) and its
# register of non-residents.
BIRTH_DATE_REGISTERS = ("BRP", "RNI")
TRIGGERS = ("ingest", "manual", "all", "bank", "subject", "risk_item", "birth_date", "identified", "policy",
            "warning", "decision")


class Recommendation(Base):
    __tablename__ = "recommendations"
    __table_args__ = (UniqueConstraint("report_id", "seq"),)  # also the index for report_id

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    report_id: Mapped[int] = mapped_column(Id, ForeignKey("reports.id"))
    seq: Mapped[int] = mapped_column(Integer)
    policy_id: Mapped[str] = mapped_column(String(64))
    policy_version: Mapped[str] = mapped_column(String(64))
    policy_sha256: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(24))
    priority: Mapped[int] = mapped_column(Integer)
    decided_by: Mapped[str] = mapped_column(String(100))  # the rule that gave the outcome
    fired: Mapped[list] = mapped_column(JSON)  # rule ids: the deciding rule and the modifiers
    also_matched: Mapped[list] = mapped_column(JSON)
    flags: Mapped[list] = mapped_column(JSON)
    facts: Mapped[dict] = mapped_column(JSON)  # the snapshot the policy saw
    subject_ids: Mapped[list] = mapped_column(JSON)
    unit: Mapped[str] = mapped_column(String(100))
    trigger: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))


@event.listens_for(Recommendation, "before_update")
def _immutable(_mapper, _connection, target: Recommendation) -> None:
    raise RuntimeError(f"recommendation {target.id} is immutable: triage again to add a new one")


class TriageState(Base):
    """The queue's row for a report: its newest recommendation and where the human decision stands."""

    __tablename__ = "triage_state"
    # The queue reads one outcome class at a time in this index's order (triage.service.queue); the
    # counts per class come from the second.
    __table_args__ = (Index("ix_triage_state_status_unit", "status", "unit"),
                      Index("ix_triage_state_queue", "outcome", literal_column("priority").desc(), "received_at",
                            "report_id"),
                      Index("ix_triage_state_outcome_status_unit", "outcome", "status", "unit"))

    report_id: Mapped[int] = mapped_column(Id, ForeignKey("reports.id"), primary_key=True, autoincrement=False)
    recommendation_id: Mapped[int] = mapped_column(Id, ForeignKey("recommendations.id"))
    outcome: Mapped[str] = mapped_column(String(24))
    priority: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(24))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the queue's "age": when it reached us
    # Copies for the queue's filters, kept here so filtering needs no join: the report's source and
    # the person's age band at the incident (triage.facts.AGE_BANDS) as the newest recommendation saw it.
    source: Mapped[str] = mapped_column(String(100), default="")
    age_band: Mapped[str] = mapped_column(String(8), default="unknown")
    decision_id: Mapped[int | None] = mapped_column(Id, ForeignKey("decisions.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Decision(Base):
    """A human's confirmation or override of one recommendation. Never changed afterwards."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    report_id: Mapped[int] = mapped_column(Id, ForeignKey("reports.id"), index=True)
    recommendation_id: Mapped[int] = mapped_column(Id, ForeignKey("recommendations.id"))
    kind: Mapped[str] = mapped_column(String(16))  # one of DECISION_KINDS
    outcome: Mapped[str] = mapped_column(String(24))
    justification: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(100))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class RiskItem(Base):
    """A structured risk item an analyst recorded (KIRAT/CPORT-like), with its source; newest counts."""

    __tablename__ = "risk_items"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    report_id: Mapped[int] = mapped_column(Id, ForeignKey("reports.id"), index=True)
    person_id: Mapped[int] = mapped_column(Id, ForeignKey("reported_persons.id"), index=True)
    item: Mapped[str] = mapped_column(String(32))
    value: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text)  # where the analyst found it
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class VerifiedBirthDate(Base):
    """A date of birth an analyst checked in a register (BRP) for the reported person of a report.

    Rows are never changed: a new check adds a row and the newest counts, so the history of checks
    stays. Facts prefer it to any stated age or date of birth (a register beats a platform's guess).
    """

    __tablename__ = "verified_birth_dates"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    report_id: Mapped[int] = mapped_column(Id, ForeignKey("reports.id"), index=True)
    person_id: Mapped[int] = mapped_column(Id, ForeignKey("reported_persons.id"), index=True)
    date_of_birth: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16))  # one of BIRTH_DATE_REGISTERS
    note: Mapped[str] = mapped_column(Text)  # what was checked, e.g. the BRP query's reference
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


DISTRIBUTION_SOURCES = ("platform", "investigation", "file")


class DistributionFinding(Base):
    """What an analyst established about whether a file was distributed (the answer to the question
    an undetermined file raises): from the platform, an investigation or the case file.

    Rows are never changed; the newest finding per file counts, before anything the report says.
    """

    __tablename__ = "distribution_findings"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    report_id: Mapped[int] = mapped_column(Id, ForeignKey("reports.id"), index=True)
    file_id: Mapped[int] = mapped_column(Id, ForeignKey("files.id"), index=True)
    distributed: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(16))  # one of DISTRIBUTION_SOURCES
    note: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class TriagePolicy(Base):
    """Every policy file triage has used, by content hash: a recommendation stays explainable in
    the exact words of the policy that made it, after the policy file changed."""

    __tablename__ = "triage_policies"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    policy_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(64))
    document: Mapped[str] = mapped_column(Text)
    first_used_at: Mapped[datetime] = mapped_column(UTCDateTime)
