"""Linking an ingest batch: the fast path's decisions, with its look-ups and writes done once per batch.

`resolve_reports(session, report_ids, actor=...)` decides exactly what `linking.resolve_reports`
decides for the same reports in the same order (a test compares them), but reads the registry
once for all the batch's keys (`BatchRegistry`: candidates, their records and subjects, shared
addresses, name counts) and keeps that current in memory as each person is linked, so that a
person links to one earlier in the same batch as it would have one by one. The writes (subjects,
memberships, links, reviews, records, keys, name counts) are collected and written with one
statement per table at the end. A person whose record joins two subjects is the exception: the
batch's writes are flushed first and the join goes through the one-at-a-time path (`actions.fuse`,
which reads the store), then the registry in memory learns of it.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import cache

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from tiptriage.db import BulkInsert, allocate_ids, chunks, utcnow
from tiptriage.subjects import fastpath, features, linkage, linking
from tiptriage.subjects.models import (
    Subject,
    SubjectKey,
    SubjectLink,
    SubjectMember,
    SubjectRecord,
    SubjectReview,
    SubjectTermCount,
)

# Subjects made in this batch carry ids from here until they are written: above every stored id
# and in the order they are made, so ties between subjects break as they will with the real ids.
PROVISIONAL = 10**15
CHUNK = 400  # keys per statement (SQLite allows 500 terms in a compound SELECT)
IN_CHUNK = 5000  # values per IN list


def resolve_reports(session: Session, report_ids: Iterable[int], *, actor: str) -> list[linking.Resolution]:
    """`linking.resolve_reports` for a batch of reports: the same decisions, fewer statements."""
    return linking.link_reports(session, report_ids, actor, _resolve_batch)


def _resolve_batch(session: Session, model: linkage.Model, op, persons: list) -> list[linking.Resolution]:
    prepared = []
    for report, person in persons:
        normalised = features.normalised(person, report)
        prepared.append((report.id, features.record(person.id, normalised), features.public_ips(normalised)))
    registry = BatchRegistry(session, model, [(rec, ips) for _, rec, ips in prepared])
    writes = _Writes(session, model, op)
    for report_id, rec, ips in prepared:
        decision = fastpath.decide_in(registry, model, rec, ips)
        if decision.choice.joins:
            # Written first, so the join reads a store that holds the batch so far; decided again,
            # with the subjects' real ids (the same decision: the registry only renamed them).
            writes.flush(registry)
            decision = fastpath.decide_in(registry, model, rec, ips)
            writes.done.append(_resolve_joining(session, model, op, report_id, rec, ips, decision, registry))
        else:
            subject_id = decision.choice.subject_id or writes.new_subject()
            writes.add(report_id, rec, ips, subject_id, decision)
            registry.add(rec, ips, subject_id)
    writes.flush(registry)
    return writes.done


def _resolve_joining(session, model, op, report_id, rec, ips, decision, registry) -> linking.Resolution:
    """As `linking._resolve_person` after its decision, with the registry in memory kept current."""
    choice = decision.choice
    joins = []
    for sid, weight in choice.joins:
        if linking.analyst_decided(session, [choice.subject_id, sid]):
            choice.reviews.append(("possible_same_subject", sid, weight))
        else:
            joins.append((sid, weight))
    resolution = linking.store_resolution(session, model, op, report_id, rec["unique_id"], decision)
    linking.index_record(session, report_id, rec, ips)
    registry.add(rec, ips, resolution.subject_id)
    for sid, weight in joins:
        linking.join(session, choice.subject_id, sid, rec["unique_id"], weight, op.actor)
        registry.fused(choice.subject_id, sid)
    return resolution


class BatchRegistry:
    """The registry as the fast path reads it (`fastpath.StoredRegistry`), for one batch: loaded
    with a few statements for every key, address and name of the batch, then kept current as the
    batch's records are linked (`add`), subjects fused (`fused`) and provisional ids written (`renamed`)."""

    def __init__(self, session: Session, model: linkage.Model, items: list[tuple[dict, set[str]]]):
        keys, ip_keys, names = set(), set(), set()
        for rec, ips in items:
            keys |= set(rec["keys"] or ())
            ip_keys |= {features.IP_KEY_PREFIX + ip for ip in ips}
            names |= set(fastpath.tf_values(rec))
        self.persons = _top_persons(session, sorted(keys | ip_keys), model.max_key_candidates)
        self.records, self.subject_of = _records(session, {p for ps in self.persons.values() for p in ps})
        self.ip_subjects = _ip_subjects(session, sorted(ip_keys))
        self.counts = _term_counts(session, names)

    def shared_ips(self, limit: int, ips: set[str]) -> set[str]:
        return {ip for ip in ips if len(self.ip_subjects.get(features.IP_KEY_PREFIX + ip, ())) >= limit}

    def term_counts(self, wanted: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        found = {}
        for column, value in wanted:
            for key in ((column, value), (column, fastpath.TOTAL)):
                if self.counts.get(key):
                    found[key] = self.counts[key]
        return found

    def candidates(self, keys: list[str], cap: int) -> list:
        ids = set()
        for key in set(keys):
            ids.update(sorted(self.persons.get(key, ()), reverse=True)[:cap])
        return [
            fastpath.Candidate(p, self.subject_of[p], self.records[p])
            for p in sorted(ids)
            if p in self.records and p in self.subject_of
        ]

    def add(self, rec: dict, ips: set[str], subject_id: int) -> None:
        """A record linked to `subject_id`: findable by its keys, its subject counted at its
        addresses, its names counted."""
        person = rec["unique_id"]
        self.records[person], self.subject_of[person] = rec, subject_id
        for key in features.index_keys(rec, ips):
            if key in self.persons:
                self.persons[key].append(person)
            if key.startswith(features.IP_KEY_PREFIX):
                self.ip_subjects[key].add(subject_id)
        for column, value in fastpath.tf_values(rec):
            self.counts[(column, value)] += 1
            self.counts[(column, fastpath.TOTAL)] += 1

    def fused(self, into: int, other: int) -> None:
        self.renamed({other: into})

    def renamed(self, ids: dict[int, int]) -> None:
        if not ids:
            return
        for person, subject in self.subject_of.items():
            if subject in ids:
                self.subject_of[person] = ids[subject]
        for subjects in self.ip_subjects.values():
            for old in subjects & ids.keys():
                subjects.discard(old)
                subjects.add(ids[old])


def _top_persons(session: Session, keys: list[str], cap: int) -> dict[str, list[int]]:
    """Key → the newest `cap` persons indexed under it, as `fastpath._candidates` reads each key."""
    found: dict[str, list[int]] = {k: [] for k in keys}
    for part in chunks(keys, CHUNK):
        params = {f"k{i}": k for i, k in enumerate(part)} | {"cap": cap}
        for key, person in session.execute(_top_persons_sql(len(part)), params):
            found[key].append(person)
    return found


@cache
def _top_persons_sql(n: int):
    """The statement for n keys, made once per n (building it cost as much as running it)."""
    return text(" UNION ALL ".join(
        f"SELECT * FROM (SELECT key, reported_person_id FROM subject_keys WHERE key = :k{i} "
        f"ORDER BY reported_person_id DESC LIMIT :cap) AS k{i}"
        for i in range(n)
    ))


def _records(session: Session, person_ids: set[int]) -> tuple[dict[int, dict], dict[int, int]]:
    """The stored features and current subject of each person."""
    records, subject_of = {}, {}
    ids = sorted(person_ids)
    for part in chunks(ids, IN_CHUNK):
        rows = session.execute(
            text(
                "SELECT r.reported_person_id, r.features, m.subject_id FROM subject_records r "
                "JOIN subject_members m ON m.reported_person_id = r.reported_person_id AND m.until IS NULL "
                "WHERE r.reported_person_id IN :ids"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": part},
        )
        for person, rec, subject in rows:
            records[person] = rec if isinstance(rec, dict) else json.loads(rec)
            subject_of[person] = subject
    return records, subject_of


def _ip_subjects(session: Session, ip_keys: list[str]) -> dict[str, set[int]]:
    """`ip:` key → the subjects seen at that address (the fan-out guard's count, `fastpath.shared_ips`)."""
    found: dict[str, set[int]] = defaultdict(set)
    for part in chunks(ip_keys, IN_CHUNK):
        rows = session.execute(
            text(
                "SELECT DISTINCT k.key, m.subject_id FROM subject_keys k "
                "JOIN subject_members m ON m.reported_person_id = k.reported_person_id AND m.until IS NULL "
                "WHERE k.key IN :keys"
            ).bindparams(bindparam("keys", expanding=True)),
            {"keys": part},
        )
        for key, subject in rows:
            found[key].add(subject)
    return found


def _term_counts(session: Session, names: set[tuple[str, str]]) -> Counter:
    """(column, value) → records with it, and (column, TOTAL) → records with any value."""
    found = Counter()
    for column in linkage.TF_COLUMNS:
        values = sorted({v for c, v in names if c == column} | {fastpath.TOTAL})
        for part in chunks(values, IN_CHUNK):
            rows = session.execute(
                select(SubjectTermCount.value, SubjectTermCount.n).where(
                    SubjectTermCount.field == column, SubjectTermCount.value.in_(part)
                )
            )
            found.update({(column, value): n for value, n in rows})
    return found


class _Writes:
    """The batch's rows, written with one statement per table by `flush`."""

    def __init__(self, session: Session, model: linkage.Model, op):
        self.session, self.model, self.op = session, model, op
        self.provisional = itertools.count(PROVISIONAL)
        self.new: list[int] = []
        self.pending: list[tuple] = []  # (report id, record, addresses, subject id, link row, review rows, at)
        self.done: list[linking.Resolution] = []

    def new_subject(self) -> int:
        sid = next(self.provisional)
        self.new.append(sid)
        return sid

    def add(self, report_id: int, rec: dict, ips: set[str], subject_id: int, decision: fastpath.Decision) -> None:
        # The evidence is scored now, with the name counts as the decision saw them.
        now = utcnow()
        link = linking.link_row(self.model, self.op, rec["unique_id"], subject_id, decision, now)
        reviews = linking.review_rows(rec["unique_id"], subject_id, decision.choice, now)
        self.pending.append((report_id, rec, ips, subject_id, link, reviews, now))

    def flush(self, registry: BatchRegistry) -> None:
        if not self.pending and not self.new:
            return
        connection = self.session.connection()
        bulk = BulkInsert(connection)
        made = allocate_ids(connection, Subject.__table__, len(self.new))
        ids = dict(zip(self.new, made, strict=True))

        def real(sid: int | None) -> int | None:
            return ids.get(sid, sid)

        pending, op, ts = self.pending, self.op, bulk.ts
        bulk.insert(Subject.__table__, ("id", "created_at", "created_by"),
                    [(sid, ts(utcnow()), op.actor) for sid in made])
        bulk.insert(SubjectMember.__table__, ("subject_id", "reported_person_id", "report_id", "since", "started_by"),
                    [(real(sid), rec["unique_id"], report_id, ts(at), op.id) for report_id, rec, _, sid, _, _, at in pending])
        link_ids = allocate_ids(connection, SubjectLink.__table__, len(pending))
        bulk.insert(SubjectLink.__table__, ("id", *_LINK_COLUMNS), [
            (link_id, *(_link_value(link, c, real, ts) for c in _LINK_COLUMNS))
            for link_id, (*_, link, _, _) in zip(link_ids, pending, strict=True)
        ])
        reviews = [(n, link_id, review) for n, (link_id, (*_, person_reviews, _)) in
                   enumerate(zip(link_ids, pending, strict=True)) for review in person_reviews]
        review_ids = allocate_ids(connection, SubjectReview.__table__, len(reviews))
        bulk.insert(SubjectReview.__table__, ("id", "link_id", *_REVIEW_COLUMNS), [
            (review_id, link_id, *(_review_value(review, c, real, ts) for c in _REVIEW_COLUMNS))
            for review_id, (_, link_id, review) in zip(review_ids, reviews, strict=True)
        ])
        bulk.insert(SubjectRecord.__table__, ("reported_person_id", "report_id", "features"),
                    [(rec["unique_id"], report_id, json.dumps(rec)) for report_id, rec, *_ in pending])
        bulk.insert(SubjectKey.__table__, ("key", "reported_person_id"),
                    [(k, rec["unique_id"]) for _, rec, ips, *_ in pending for k in sorted(features.index_keys(rec, ips))])
        counts = Counter()
        for _, rec, *_ in pending:
            for column, value in fastpath.tf_values(rec):
                counts[(column, value)] += 1
                counts[(column, fastpath.TOTAL)] += 1
        if counts:
            self.session.execute(
                text(
                    "INSERT INTO subject_term_counts (field, value, n) VALUES (:f, :v, :n) "
                    "ON CONFLICT (field, value) DO UPDATE SET n = subject_term_counts.n + excluded.n"
                ),
                [{"f": f, "v": v, "n": n} for (f, v), n in sorted(counts.items())],
            )
        by_link = defaultdict(list)
        for review_id, (n, _, _) in zip(review_ids, reviews, strict=True):
            by_link[n].append(review_id)
        for n, (link_id, (report_id, rec, _, _, link, _, _)) in enumerate(zip(link_ids, pending, strict=True)):
            self.done.append(linking.Resolution(
                rec["unique_id"], report_id, real(link["subject_id"]), link["decision"], link["match_weight"],
                real(link["candidate_subject_id"]), link_id, tuple(by_link[n]),
            ))
        registry.renamed(ids)
        self.new, self.pending = [], []


_LINK_COLUMNS = ("reported_person_id", "subject_id", "decision", "candidate_subject_id", "candidate_person_id",
                 "match_weight", "match_probability", "model_version", "evidence", "at", "operation_id")
_REVIEW_COLUMNS = ("kind", "status", "reported_person_id", "subject_id", "candidate_subject_id", "match_weight",
                   "created_at")


def _link_value(link: dict, column: str, real, ts):
    value = link[column]
    if column in ("subject_id", "candidate_subject_id"):
        return real(value)
    if column == "evidence":
        return json.dumps(value)
    return ts(value) if column == "at" else value


def _review_value(review: dict, column: str, real, ts):
    value = review[column]
    if column in ("subject_id", "candidate_subject_id"):
        return real(value)
    return ts(value) if column == "created_at" else value
