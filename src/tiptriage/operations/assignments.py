"""The unit a person gives a subject that nothing placed (no Dutch address, no estimated location or
IP address a table places): kept with who and why, never overwritten (a new assignment is a new row,
the newest counts), and read by triage when it assigns the subject's reports a unit."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tiptriage.accounts.actor import Actor, require
from tiptriage.audit import service as audit
from tiptriage.db import chunks, utcnow
from tiptriage.i18n import refusal
from tiptriage.operations.models import UnitAssignment
from tiptriage.operations.units import Units, UnitsError


def assign(session: Session, subject_id: int, unit: str, *, actor: Actor, reason: str, units: Units) -> UnitAssignment:
    """Record that `unit` is responsible for the subject (the caller checked that it exists)."""
    require(actor, "assign_unit", unit=unit)
    if unit not in units.names():
        raise refusal(UnitsError, "{unit!r} is not a unit; the units are {units}", unit=unit,
                      units=", ".join(units.names()))
    if not reason.strip():
        raise refusal(UnitsError, "assigning a unit needs a reason")
    row = UnitAssignment(subject_id=subject_id, unit=unit, reason=reason, actor=actor, at=utcnow())
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="unit.assign", entity="subject", entity_ids=[subject_id],
                 reason=reason, details={"unit": unit, "assignment_id": row.id})
    return row


def assigned(session: Session, subject_ids: list[int]) -> dict[int, str]:
    """The newest unit a person gave each of these subjects, where one did."""
    out: dict[int, str] = {}
    for part in chunks(sorted(set(subject_ids))):
        rows = session.execute(select(UnitAssignment.subject_id, UnitAssignment.unit)
                               .where(UnitAssignment.subject_id.in_(part)).order_by(UnitAssignment.id))
        out.update(dict(rows.all()))
    return out
