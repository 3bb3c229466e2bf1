"""Subjects: everything known about one subject or review, as documents for the CLI and the dossier."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tiptriage.accounts.actor import require
from tiptriage.audit import service as audit
from tiptriage.i18n import refusal
from tiptriage.intake.models import Report
from tiptriage.subjects import linkage
from tiptriage.subjects.models import (
    Subject,
    SubjectLink,
    SubjectMember,
    SubjectOperation,
    SubjectRecord,
    SubjectReview,
)


def subject_document(session: Session, subject_id: int, *, actor: str, reason: str | None = None) -> dict | None:
    """Everything known about a subject: reports, identifiers, links with evidence, reviews, history
    (a consultation on record)."""
    require(actor, "view")
    subject = session.get(Subject, subject_id)
    if subject is None:
        return None
    audit.consulted(session, actor=actor, action="subjects.show", entity="subject", entity_ids=[subject_id],
                    reason=reason)
    rows = list(
        session.execute(
            select(SubjectMember).where(SubjectMember.subject_id == subject_id).order_by(SubjectMember.id)
        ).scalars()
    )
    current = [m for m in rows if m.until is None]
    person_ids = [m.reported_person_id for m in current]
    return {
        "id": subject.id,
        "created_at": subject.created_at,
        "created_by": subject.created_by,
        "retired_at": subject.retired_at,
        "merged_into": subject.merged_into_id,
        "reports": _reports_doc(session, current),
        "identifiers": _identifiers_doc(session, person_ids),
        "links": links_doc(session, person_ids),
        "reviews": _reviews_doc(session, subject_id),
        "operations": _operations_doc(session, rows),
        "history": [
            {
                "reported_person_id": m.reported_person_id,
                "report_id": m.report_id,
                "since": m.since,
                "until": m.until,
                "started_by": m.started_by,
                "ended_by": m.ended_by,
            }
            for m in rows
        ],
    }


def _operations_doc(session: Session, rows: list[SubjectMember]) -> list[dict]:
    """What shaped the subject, oldest first: links, joins, merges, confirmations, splits, relinks
    (who, when, why), so an analyst sees that the system fused two subjects and on what."""
    op_ids = {m.started_by for m in rows} | {m.ended_by for m in rows if m.ended_by is not None}
    ops = session.execute(
        select(SubjectOperation).where(SubjectOperation.id.in_(op_ids)).order_by(SubjectOperation.id)
    ).scalars()
    return [
        {"id": op.id, "kind": op.kind, "at": op.at, "actor": op.actor, "reason": op.reason, "details": op.details}
        for op in ops
    ]


def _reports_doc(session: Session, members: list[SubjectMember]) -> list[dict]:
    report_ids = sorted({m.report_id for m in members})
    reports = {r.id: r for r in session.execute(select(Report).where(Report.id.in_(report_ids))).scalars()}
    return [
        {
            "report_id": m.report_id,
            "source": reports[m.report_id].source,
            "external_id": reports[m.report_id].external_id,
            "incident_at": reports[m.report_id].incident_at,
            "reported_person_id": m.reported_person_id,
            "since": m.since,
        }
        for m in members
    ]


_SHOWN = (
    "given_word",
    "family",
    "dob_lo",
    "dob_hi",
    "dob_kind",
    "emails",
    "phones",
    "accounts",
    "screen_names",
    "devices",
    "addresses",
)


def _identifiers_doc(session: Session, person_ids: list[int]) -> dict:
    found: dict[str, set] = {}
    for rec in session.execute(
        select(SubjectRecord.features).where(SubjectRecord.reported_person_id.in_(person_ids))
    ).scalars():
        for column in _SHOWN:
            value = rec.get(column)
            for v in value if isinstance(value, list) else [value]:
                if v is not None:
                    found.setdefault(column, set()).add(v)
    return {column: sorted(values) for column, values in found.items()}


def links_doc(session: Session, person_ids: list[int]) -> list[dict]:
    """Every link decision made for these reported persons, with its evidence (why)."""
    links = session.execute(
        select(SubjectLink).where(SubjectLink.reported_person_id.in_(person_ids)).order_by(SubjectLink.id)
    ).scalars()
    return [
        {
            "id": link.id,
            "reported_person_id": link.reported_person_id,
            "decision": link.decision,
            "subject_id": link.subject_id,
            "candidate_subject_id": link.candidate_subject_id,
            "candidate_person_id": link.candidate_person_id,
            "match_weight": link.match_weight,
            "match_probability": link.match_probability,
            "model_version": link.model_version,
            "evidence": link.evidence,
            "at": link.at,
        }
        for link in links
    ]


def _reviews_doc(session: Session, subject_id: int) -> list[dict]:
    reviews = session.execute(
        select(SubjectReview)
        .where((SubjectReview.subject_id == subject_id) | (SubjectReview.candidate_subject_id == subject_id))
        .order_by(SubjectReview.id)
    ).scalars()
    return [review_doc(r) for r in reviews]


def view_review(session: Session, review_id: int, *, actor: str, reason: str | None = None) -> dict:
    """One possible match with both sides' evidence side by side — names, dates of birth,
    identifiers, addresses — as the analyst sees it: a consultation on record. LookupError when
    there is no such review."""
    require(actor, "view")
    review = session.get(SubjectReview, review_id)
    if review is None:
        raise refusal(LookupError, "no review with id {id}", id=review_id)
    doc = review_doc(review) | review_evidence(session, review)
    audit.consulted(session, actor=actor, action="subjects.review.view", entity="subject",
                    entity_ids=sorted({review.subject_id, review.candidate_subject_id}), reason=reason,
                    details={"review_id": review_id})
    return doc


def review_doc(review: SubjectReview) -> dict:
    return {
        "id": review.id,
        "kind": review.kind,
        "status": review.status,
        "reported_person_id": review.reported_person_id,
        "subject_id": review.subject_id,
        "candidate_subject_id": review.candidate_subject_id,
        "match_weight": review.match_weight,
        "link_id": review.link_id,
        "created_at": review.created_at,
        "decided_at": review.decided_at,
        "decided_by": review.decided_by,
        "reason": review.reason,
    }


def review_evidence(session: Session, review: SubjectReview) -> dict:
    """The per-field evidence side by side, the model that weighed it, from the link that opened
    the review, and where the pair is settled when the reports cannot settle it (`register_check`)."""
    link = session.get(SubjectLink, review.link_id) if review.link_id else None
    guards = link.evidence.get("guards", []) if link and link.evidence else []
    return {
        "evidence": link.evidence if link else None,
        "model_version": link.model_version if link else None,
        # Household-level evidence: one person or two (twins, siblings) is settled in the register.
        "register_check": linkage.register_check(guards),
    }
