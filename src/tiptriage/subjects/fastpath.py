"""Subjects: the fast path's decision for one record, before anything is stored (reads only).

Candidates through the key index, scored with the active model's weights, chosen with the chaining
guard. `StoredRegistry` reads the registry one statement per look-up; `bulk.BatchRegistry` answers
the same from what it loaded for a batch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from tiptriage.subjects import features, linkage
from tiptriage.subjects.models import SubjectKey, SubjectMember, SubjectTermCount

TOTAL = "*"  # the term-count row holding the number of records with any value


@dataclass
class Candidate:
    person_id: int
    subject_id: int
    record: dict


@dataclass
class Choice:
    subject_id: int | None
    decision: str
    best: tuple[float, Candidate] | None
    reviews: list[tuple[str, int, float]] = field(default_factory=list)  # (kind, subject id, weight)
    joins: list[tuple[int, float]] = field(default_factory=list)  # other subjects it links: (id, weight)


@dataclass
class Decision:
    """What the fast path decided for one record, before anything is stored."""

    record: dict  # as scored: tokens of widely shared addresses dropped
    choice: Choice
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

    def candidates(self, keys: list[str], cap: int) -> list[Candidate]:
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


def _candidates(session: Session, keys: Iterable[str], cap: int) -> list[Candidate]:
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
    return [Candidate(pid, sid, rec if isinstance(rec, dict) else json.loads(rec)) for pid, rec, sid in rows]


def _choose(model: linkage.Model, rec: dict, candidates: list[Candidate], tf, shared: set[str]) -> Choice:
    """Subject-level decision with the chaining guard: a subject is linked only when its best pair
    links and none of its compared members conflicts with the new record, unless one of them shares
    a mailbox, phone number or user id with it (the conflict is then a nickname or a typo the tables
    do not know, not a second person: that member is the record's person). A record that links two
    subjects links to the best and names the others as joins when an identifier of one person
    ties it to them too (the caller fuses them unless an analyst kept them apart): a name and a
    birth year link a report, but never fuse two histories (namesakes). The rest go to an analyst."""
    best: dict[int, tuple[float, Candidate]] = {}
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
        return Choice(chosen[1].subject_id, "linked", chosen, others, joins)
    if reviewable:
        return Choice(
            None, "review", reviewable[0], [("possible_match", c.subject_id, w) for w, c in reviewable[:3]]
        )
    top = max(((w, c) for w, c, g in best.values()), key=lambda x: x[0], default=None)
    return Choice(None, "new", top)
