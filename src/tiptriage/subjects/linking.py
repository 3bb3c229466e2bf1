"""Subjects: link each new reported person to a subject (the fast path, one person at a time).

- `resolve_reports(session, report_ids, *, actor)` links every reported person (role "reported")
  of the given reports: indexed keys → candidates → the active model's weights (`fastpath`).
- `link_reports` is what this path and `bulk.resolve_reports` (an ingest batch) share.
Batch training and relinking live in `batch.py`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import insert, or_, select, text
from sqlalchemy.orm import Session

from tiptriage.audit import service as audit
from tiptriage.db import chunks, utcnow
from tiptriage.intake.models import AddressRow, IdentifierRow, IpEventRow, Report, ReportedPersonRow
from tiptriage.subjects import features, linkage
from tiptriage.subjects.actions import fuse
from tiptriage.subjects.fastpath import TOTAL, Choice, Decision, decide
from tiptriage.subjects.membership import (
    SUBJECT_ROLE,
    new_subject,
    open_membership,
    record_operation,
    subject_of_persons,
)
from tiptriage.subjects.model_store import active_model
from tiptriage.subjects.models import (
    ANALYST_OPERATIONS,
    SubjectKey,
    SubjectLink,
    SubjectMember,
    SubjectOperation,
    SubjectRecord,
    SubjectReview,
)


@dataclass(frozen=True)
class Resolution:
    reported_person_id: int
    report_id: int
    subject_id: int
    decision: str  # linked, review, new (see models.DECISIONS)
    match_weight: float | None
    candidate_subject_id: int | None
    link_id: int
    review_ids: tuple[int, ...] = ()


def resolve_reports(session: Session, report_ids: Iterable[int], *, actor: str) -> list[Resolution]:
    """Link every reported person of the given reports to a subject; idempotent per person.

    Runs in the caller's transaction (flushed, not committed). Returns one Resolution per reported
    person that was linked now; persons already linked are left as they are. One person at a time,
    each look-up and write a statement of its own: the path for one new report (an ingest batch
    goes through `bulk.resolve_reports`, which decides the same).
    """
    return link_reports(session, report_ids, actor, _resolve_each)


def _resolve_each(session: Session, model: linkage.Model, op: SubjectOperation, persons: list) -> list[Resolution]:
    return [_resolve_person(session, model, op, report, person) for report, person in persons]


def link_reports(session: Session, report_ids: Iterable[int], actor: str, resolve) -> list[Resolution]:
    """What both linking paths share: the reports' persons not linked yet, one operation, the audit
    record; `resolve(session, model, op, [(report, person), ...])` links them in order."""
    report_ids = sorted(set(report_ids))
    if not report_ids:
        return []
    model = active_model(session)
    op = record_operation(
        session, "link", actor, None, {"reports": len(report_ids), "model_version": model.version}
    )
    persons = stored_persons(session, report_ids)
    linked = subject_of_persons(session, [person.id for _, person in persons])
    done = resolve(session, model, op, [(r, p) for r, p in persons if p.id not in linked])
    audit.record(
        session,
        actor=actor,
        action="subjects.resolve",
        entity="report",
        entity_ids=report_ids,
        details={
            "operation": op.id,
            "model_version": model.version,
            "decisions": dict(Counter(r.decision for r in done)),
        },
    )
    return done


@dataclass
class StoredPerson:
    """A reported person as linkage reads it (what `features.domain_person` takes), read with plain
    queries: through the ORM, loading an ingest batch's persons cost a third of linking them."""

    id: int
    report_id: int
    ref: str
    role: str
    given_name: str | None
    family_name: str | None
    date_of_birth: object
    age: int | None
    estimated_country: str | None
    identifiers: list = field(default_factory=list)
    addresses: list = field(default_factory=list)
    ip_events: list = field(default_factory=list)


