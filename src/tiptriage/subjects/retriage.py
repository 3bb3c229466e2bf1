"""Subjects: the queue of reports that triage must look at again because their subject changed."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from tiptriage.db import utcnow
from tiptriage.subjects.models import SubjectRetriage


def queue_retriage(session: Session, report_ids: Iterable[int], op_id: int) -> list[int]:
    report_ids = sorted(set(report_ids))
    if report_ids:
        now = utcnow()
        session.execute(
            insert(SubjectRetriage),
            [{"report_id": r, "operation_id": op_id, "queued_at": now} for r in report_ids],
        )
    return report_ids


def pending_retriage(session: Session) -> list[int]:
    """Report ids waiting for triage because their subject changed, oldest first, each once."""
    rows = session.execute(
        select(SubjectRetriage.report_id)
        .where(SubjectRetriage.retriaged_at.is_(None))
        .order_by(SubjectRetriage.id)
    ).scalars()
    return list(dict.fromkeys(rows))


def mark_retriaged(session: Session, report_ids: Iterable[int]) -> int:
    report_ids = list(report_ids)
    if not report_ids:
        return 0
    return session.execute(
        update(SubjectRetriage)
        .where(SubjectRetriage.report_id.in_(report_ids), SubjectRetriage.retriaged_at.is_(None))
        .values(retriaged_at=utcnow())
    ).rowcount
