"""Media's tables: hash banks (versioned entries), match runs, per-file matches and status.

Bank entries are never deleted or edited in place: a removal or re-categorisation closes the
entry (`removed_version`) and, for a new category, opens a successor. A file's matches point at
the entry rows they were made with, so an earlier match stays explainable after any re-import.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tiptriage.db import Base, Id, UTCDateTime
from tiptriage.i18n import N_

# Our category scheme, most severe first; every bank maps its own scheme onto it.
CATEGORIES = (N_("child_abuse"), N_("exploitive"), N_("cgi_animation"), N_("non_pertinent"))
ABUSE_CATEGORIES = frozenset(CATEGORIES[:3])
# What a file is, after matching. See docs/media.md for the rules.
STATUSES = (N_("known"), N_("new"), N_("unrated"), N_("non_pertinent"))
BANK_FORMATS = ("vics", "csv", "lines")


class Bank(Base):
    __tablename__ = "banks"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    format: Mapped[str] = mapped_column(String(16))
    # The bank's own category codes → ours (or "ignore"); part of its import settings.
    category_map: Mapped[dict] = mapped_column(JSON, default=dict)
    default_category: Mapped[str | None] = mapped_column(String(32))  # for entries without a category
    hash_type: Mapped[str | None] = mapped_column(String(8))  # for one-hash-a-line lists
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))


class BankVersion(Base):
    """One applied import. `token` is random: it tells two databases' "version 3" apart."""

    __tablename__ = "bank_versions"
    __table_args__ = (UniqueConstraint("bank_id", "version"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    bank_id: Mapped[int] = mapped_column(Id, ForeignKey("banks.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    token: Mapped[str] = mapped_column(String(32))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    imported_by: Mapped[str] = mapped_column(String(200))
    source_name: Mapped[str] = mapped_column(Text)  # the file's name, not its folder
    source_sha256: Mapped[str] = mapped_column(String(64))
    entries: Mapped[int] = mapped_column(Integer)
    added: Mapped[int] = mapped_column(Integer)
    removed: Mapped[int] = mapped_column(Integer)
    recategorised: Mapped[int] = mapped_column(Integer)


class BankEntry(Base):
    """One hash of a bank, live from `added_version` until `removed_version` (exclusive)."""

    __tablename__ = "bank_entries"
    __table_args__ = (
        Index("ix_bank_entries_type_value", "hash_type", "value"),
        Index("ix_bank_entries_bank_removed", "bank_id", "removed_version"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    bank_id: Mapped[int] = mapped_column(Id, ForeignKey("banks.id"))
    hash_type: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    source_category: Mapped[str | None] = mapped_column(String(64))
    series: Mapped[str | None] = mapped_column(Text)
    victim_identified: Mapped[bool | None] = mapped_column(Boolean)
    quality: Mapped[int | None] = mapped_column(Integer)  # PDQ quality, when the bank gives it
    ref: Mapped[str | None] = mapped_column(String(200))  # the bank's own id (VICS MediaID)
    added_version: Mapped[int] = mapped_column(Integer)
    removed_version: Mapped[int | None] = mapped_column(Integer)


class MatchRun(Base):
    """One matching pass: at ingest, on demand, or retro-matching after a bank changed."""

    __tablename__ = "match_runs"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    trigger: Mapped[str] = mapped_column(String(16))  # ingest | retro | manual | classify
    banks: Mapped[dict] = mapped_column(JSON, default=dict)  # bank id → version matched against
    max_distance: Mapped[int] = mapped_column(Integer)
    files: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)


class FileMatch(Base):
    """A file's hash matched a bank entry. Superseded (not deleted) when a later run differs."""

    __tablename__ = "file_matches"
    __table_args__ = (Index("ix_file_matches_file_superseded", "file_id", "superseded_run_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    file_id: Mapped[int] = mapped_column(Id, ForeignKey("files.id"))
    run_id: Mapped[int] = mapped_column(Id, ForeignKey("match_runs.id"), index=True)
    bank_entry_id: Mapped[int] = mapped_column(Id, ForeignKey("bank_entries.id"), index=True)
    bank_version: Mapped[int] = mapped_column(Integer)
    hash_type: Mapped[str] = mapped_column(String(8))
    distance: Mapped[int] = mapped_column(Integer)
    superseded_run_id: Mapped[int | None] = mapped_column(Id, ForeignKey("match_runs.id"))


class FileMatchState(Base):
    """Where each matched file stands now: its status, and why."""

    __tablename__ = "file_match_state"

    file_id: Mapped[int] = mapped_column(Id, ForeignKey("files.id"), primary_key=True)
    report_id: Mapped[int] = mapped_column(Id, ForeignKey("reports.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    category: Mapped[str | None] = mapped_column(String(32))
    victim_identified: Mapped[bool | None] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    run_id: Mapped[int] = mapped_column(Id, ForeignKey("match_runs.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FileClassification(Base):
    """An analyst's category for a file; the newest one counts."""

    __tablename__ = "file_classifications"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    file_id: Mapped[int] = mapped_column(Id, ForeignKey("files.id"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)


class StatusChange(Base):
    """A file's status changed after it was first matched: its report needs triage again.

    `retriaged_at` stays empty until triage has taken the report up again (the re-triage queue).
    """

    __tablename__ = "media_status_changes"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    run_id: Mapped[int] = mapped_column(Id, ForeignKey("match_runs.id"), index=True)
    file_id: Mapped[int] = mapped_column(Id, ForeignKey("files.id"), index=True)
    report_id: Mapped[int] = mapped_column(Id, ForeignKey("reports.id"), index=True)
    old_status: Mapped[str] = mapped_column(String(16))
    new_status: Mapped[str] = mapped_column(String(16))
    old_category: Mapped[str | None] = mapped_column(String(32))
    new_category: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    retriaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
