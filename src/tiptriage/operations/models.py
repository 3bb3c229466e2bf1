"""Operations' tables: units a person gave to subjects nothing placed, and action weeks with their items.

An action week's items hang on the warning (for a warning to deliver) or the report (for a search)
they were planned for; the outcome an officer records is kept on the item, and a delivered warning
is also recorded in the warning registry (the one source of who was warned).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tiptriage.db import Base, Id, UTCDateTime
from tiptriage.i18n import N_

ITEM_KINDS = (N_("warning"), N_("search"))
# What an officer records per item; each kind has its own outcomes.
OUTCOMES_OF = {"warning": (N_("delivered"), N_("not_home"), N_("refused")),
               "search": (N_("search_done"), N_("devices_seized"), N_("not_home"))}


class UnitAssignment(Base):
    """A person's answer for a subject nothing placed: the unit responsible, and why."""

    __tablename__ = "unit_assignments"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    subject_id: Mapped[int] = mapped_column(Id, index=True)
    unit: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class ActionWeek(Base):
    __tablename__ = "action_weeks"
    __table_args__ = (UniqueConstraint("name"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    units: Mapped[list] = mapped_column(JSON)
    warnings_per_day: Mapped[int] = mapped_column(Integer)
    searches_per_day: Mapped[int] = mapped_column(Integer)
    overrides: Mapped[dict] = mapped_column(JSON)  # unit → {"warnings": n, "searches": n}
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ActionWeekItem(Base):
    """One warning to deliver or one search, planned on a day, or left over with the reason."""

    __tablename__ = "action_week_items"
    __table_args__ = (UniqueConstraint("week_id", "kind", "report_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    week_id: Mapped[int] = mapped_column(Id, ForeignKey("action_weeks.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # ITEM_KINDS
    warning_id: Mapped[int | None] = mapped_column(Id, ForeignKey("warnings.id"), index=True)
    report_id: Mapped[int] = mapped_column(Id, ForeignKey("reports.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(Id, ForeignKey("reported_persons.id"))
    subject_id: Mapped[int | None] = mapped_column(Id)
    unit: Mapped[str] = mapped_column(String(100))
    priority: Mapped[int] = mapped_column(Integer)
    area: Mapped[str | None] = mapped_column(String(2))  # the postcode area: its first two digits
    day: Mapped[date | None] = mapped_column(Date)  # None: left over
    left_over: Mapped[str | None] = mapped_column(Text)  # why it did not fit
    minor: Mapped[bool | None] = mapped_column(Boolean)  # the person under the youth age at the incident
    outcome: Mapped[str | None] = mapped_column(String(16))  # OUTCOMES_OF[kind]
    outcome_on: Mapped[date | None] = mapped_column(Date)
    officer: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str | None] = mapped_column(String(200))
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
