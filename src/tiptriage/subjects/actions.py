"""Subjects: an analyst's merge and split, and the fast path's join: audited, reversible, and each
queues the affected reports for re-triage.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tiptriage.accounts.actor import require
from tiptriage.audit import service as audit
from tiptriage.db import utcnow
from tiptriage.i18n import refusal
from tiptriage.subjects.errors import SubjectError, require_reason
from tiptriage.subjects.membership import (
    affected_reports,
    current_members,
    get_subject,
    move,
    new_subject,
    record_operation,
)
from tiptriage.subjects.models import Subject, SubjectMember, SubjectOperation, SubjectReview
from tiptriage.subjects.retriage import queue_retriage


@dataclass(frozen=True)
class ActionResult:
    operation_id: int
    subject_ids: tuple[int, ...]  # the subjects as they are after the action
    moved_person_ids: tuple[int, ...]
    affected_report_ids: tuple[int, ...]  # queued for re-triage

    def as_dict(self) -> dict:
        return {"operation": self.operation_id, "subjects": list(self.subject_ids),
                "moved_persons": list(self.moved_person_ids), "retriaged_reports": list(self.affected_report_ids)}


def merge(
    session: Session,
    subject_id: int,
    other_id: int,
    *,
    actor: str,
    reason: str | None,
    review_id: int | None = None,
) -> ActionResult:
    """Move every reported person of `other_id` into `subject_id`; `other_id` is retired and points
    at `subject_id`. Undone by `split` with the moved persons, which brings `other_id` back."""
    require(actor, "change_subjects")
    reason = require_reason(reason)
    if subject_id == other_id:
        raise refusal(SubjectError, "a subject cannot be merged with itself")
    return fuse(session, subject_id, other_id, kind="merge", actor=actor, reason=reason, review_id=review_id)


def fuse(
    session: Session, subject_id: int, other_id: int, *, kind: str, actor: str, reason: str, review_id=None
) -> ActionResult:
    """One subject from two, as an analyst's merge or the fast path's join: audited, re-triaged."""
    target, other = get_subject(session, subject_id), get_subject(session, other_id)
    if target.retired_at is not None or other.retired_at is not None:
        raise refusal(SubjectError, "only active subjects can be merged")
    affected = affected_reports(session, [subject_id, other_id])
    op = record_operation(session, kind, actor, reason, {"into": subject_id, "from": other_id, "review": review_id})
    now = utcnow()
    moved = move(session, current_members(session, other_id), subject_id, op.id, now)
    other.retired_at, other.merged_into_id = now, subject_id
    _supersede_reviews(session, [subject_id, other_id], review_id)
    audit.record(
        session,
        actor=actor,
        action=f"subjects.{kind}",
        entity="subject",
        entity_ids=[subject_id, other_id],
        reason=reason,
        details={"operation": op.id, "moved_persons": moved, "review": review_id},
    )
    return ActionResult(op.id, (subject_id,), tuple(moved), tuple(queue_retriage(session, affected, op.id)))


def split(
    session: Session, subject_id: int, person_ids: Iterable[int], *, actor: str, reason: str | None
) -> ActionResult:
    """Move the given reported persons out of `subject_id` into a subject of their own.

    When exactly these persons came in together from one subject that a merge retired, that subject
    is brought back (with its id, so what hangs on it still fits); otherwise a new subject is made.
    """
    require(actor, "change_subjects")
    reason = require_reason(reason)
    get_subject(session, subject_id)
    person_ids = sorted(set(person_ids))
    members = [m for m in current_members(session, subject_id) if m.reported_person_id in person_ids]
    if len(members) != len(person_ids) or not members:
        raise refusal(SubjectError, "not all of {persons} belong to subject {id}",
                      persons=", ".join(map(str, person_ids)), id=subject_id)
    if len(members) == len(current_members(session, subject_id)):
        raise refusal(SubjectError, "a split must leave at least one reported person in the subject")
    affected = affected_reports(session, [subject_id])
    now = utcnow()
    restored = _restorable(session, subject_id, person_ids)
    op = record_operation(
        session, "split", actor, reason, {"from": subject_id, "persons": person_ids, "restored": restored}
    )
    if restored is not None:
        old = session.get(Subject, restored)
        old.retired_at, old.merged_into_id = None, None
        target = restored
    else:
        target = new_subject(session, actor, now)
    moved = move(session, members, target, op.id, now)
    audit.record(
        session,
        actor=actor,
        action="subjects.split",
        entity="subject",
        entity_ids=[subject_id, target],
        reason=reason,
        details={"operation": op.id, "moved_persons": moved, "restored": restored},
    )
    return ActionResult(
        op.id, (subject_id, target), tuple(moved), tuple(queue_retriage(session, affected, op.id))
    )


def _restorable(session: Session, subject_id: int, person_ids: list[int]) -> int | None:
    """The retired subject these persons all left by one merge or join into `subject_id`, if they are
    exactly the persons that merge moved."""
    rows = session.execute(
        select(SubjectMember.reported_person_id, SubjectMember.started_by).where(
            SubjectMember.subject_id == subject_id,
            SubjectMember.until.is_(None),
            SubjectMember.reported_person_id.in_(person_ids),
        )
    ).all()
    ops = {op_id for _, op_id in rows}
    if len(ops) != 1:
        return None
    op = session.get(SubjectOperation, ops.pop())
    if op.kind not in ("merge", "join", "confirm") or op.details.get("into") != subject_id:
        return None
    moved_by_op = set(
        session.execute(
            select(SubjectMember.reported_person_id).where(
                SubjectMember.started_by == op.id, SubjectMember.subject_id == subject_id
            )
        ).scalars()
    )
    old = session.get(Subject, op.details["from"])
    if moved_by_op != set(person_ids) or old is None or old.merged_into_id != subject_id:
        return None
    return old.id


def _supersede_reviews(session: Session, subject_ids: list[int], except_id: int | None) -> None:
    """Open reviews between subjects that are now one are moot."""
    session.execute(
        update(SubjectReview)
        .where(
            SubjectReview.status == "open",
            SubjectReview.subject_id.in_(subject_ids),
            SubjectReview.candidate_subject_id.in_(subject_ids),
            SubjectReview.id != (except_id or -1),
        )
        .values(status="superseded")
    )
