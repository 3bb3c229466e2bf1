"""Subjects: who belongs to which subject now, and the recorded operations that change it.

Membership rows are closed, never overwritten, so every change can be followed and undone.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from tiptriage.db import utcnow
from tiptriage.i18n import refusal
from tiptriage.subjects.errors import SubjectNotFound
from tiptriage.subjects.models import Subject, SubjectMember, SubjectOperation

SUBJECT_ROLE = "reported"  # recipients and victims are not subjects of triage and stay out of clusters


def record_operation(
    session: Session, kind: str, actor: str, reason: str | None, details: dict
) -> SubjectOperation:
    op = SubjectOperation(kind=kind, at=utcnow(), actor=actor, reason=reason, details=details)
    session.add(op)
    session.flush()
    return op


def current_subject(session: Session, person_id: int) -> int | None:
    return session.execute(
        select(SubjectMember.subject_id).where(
            SubjectMember.reported_person_id == person_id, SubjectMember.until.is_(None)
        )
    ).scalar_one_or_none()


def current_members(session: Session, subject_id: int) -> list[SubjectMember]:
    return list(
        session.execute(
            select(SubjectMember)
            .where(SubjectMember.subject_id == subject_id, SubjectMember.until.is_(None))
            .order_by(SubjectMember.id)
        ).scalars()
    )


def subject_of_persons(session: Session, person_ids: Iterable[int]) -> dict[int, int]:
    """reported person id → current subject id."""
    person_ids = list(person_ids)
    if not person_ids:
        return {}
    return dict(
        session.execute(
            select(SubjectMember.reported_person_id, SubjectMember.subject_id).where(
                SubjectMember.reported_person_id.in_(person_ids), SubjectMember.until.is_(None)
            )
        ).all()
    )


def members_of(session: Session, subject_ids: Iterable[int]) -> dict[int, list[int]]:
    """Subject id → the reported person ids that belong to it now."""
    subject_ids = list(subject_ids)
    found: dict[int, list[int]] = {s: [] for s in subject_ids}
    if subject_ids:
        for sid, pid in session.execute(
            select(SubjectMember.subject_id, SubjectMember.reported_person_id)
            .where(SubjectMember.subject_id.in_(subject_ids), SubjectMember.until.is_(None))
            .order_by(SubjectMember.reported_person_id)
        ):
            found[sid].append(pid)
    return found


def affected_reports(session: Session, subject_ids: Iterable[int]) -> list[int]:
    """Reports whose reported persons currently belong to any of these subjects: what triage must
    look at again when the subjects change (their prior reports, warnings and facts change)."""
    subject_ids = list(subject_ids)
    if not subject_ids:
        return []
    return sorted(
        set(
            session.execute(
                select(SubjectMember.report_id).where(
                    SubjectMember.subject_id.in_(subject_ids), SubjectMember.until.is_(None)
                )
            ).scalars()
        )
    )


def get_subject(session: Session, subject_id: int) -> Subject:
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise refusal(SubjectNotFound, "no subject {id}", id=subject_id)
    return subject


def new_subject(session: Session, actor: str, now) -> int:
    return session.execute(
        insert(Subject).values(created_at=now, created_by=actor).returning(Subject.id)
    ).scalar_one()


def open_membership(
    session: Session, subject_id: int, person_id: int, report_id: int, op_id: int, now
) -> None:
    session.execute(
        insert(SubjectMember).values(
            subject_id=subject_id,
            reported_person_id=person_id,
            report_id=report_id,
            since=now,
            started_by=op_id,
        )
    )


def move(session: Session, members: list[SubjectMember], to_subject: int, op_id: int, now) -> list[int]:
    for m in members:
        m.until, m.ended_by = now, op_id
        open_membership(session, to_subject, m.reported_person_id, m.report_id, op_id, now)
    session.flush()
    return [m.reported_person_id for m in members]


def retire_if_empty(session: Session, subject: Subject, into: int, now) -> None:
    if not current_members(session, subject.id):
        subject.retired_at, subject.merged_into_id = now, into
