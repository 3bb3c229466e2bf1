"""Subjects: the reviews the fast path opens, and an analyst confirming or rejecting them."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from tiptriage.accounts.actor import require
from tiptriage.audit import service as audit
from tiptriage.db import utcnow
from tiptriage.i18n import Words, refusal
from tiptriage.subjects.actions import ActionResult, merge
from tiptriage.subjects.errors import SubjectError, SubjectNotFound, require_reason
from tiptriage.subjects.membership import (
    affected_reports,
    current_members,
    current_subject,
    get_subject,
    move,
    record_operation,
    retire_if_empty,
)
from tiptriage.subjects.models import SubjectReview
from tiptriage.subjects.retriage import queue_retriage


def open_review(
    session: Session,
    kind: str,
    person_id: int | None,
    subject_id: int,
    other: int,
    link_id: int,
    weight: float,
    now,
) -> int:
    return session.execute(
        insert(SubjectReview)
        .values(
            kind=kind,
            status="open",
            reported_person_id=person_id,
            subject_id=subject_id,
            candidate_subject_id=other,
            link_id=link_id,
            match_weight=weight,
            created_at=now,
        )
        .returning(SubjectReview.id)
    ).scalar_one()


def _open_review_row(session: Session, review_id: int) -> SubjectReview:
    review = session.get(SubjectReview, review_id)
    if review is None:
        raise refusal(SubjectNotFound, "no review {id}", id=review_id)
    if review.status != "open":
        raise refusal(SubjectError, "review {id} is already {status}", id=review_id, status=Words(review.status))
    return review


def confirm_review(session: Session, review_id: int, *, actor: str, reason: str | None) -> ActionResult:
    """The possible match is the same person: the reported person (or the whole subject) joins the
    candidate subject."""
    require(actor, "change_subjects")
    reason = require_reason(reason)
    review = _open_review_row(session, review_id)
    if review.kind == "possible_same_subject":
        # Either side may have been merged into another subject since the review was opened.
        subject_id, candidate_id = _live(session, review.subject_id), _live(session, review.candidate_subject_id)
        if subject_id == candidate_id:
            raise SubjectError(
                f"review {review_id} is moot: subjects {review.subject_id} and {review.candidate_subject_id} "
                f"are one subject already ({subject_id})"
            )
        result = merge(session, subject_id, candidate_id, actor=actor, reason=reason, review_id=review.id)
    else:
        result = _move_person(session, review, actor=actor, reason=reason)
    review.status, review.decided_at, review.decided_by, review.reason = "confirmed", utcnow(), actor, reason
    review.operation_id = result.operation_id
    audit.record(
        session,
        actor=actor,
        action="subjects.review.confirm",
        entity="subject_review",
        entity_ids=[review.id],
        reason=reason,
        details={"operation": result.operation_id},
    )
    return result


def _move_person(session: Session, review: SubjectReview, *, actor: str, reason: str) -> ActionResult:
    current = current_subject(session, review.reported_person_id)
    target = get_subject(session, _live(session, review.candidate_subject_id))  # it may have been merged meanwhile
    affected = affected_reports(session, [current, target.id])
    op = record_operation(
        session, "confirm", actor, reason, {"review": review.id, "into": target.id, "from": current}
    )
    now = utcnow()
    members = [
        m for m in current_members(session, current) if m.reported_person_id == review.reported_person_id
    ]
    moved = move(session, members, target.id, op.id, now)
    # The provisional subject is retired like a merged one, so `split` can undo this confirmation.
    retire_if_empty(session, get_subject(session, current), target.id, now)
    return ActionResult(op.id, (target.id,), tuple(moved), tuple(queue_retriage(session, affected, op.id)))


def _live(session: Session, subject_id: int) -> int:
    """The subject as it is now: a merged subject's successor, followed to the end."""
    subject = get_subject(session, subject_id)
    while subject.merged_into_id is not None:
        subject = get_subject(session, subject.merged_into_id)
    return subject.id


def reject_review(session: Session, review_id: int, *, actor: str, reason: str | None) -> ActionResult:
    """Not the same person: recorded, so relinking will not propose it again. The reports on both
    sides are triaged again: an open review kept them from a warning (a possible re-report)."""
    require(actor, "change_subjects")
    reason = require_reason(reason)
    review = _open_review_row(session, review_id)
    affected = affected_reports(session, [review.subject_id, review.candidate_subject_id])
    op = record_operation(session, "reject", actor, reason, {"review": review.id})
    review.status, review.decided_at, review.decided_by, review.reason = "rejected", utcnow(), actor, reason
    review.operation_id = op.id
    audit.record(
        session,
        actor=actor,
        action="subjects.review.reject",
        entity="subject_review",
        entity_ids=[review.id],
        reason=reason,
        details={"operation": op.id},
    )
    queued = queue_retriage(session, affected, op.id)
    return ActionResult(op.id, (review.subject_id, review.candidate_subject_id), (), tuple(queued))


def open_reviews(session: Session, *, limit: int = 50) -> list[SubjectReview]:
    return list(
        session.execute(
            select(SubjectReview)
            .where(SubjectReview.status == "open")
            .order_by(SubjectReview.match_weight.desc(), SubjectReview.id)
            .limit(limit)
        ).scalars()
    )