def stored_persons(session: Session, report_ids: list[int]) -> list[tuple]:
    """(report, person) for every reported person (role "reported") of the reports, in report and
    person order; a report as a row with its id, incident time and reporter."""
    reports, persons = {}, []
    table = ReportedPersonRow.__table__
    for part in chunks(report_ids):
        reports |= {r.id: r for r in session.execute(
            select(Report.id, Report.incident_at, Report.reporter).where(Report.id.in_(part)))}
        persons += [
            StoredPerson(**{c: row._mapping[c] for c in _PERSON_COLUMNS})
            for row in session.execute(
                select(table).where(table.c.report_id.in_(part), table.c.role == SUBJECT_ROLE)
                .order_by(table.c.report_id, table.c.id)
            )
        ]
    by_id = {p.id: p for p in persons}
    for model, attribute in ((IdentifierRow, "identifiers"), (AddressRow, "addresses"), (IpEventRow, "ip_events")):
        for part in chunks(list(by_id)):
            for row in session.execute(
                select(model.__table__).where(model.person_id.in_(part)).order_by(model.id)
            ):
                getattr(by_id[row.person_id], attribute).append(row)
    return [(reports[p.report_id], p) for p in persons]


_PERSON_COLUMNS = ("id", "report_id", "ref", "role", "given_name", "family_name", "date_of_birth", "age",
                   "estimated_country")


def _resolve_person(
    session: Session, model: linkage.Model, op: SubjectOperation, report, person: StoredPerson
) -> Resolution:
    normalised = features.normalised(person, report)
    rec = features.record(person.id, normalised)
    ips = features.public_ips(normalised)
    decision = decide(session, model, rec, ips)
    choice = decision.choice
    joins = []
    for sid, weight in choice.joins:
        if analyst_decided(session, [choice.subject_id, sid]):
            choice.reviews.append(("possible_same_subject", sid, weight))
        else:
            joins.append((sid, weight))
    resolution = store_resolution(session, model, op, report.id, person.id, decision)
    index_record(session, report.id, rec, ips)
    for sid, weight in joins:
        join(session, choice.subject_id, sid, person.id, weight, op.actor)
    return resolution


def analyst_decided(session: Session, subject_ids: list[int]) -> bool:
    """Whether an analyst shaped these subjects (merged, confirmed, split or rejected a review of
    them): the fast path never fuses across what a person decided; it asks instead."""
    analyst_ops = select(SubjectOperation.id).where(SubjectOperation.kind.in_(ANALYST_OPERATIONS))
    shaped = session.execute(
        select(SubjectMember.id)
        .where(SubjectMember.subject_id.in_(subject_ids), SubjectMember.started_by.in_(analyst_ops))
        .limit(1)
    ).first()
    rejected = session.execute(
        select(SubjectReview.id)
        .where(
            SubjectReview.status == "rejected",
            or_(SubjectReview.subject_id.in_(subject_ids), SubjectReview.candidate_subject_id.in_(subject_ids)),
        )
        .limit(1)
    ).first()
    return shaped is not None or rejected is not None


def join(session: Session, subject_id: int, other_id: int, person_id: int, weight: float, actor: str) -> None:
    """Fuse `other_id` into `subject_id` because one new record links both; audited, undone by split."""
    reason = (
        f"reported person {person_id} links to both subjects (match weight {weight:.1f} to subject {other_id})"
    )
    fuse(session, subject_id, other_id, kind="join", actor=actor, reason=reason)


def store_resolution(
    session: Session,
    model: linkage.Model,
    op: SubjectOperation,
    report_id: int,
    person_id: int,
    decision: Decision,
) -> Resolution:
    choice = decision.choice
    now = utcnow()
    subject_id = choice.subject_id or new_subject(session, op.actor, now)
    open_membership(session, subject_id, person_id, report_id, op.id, now)
    link_id, review_ids = record_link(session, model, op, person_id, subject_id, decision, now)
    weight, candidate = choice.best[:2] if choice.best is not None else (None, None)
    return Resolution(
        person_id,
        report_id,
        subject_id,
        choice.decision,
        weight,
        candidate.subject_id if candidate else None,
        link_id,
        review_ids,
    )


