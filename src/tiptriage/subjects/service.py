"""Subjects: link each new reported person to a subject, and the analyst's actions on subjects.

- `resolve_reports(session, report_ids, *, actor)` links every reported person (role "reported")
  of the given reports: the fast path (indexed keys → candidates → the active model's weights).
- `confirm_review`, `reject_review`, `merge`, `split`: audited, reversible (membership rows are
  closed, never overwritten), and each queues the affected reports for re-triage.
- `affected_reports(session, subject_ids)`, `pending_retriage`, `mark_retriaged`: for triage.
- `search` (audited with its reason), `subject_document` (everything about one subject).
Batch training and relinking live in `batch.py`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, insert, or_, select, text, update
from sqlalchemy.orm import Session

from tiptriage.audit import service as audit
from tiptriage.db import chunks, utcnow
from tiptriage.i18n import refusal
from tiptriage.intake.models import AddressRow, IdentifierRow, IpEventRow, Report, ReportedPersonRow
from tiptriage.subjects import features, linkage
from tiptriage.subjects.models import (
    ANALYST_OPERATIONS,
    LinkageModel,
    Subject,
    SubjectKey,
    SubjectLink,
    SubjectMember,
    SubjectOperation,
    SubjectRecord,
    SubjectRetriage,
    SubjectReview,
    SubjectTermCount,
)

SUBJECT_ROLE = "reported"  # recipients and victims are not subjects of triage and stay out of clusters
TOTAL = "*"  # the term-count row holding the number of records with any value


class SubjectError(ValueError):
    """An analyst action that cannot be carried out as asked (unknown id, empty reason, ...)."""


class SubjectNotFound(SubjectError, LookupError):
    """The subject, review or run named does not exist."""


# ---------------------------------------------------------------------------------------------
# The model in use


def active_model(session: Session) -> linkage.Model:
    """The active trained model, or the packaged default when none was trained here."""
    row = session.execute(select(LinkageModel).where(LinkageModel.active.is_(True))).scalar_one_or_none()
    return linkage.load(row.document if row else linkage.packaged_document())


def save_model(session: Session, document: dict, *, actor: str, reason: str | None = None) -> LinkageModel:
    """Store a model version and make it the active one (audited)."""
    linkage.compile_model(document)  # refuse a document the fast path could not use
    existing = session.execute(
        select(LinkageModel).where(LinkageModel.version == document["version"])
    ).scalar_one_or_none()
    session.execute(update(LinkageModel).values(active=False))
    if existing is None:
        existing = LinkageModel(
            version=document["version"], created_at=utcnow(), created_by=actor, active=True, document=document
        )
        session.add(existing)
    existing.active = True
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="subjects.model",
        entity="subject_model",
        entity_ids=[existing.id],
        reason=reason,
        details={"version": document["version"], "trained": document.get("trained")},
    )
    return existing


# ---------------------------------------------------------------------------------------------
# Linking new reports: the fast path


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


@dataclass
class _Candidate:
    person_id: int
    subject_id: int
    record: dict


@dataclass
class _Choice:
    subject_id: int | None
    decision: str
    best: tuple[float, _Candidate] | None
    reviews: list[tuple[str, int, float]] = field(default_factory=list)  # (kind, subject id, weight)
    joins: list[tuple[int, float]] = field(default_factory=list)  # other subjects it links: (id, weight)


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


@dataclass
class Decision:
    """What the fast path decided for one record, before anything is stored."""

    record: dict  # as scored: tokens of widely shared addresses dropped
    choice: _Choice
    tf: linkage.TermFrequency
    shared_ips: set[str]


def decide(session: Session, model: linkage.Model, rec: dict, ips: set[str]) -> Decision:
    """Candidates through the key index, scored with the model's weights; reads only. The record's
    own person is never its candidate (it is indexed already when linkage looks again)."""
    return decide_in(StoredRegistry(session), model, rec, ips)


class StoredRegistry:
    """The registry as the fast path reads it, one statement per look-up (`bulk.BatchRegistry`
    answers the same from what it loaded for a whole batch)."""

    def __init__(self, session: Session):
        self.session = session

    def shared_ips(self, limit: int, ips: set[str]) -> set[str]:
        return shared_ips(self.session, limit, ips)

    def term_counts(self, wanted: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        return term_counts(self.session, wanted)

    def candidates(self, keys: list[str], cap: int) -> list[_Candidate]:
        return _candidates(self.session, keys, cap)


def decide_in(registry, model: linkage.Model, rec: dict, ips: set[str]) -> Decision:
    """`decide` against a registry (StoredRegistry, or bulk.BatchRegistry for an ingest batch)."""
    shared = registry.shared_ips(model.max_ip_fanout, ips)
    scored_rec = features.drop_ips(rec, shared)
    tf = term_frequency(model, registry.term_counts(tf_values(rec)))
    # A home connection finds candidates too, unless the fan-out guard found it shared.
    ip_keys = [features.IP_KEY_PREFIX + ip for ip in sorted(ips - shared)]
    candidates = [c for c in registry.candidates([*(rec["keys"] or ()), *ip_keys], model.max_key_candidates)
                  if c.person_id != rec["unique_id"]]
    return Decision(scored_rec, _choose(model, scored_rec, candidates, tf, shared), tf, shared)


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
    resolution = _store_resolution(session, model, op, report.id, person.id, decision)
    index_record(session, report.id, rec, ips)
    for sid, weight in joins:
        _join(session, choice.subject_id, sid, person.id, weight, op.actor)
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


def _join(session: Session, subject_id: int, other_id: int, person_id: int, weight: float, actor: str) -> None:
    """Fuse `other_id` into `subject_id` because one new record links both; audited, undone by split."""
    reason = (
        f"reported person {person_id} links to both subjects (match weight {weight:.1f} to subject {other_id})"
    )
    fuse(session, subject_id, other_id, kind="join", actor=actor, reason=reason)


def shared_ips(session: Session, limit: int, ips: Iterable[str] | None = None) -> set[str]:
    """Addresses already seen with `limit` or more subjects: a NAT, wifi or CGNAT egress that many
    people share, whatever range tables say. Their sightings count as no evidence and find no one.
    Subjects, not records: one man reported four times from home keeps his home connection."""
    query = (
        select(SubjectKey.key, func.count(SubjectMember.subject_id.distinct()))
        .join(
            SubjectMember,
            (SubjectMember.reported_person_id == SubjectKey.reported_person_id) & SubjectMember.until.is_(None),
        )
        .group_by(SubjectKey.key)
        .having(func.count(SubjectMember.subject_id.distinct()) >= limit)
    )
    if ips is None:
        query = query.where(SubjectKey.key.like(features.IP_KEY_PREFIX + "%"))
    elif not ips:
        return set()
    else:
        query = query.where(SubjectKey.key.in_([features.IP_KEY_PREFIX + ip for ip in ips]))
    return {key[len(features.IP_KEY_PREFIX) :] for key, _ in session.execute(query)}


def tf_values(rec: dict) -> list[tuple[str, str]]:
    """The (column, value) pairs whose frequency adjusts a record's name weights."""
    return [(c, rec[c]) for c in linkage.TF_COLUMNS if rec[c] is not None]


