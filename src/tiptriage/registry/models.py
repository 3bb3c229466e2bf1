"""The registry's tables: official warnings, investigations (for de-confliction) and alerts.

Warnings and investigations hang on the reports (and reported persons) they were made for, not on
a subject id: which subject a person belongs to can change by merge or split, and the registry
must follow the person. `subject_id` records the subject at the time, for display only.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tiptriage.db import Base, Id, UTCDateTime
from tiptriage.i18n import N_

# Stored states; `expired` is derived from `expires_on`, so no job has to run for it.
WARNING_STATES = (N_("proposed"), N_("approved"), N_("delivered"), N_("revoked"))
ALERT_KINDS = (N_("rereport_after_warning"), N_("possible_rereport"), N_("deconfliction"))


class PoliceWarning(Base):
    __tablename__ = "warnings"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    subject_id: Mapped[int | None] = mapped_column(Id)
    state: Mapped[str] = mapped_column(String(16), index=True)
    unit: Mapped[str] = mapped_column(String(100))
    proposed_by: Mapped[str] = mapped_column(String(200))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    justification: Mapped[str] = mapped_column(Text)
    decision_id: Mapped[int | None] = mapped_column(Id, ForeignKey("decisions.id"))
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_on: Mapped[date | None] = mapped_column(Date)
    delivered_by: Mapped[str | None] = mapped_column(String(200))  # the officer who delivered it
    referral_offered: Mapped[bool | None] = mapped_column(Boolean)
    referral_accepted: Mapped[bool | None] = mapped_column(Boolean)
    expires_on: Mapped[date | None] = mapped_column(Date)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(200))
    revoke_reason: Mapped[str | None] = mapped_column(Text)


class WarningReport(Base):
    """The reported persons (and their reports) a warning was given for."""

    __tablename__ = "warning_reports"
    __table_args__ = (UniqueConstraint("warning_id", "person_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    warning_id: Mapped[int] = mapped_column(Id, ForeignKey("warnings.id"))
    report_id: Mapped[int] = mapped_column(Id, ForeignKey("reports.id"), index=True)
    person_id: Mapped[int] = mapped_column(Id, ForeignKey("reported_persons.id"), index=True)


class WarningEvent(Base):
    """Every state change of a warning, in order: the warning's own history."""

    __tablename__ = "warning_events"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    warning_id: Mapped[int] = mapped_column(Id, ForeignKey("warnings.id"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict] = mapped_column(JSON)


class Investigation(Base):
    """A unit works a subject: opened by a decision for a search or urgent case, closed by hand."""

    __tablename__ = "investigations"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    report_id: Mapped[int] = mapped_column(Id, ForeignKey("reports.id"), index=True)
    subject_id: Mapped[int | None] = mapped_column(Id)
    unit: Mapped[str] = mapped_column(String(100))
    decision_id: Mapped[int | None] = mapped_column(Id, ForeignKey("decisions.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_by: Mapped[str] = mapped_column(String(200))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(200))
    close_reason: Mapped[str | None] = mapped_column(Text)


class Alert(Base):
    """A unit must know: a warned subject is reported again, or another unit already works the subject."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(200))  # kind:report:unit:cause, so an alert is raised once
    kind: Mapped[str] = mapped_column(String(32), index=True)
    report_id: Mapped[int] = mapped_column(Id, ForeignKey("reports.id"), index=True)
    recommendation_id: Mapped[int] = mapped_column(Id, ForeignKey("recommendations.id"))
    unit: Mapped[str] = mapped_column(String(100), index=True)
    other_unit: Mapped[str | None] = mapped_column(String(100))
    warning_id: Mapped[int | None] = mapped_column(Id, ForeignKey("warnings.id"))
    investigation_id: Mapped[int | None] = mapped_column(Id, ForeignKey("investigations.id"))
    details: Mapped[dict] = mapped_column(JSON)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