def record_link(
    session: Session,
    model: linkage.Model,
    op: SubjectOperation,
    person_id: int,
    subject_id: int,
    decision: Decision,
    now,
) -> tuple[int, tuple[int, ...]]:
    """The link decision with its evidence (why), and the reviews it opens: (link id, review ids)."""
    row = link_row(model, op, person_id, subject_id, decision, now)
    link_id = session.execute(insert(SubjectLink).values(**row).returning(SubjectLink.id)).scalar_one()
    review_ids = tuple(
        session.execute(insert(SubjectReview).values(**r, link_id=link_id).returning(SubjectReview.id)).scalar_one()
        for r in review_rows(person_id, subject_id, decision.choice, now)
    )
    return link_id, review_ids


def link_row(model: linkage.Model, op: SubjectOperation, person_id: int, subject_id: int, decision: Decision, now) -> dict:
    """The `subject_links` row of a decision, with its evidence (per-field levels and weights)."""
    rec, choice, tf, shared = decision.record, decision.choice, decision.tf, decision.shared_ips
    evidence, weight, candidate = {"fields": [], "guards": []}, None, None
    if choice.best is not None:
        weight, candidate = choice.best[0], choice.best[1]
        evidence = linkage.score(model, rec, features.drop_ips(candidate.record, shared), tf).as_dict()
    evidence["shared_ips_ignored"] = sorted(shared)
    return {
        "reported_person_id": person_id,
        "subject_id": subject_id,
        "decision": choice.decision,
        "candidate_subject_id": candidate.subject_id if candidate else None,
        "candidate_person_id": candidate.person_id if candidate else None,
        "match_weight": weight,
        "match_probability": linkage.probability(weight) if weight is not None else None,
        "model_version": model.version,
        "evidence": evidence,
        "at": now,
        "operation_id": op.id,
    }


def review_rows(person_id: int, subject_id: int, choice: Choice, now) -> list[dict]:
    """The open reviews a decision asks for (their link id is added when the link is stored)."""
    return [
        {
            "kind": kind,
            "status": "open",
            "reported_person_id": person_id if kind == "possible_match" else None,
            "subject_id": subject_id,
            "candidate_subject_id": other,
            "match_weight": w,
            "created_at": now,
        }
        for kind, other, w in choice.reviews
    ]


def index_record(session: Session, report_id: int, rec: dict, ips: set[str]) -> None:
    """Make the record findable: features, keys (and `ip:` keys for fan-out), term counts."""
    person_id = rec["unique_id"]
    session.execute(
        insert(SubjectRecord).values(reported_person_id=person_id, report_id=report_id, features=rec)
    )
    keys = features.index_keys(rec, ips)
    if keys:
        session.execute(
            insert(SubjectKey), [{"key": k, "reported_person_id": person_id} for k in sorted(keys)]
        )
    count_terms(session, rec)


def count_terms(session: Session, rec: dict, before: dict | None = None) -> None:
    """Count the record's names for term frequencies: each value it did not have `before`, and the
    record among those with any value when it had none."""
    before = before or {}
    for column in linkage.TF_COLUMNS:
        if rec[column] is not None and rec[column] != before.get(column):
            _count(session, column, rec[column])
            if before.get(column) is None:
                _count(session, column, TOTAL)


def _count(session: Session, column: str, value: str) -> None:
    # An upsert (SQLite 3.24+ and PostgreSQL): concurrent ingests may count the same name.
    session.execute(
        text(
            "INSERT INTO subject_term_counts (field, value, n) VALUES (:f, :v, 1) "
            "ON CONFLICT (field, value) DO UPDATE SET n = subject_term_counts.n + 1"
        ),
        {"f": column, "v": value},
    )