def term_counts(session: Session, wanted: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """How many records have each value, and any value of its column (TOTAL)."""
    if not wanted:
        return {}
    condition = or_(*[(SubjectTermCount.field == c) & SubjectTermCount.value.in_([v, TOTAL]) for c, v in wanted])
    return {
        (f, v): n
        for f, v, n in session.execute(
            select(SubjectTermCount.field, SubjectTermCount.value, SubjectTermCount.n).where(condition)
        )
    }


def term_frequency(model: linkage.Model, counts: dict[tuple[str, str], int]) -> linkage.TermFrequency:
    """Share of records with the same value, counting this record (as Splink's batch TF would),
    shrunk towards the model's u probability of an exact match while the registry is small."""
    base = model.exact_u

    def tf(column: str, value: str) -> float | None:
        total = counts.get((column, TOTAL), 0) + 1
        seen = counts.get((column, value), 0) + 1
        return linkage.shrunk_share(seen, total, base[column])

    return tf


def _candidates(session: Session, keys: Iterable[str], cap: int) -> list[_Candidate]:
    """Records sharing a key, through the key index; at most `cap` per key (the newest), so a key
    that half the registry shares costs no more at a million subjects than at ten thousand.

    Plain SQL: the statement's shape changes with the number of keys, and building it through the
    ORM for every reported person would cost more than running it."""
    keys = sorted(set(keys))
    if not keys:
        return []
    parts = " UNION ALL ".join(
        f"SELECT reported_person_id FROM (SELECT reported_person_id FROM subject_keys WHERE key = :k{i} "
        f"ORDER BY reported_person_id DESC LIMIT :cap) AS k{i}"
        for i in range(len(keys))
    )
    sql = (
        "SELECT r.reported_person_id, r.features, m.subject_id FROM subject_records r "
        "JOIN subject_members m ON m.reported_person_id = r.reported_person_id AND m.until IS NULL "
        f"WHERE r.reported_person_id IN ({parts}) ORDER BY r.reported_person_id"
    )
    params = {f"k{i}": k for i, k in enumerate(keys)} | {"cap": cap}
    rows = session.execute(text(sql), params).all()
    return [_Candidate(pid, sid, rec if isinstance(rec, dict) else json.loads(rec)) for pid, rec, sid in rows]


def _choose(model: linkage.Model, rec: dict, candidates: list[_Candidate], tf, shared: set[str]) -> _Choice:
    """Subject-level decision with the chaining guard: a subject is linked only when its best pair
    links and none of its compared members conflicts with the new record, unless one of them shares
    a mailbox, phone number or user id with it (the conflict is then a nickname or a typo the tables
    do not know, not a second person: that member is the record's person). A record that links two
    subjects links to the best and names the others as joins when an identifier of one person
    ties it to them too (the caller fuses them unless an analyst kept them apart): a name and a
    birth year link a report, but never fuse two histories (namesakes). The rest go to an analyst."""
    best: dict[int, tuple[float, _Candidate]] = {}
    blocked: set[int] = set()
    vouched: set[int] = set()  # a member shares a mailbox, phone number or user id with the record
    for cand in candidates:
        weight, guards = linkage.quick_score(model, rec, features.drop_ips(cand.record, shared), tf)
        if {"given_name_conflict", "birth_conflict"} & set(guards):
            blocked.add(cand.subject_id)
        if linkage.unique_identifier_agrees(rec, cand.record):
            vouched.add(cand.subject_id)
        if cand.subject_id not in best or weight > best[cand.subject_id][0]:
            best[cand.subject_id] = (weight, cand, guards)
    linkable = sorted(
        (
            (w, c)
            for sid, (w, c, g) in best.items()
            if w >= model.thresholds.link and not g and (sid not in blocked or sid in vouched)
        ),
        key=lambda x: (-x[0], x[1].subject_id),
    )
    reviewable = sorted(
        ((w, c) for sid, (w, c, g) in best.items() if w >= model.thresholds.review),
        key=lambda x: (-x[0], x[1].subject_id),
    )
    if linkable:
        chosen = linkable[0]
        joins = [
            (c.subject_id, w)
            for w, c in linkable[1:]
            if linkage.fuses(w, linkage.one_persons_identifier_agrees(rec, c.record))
        ]
        joined = {sid for sid, _ in joins} | {chosen[1].subject_id}
        others = [("possible_same_subject", c.subject_id, w) for w, c in reviewable if c.subject_id not in joined]
        return _Choice(chosen[1].subject_id, "linked", chosen, others, joins)
    if reviewable:
        return _Choice(
            None, "review", reviewable[0], [("possible_match", c.subject_id, w) for w, c in reviewable[:3]]
        )
    top = max(((w, c) for w, c, g in best.values()), key=lambda x: x[0], default=None)
    return _Choice(None, "new", top)


def _store_resolution(
    session: Session,
    model: linkage.Model,
    op: SubjectOperation,
    report_id: int,
    person_id: int,
    decision: Decision,
) -> Resolution:
    choice = decision.choice
    now = utcnow()
    subject_id = choice.subject_id or _new_subject(session, op.actor, now)
    _open_membership(session, subject_id, person_id, report_id, op.id, now)
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


def review_rows(person_id: int, subject_id: int, choice: _Choice, now) -> list[dict]:
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


def _new_subject(session: Session, actor: str, now) -> int:
    return session.execute(
        insert(Subject).values(created_at=now, created_by=actor).returning(Subject.id)
    ).scalar_one()


def _open_membership(
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


def _open_review(
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


def record_operation(
    session: Session, kind: str, actor: str, reason: str | None, details: dict
) -> SubjectOperation:
    op = SubjectOperation(kind=kind, at=utcnow(), actor=actor, reason=reason, details=details)
    session.add(op)
    session.flush()
    return op


# ---------------------------------------------------------------------------------------------
# Membership queries


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


# ---------------------------------------------------------------------------------------------
# Analyst actions


@dataclass(frozen=True)
class ActionResult:
    operation_id: int
    subject_ids: tuple[int, ...]  # the subjects as they are after the action
    moved_person_ids: tuple[int, ...]
    affected_report_ids: tuple[int, ...]  # queued for re-triage


def _require_reason(reason: str | None) -> str:
    if not reason or not reason.strip():
        raise SubjectError("a justification is required")
    return reason.strip()


def _subject(session: Session, subject_id: int) -> Subject:
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise refusal(SubjectNotFound, "no subject {id}", id=subject_id)
    return subject


def _move(session: Session, members: list[SubjectMember], to_subject: int, op_id: int, now) -> list[int]:
    for m in members:
        m.until, m.ended_by = now, op_id
        _open_membership(session, to_subject, m.reported_person_id, m.report_id, op_id, now)
    session.flush()
    return [m.reported_person_id for m in members]


def _retire_if_empty(session: Session, subject: Subject, into: int, now) -> None:
    if not current_members(session, subject.id):
        subject.retired_at, subject.merged_into_id = now, into


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
    reason = _require_reason(reason)
    if subject_id == other_id:
        raise SubjectError("a subject cannot be merged with itself")
    return fuse(session, subject_id, other_id, kind="merge", actor=actor, reason=reason, review_id=review_id)


def fuse(
    session: Session, subject_id: int, other_id: int, *, kind: str, actor: str, reason: str, review_id=None
) -> ActionResult:
    """One subject from two, as an analyst's merge or the fast path's join: audited, re-triaged."""
    target, other = _subject(session, subject_id), _subject(session, other_id)
    if target.retired_at is not None or other.retired_at is not None:
        raise SubjectError("only active subjects can be merged")
    affected = affected_reports(session, [subject_id, other_id])
    op = record_operation(session, kind, actor, reason, {"into": subject_id, "from": other_id, "review": review_id})
    now = utcnow()
    moved = _move(session, current_members(session, other_id), subject_id, op.id, now)
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
    reason = _require_reason(reason)
    _subject(session, subject_id)
    person_ids = sorted(set(person_ids))
    members = [m for m in current_members(session, subject_id) if m.reported_person_id in person_ids]
    if len(members) != len(person_ids) or not members:
        raise SubjectError(f"not all of {person_ids} belong to subject {subject_id}")
    if len(members) == len(current_members(session, subject_id)):
        raise SubjectError("a split must leave at least one reported person in the subject")
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
        target = _new_subject(session, actor, now)
    moved = _move(session, members, target, op.id, now)
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


def _open_review_row(session: Session, review_id: int) -> SubjectReview:
    review = session.get(SubjectReview, review_id)
    if review is None:
        raise refusal(SubjectNotFound, "no review {id}", id=review_id)
    if review.status != "open":
        raise SubjectError(f"review {review_id} is already {review.status}")
    return review


def confirm_review(session: Session, review_id: int, *, actor: str, reason: str | None) -> ActionResult:
    """The possible match is the same person: the reported person (or the whole subject) joins the
    candidate subject."""
    reason = _require_reason(reason)
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
    target = _subject(session, _live(session, review.candidate_subject_id))  # it may have been merged meanwhile
    affected = affected_reports(session, [current, target.id])
    op = record_operation(
        session, "confirm", actor, reason, {"review": review.id, "into": target.id, "from": current}
    )
    now = utcnow()
    members = [
        m for m in current_members(session, current) if m.reported_person_id == review.reported_person_id
    ]
    moved = _move(session, members, target.id, op.id, now)
    # The provisional subject is retired like a merged one, so `split` can undo this confirmation.
    _retire_if_empty(session, _subject(session, current), target.id, now)
    return ActionResult(op.id, (target.id,), tuple(moved), tuple(queue_retriage(session, affected, op.id)))


def _live(session: Session, subject_id: int) -> int:
    """The subject as it is now: a merged subject's successor, followed to the end."""
    subject = _subject(session, subject_id)
    while subject.merged_into_id is not None:
        subject = _subject(session, subject.merged_into_id)
    return subject.id


def reject_review(session: Session, review_id: int, *, actor: str, reason: str | None) -> ActionResult:
    """Not the same person: recorded, so relinking will not propose it again. The reports on both
    sides are triaged again: an open review kept them from a warning (a possible re-report)."""
    reason = _require_reason(reason)
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


# ---------------------------------------------------------------------------------------------
# Search and show


def search_keys(value: str, kind: str | None = None) -> list[str]:
    """The keys a searched identifier can have: e-mail, phone, device, or platform:account."""
    from tiptriage.subjects import identifiers as ids

    keys = []
    if kind in (None, "email") and (email := ids.normalise_email(value)):
        keys.append(f"email:{email}")
    if kind in (None, "phone") and (phone := ids.normalise_phone(value)):
        keys.append(f"phone:{phone}")
    if kind in (None, "device") and (device := ids.normalise_device_id(value)):
        keys.append(f"dev:{device}")
    platform, sep, account = value.partition(":")
    if (
        kind in (None, "account")
        and sep
        and (p := ids.normalise_platform(platform))
        and (a := ids.normalise_account(account))
    ):
        keys += [f"uid:{p}:{a}", f"sn:{p}:{a}"]
    return keys


def search(
    session: Session, value: str, *, actor: str, reason: str | None, kind: str | None = None
) -> list[int]:
    """Subjects with a reported person carrying this identifier. Consulting personal data by
    identifier is logged with who and why (LED art. 25), found or not."""
    reason = _require_reason(reason)
    keys = search_keys(value, kind)
    persons = (
        list(session.execute(select(SubjectKey.reported_person_id).where(SubjectKey.key.in_(keys))).scalars())
        if keys
        else []
    )
    subjects = sorted(set(subject_of_persons(session, persons).values()))
    audit.record(
        session,
        actor=actor,
        action="subjects.search",
        entity="subject",
        entity_ids=subjects,
        reason=reason,
        details={"kind": kind, "keys": keys, "found": len(subjects)},
    )
    return subjects


def subject_document(
    session: Session, subject_id: int, *, actor: str | None = None, reason: str | None = None
) -> dict | None:
    """Everything known about a subject: reports, identifiers, links with evidence, reviews, history."""
    subject = session.get(Subject, subject_id)
    if subject is None:
        return None
    if actor is not None:
        audit.record(
            session,
            actor=actor,
            action="subjects.show",
            entity="subject",
            entity_ids=[subject_id],
            reason=reason,
        )
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


# ---------------------------------------------------------------------------------------------
# For triage (tiptriage.triage.subjectlinks.SubjectLinks)


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


class StoredLinks:
    """The subject registry as triage reads it (the SubjectLinks protocol of triage/subjectlinks.py)."""

    def subjects_of(self, session: Session, person_ids: Iterable[int]) -> dict[int, int]:
        return subject_of_persons(session, person_ids)

    def members_of(self, session: Session, subject_ids: Iterable[int]) -> dict[int, list[int]]:
        return members_of(session, subject_ids)

    def pending_retriage(self, session: Session) -> list[int]:
        return pending_retriage(session)

    def mark_retriaged(self, session: Session, report_ids: list[int]) -> int:
        return mark_retriaged(session, report_ids)

    def candidates_of(self, session: Session, person_ids: Iterable[int]) -> dict[int, list[int]]:
        return candidates_of(session, person_ids)


def candidates_of(session: Session, person_ids: Iterable[int]) -> dict[int, list[int]]:
    """Reported person → other subjects that open reviews hold as possibly the same person."""
    subject_of = subject_of_persons(session, person_ids)
    persons_of: dict[int, list[int]] = {}
    for person, subject in subject_of.items():
        persons_of.setdefault(subject, []).append(person)
    found: dict[int, set[int]] = {p: set() for p in subject_of}
    for _, kind, person_id, subject_id, candidate_id in _open_reviews_touching(session, subject_of):
        # The review asks about this person, or about its whole subject: the candidate may be it.
        asked = ({person_id} & found.keys()) | set(persons_of.get(subject_id, ()))
        for person in asked:
            found[person].add(candidate_id)
        if kind == "possible_same_subject":  # and read the other way round
            for person in persons_of.get(candidate_id, ()):
                if person not in asked:
                    found[person].add(subject_id)
    return {p: sorted(s - {subject_of[p]}) for p, s in found.items() if s - {subject_of[p]}}


def _open_reviews_touching(session: Session, subject_of: dict[int, int]) -> set[tuple]:
    """Open reviews of these persons or their subjects, (id, kind, person, subject, candidate), one
    indexed query per column: as one OR of the three, SQLite read every open review per batch. The
    status is tested here for the same reason (its index would be chosen over the others)."""
    columns = (SubjectReview.id, SubjectReview.kind, SubjectReview.reported_person_id, SubjectReview.subject_id,
               SubjectReview.candidate_subject_id, SubjectReview.status)
    subjects = sorted(set(subject_of.values()))
    found = set()
    for column, values in ((SubjectReview.reported_person_id, sorted(subject_of)),
                           (SubjectReview.subject_id, subjects), (SubjectReview.candidate_subject_id, subjects)):
        for part in chunks(values):
            found.update(row[:5] for row in session.execute(select(*columns).where(column.in_(part)))
                         if row.status == "open")
    return found
