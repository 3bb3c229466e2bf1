"""Matching stored files against the banks, and recording where each file stands.

For each file: exact MD5/SHA-1/SHA-256 matches by an indexed join in the database, PDQ matches
through the index (hits confirmed against live bank entries in the database). Then one status:

  known          a live bank entry of an abuse category matches
  new            no such match, but the platform (industry classification) or an analyst
                 classified the file as abuse material: possibly a victim not yet identified
  unrated        no match and no classification, or signals that contradict each other
  non_pertinent  only non-pertinent bank entries match, or an analyst said so

A file whose status changes after its first matching is queued for re-triage (StatusChange).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from tiptriage import hashtypes
from tiptriage.db import chunks, utcnow
from tiptriage.intake.models import FileHashRow, FileRow
from tiptriage.media.index import hex_to_rows
from tiptriage.media.models import (
    ABUSE_CATEGORIES, CATEGORIES, Bank, BankEntry, FileClassification, FileMatch, FileMatchState, MatchRun,
    StatusChange,
)
from tiptriage.media.store import Searcher

# The types the database looks up (`index` "database"): matched by the join of exact_hits.
_JOINED = frozenset(t.name for t in hashtypes.ALL if t.index == "database")


@dataclass(frozen=True, order=True)
class Hit:
    """One file hash matching one bank entry."""

    entry_id: int
    hash_type: str
    distance: int


@dataclass(frozen=True)
class EntryInfo:
    bank_id: int
    bank: str
    bank_version: int
    category: str
    series: str | None
    victim_identified: bool | None


@dataclass(frozen=True)
class Outcome:
    file_id: int
    report_id: int
    status: str
    category: str | None
    victim_identified: bool | None
    reason: str
    hits: tuple[Hit, ...]


@dataclass
class Change:
    file_id: int
    report_id: int
    old_status: str
    new_status: str
    old_category: str | None
    new_category: str | None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class RunTotals:
    files: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)


# --- finding hits ------------------------------------------------------------------------------------

# The hash type is tested in Python, not in SQL: given `hash_type IN (...)` beside `file_id IN (...)`,
# SQLite took the (hash_type, value_prefix) index and read every stored hash of those types for each
# batch (0.5 s per 500 files at 100k hashes, growing with the store) instead of the file_id index.

def exact_hits(session: Session, file_ids: list[int]) -> dict[int, set[Hit]]:
    hits: dict[int, set[Hit]] = defaultdict(set)
    for part in chunks(file_ids):
        rows = session.execute(
            select(FileHashRow.file_id, BankEntry.id, FileHashRow.hash_type)
            .join(BankEntry, and_(BankEntry.hash_type == FileHashRow.hash_type, BankEntry.value == FileHashRow.value))
            .where(FileHashRow.file_id.in_(part), BankEntry.removed_version.is_(None)))
        for file_id, entry_id, hash_type in rows:
            if hash_type in _JOINED:
                hits[file_id].add(Hit(entry_id, hash_type, 0))
    return hits


def live_pdq_entries(session: Session, values: list[str], min_quality: int) -> dict[str, list[int]]:
    """Live PDQ bank entries by value (quality unknown or sufficient)."""
    found: dict[str, list[int]] = defaultdict(list)
    for part in chunks(sorted(set(values))):
        rows = session.execute(select(BankEntry.value, BankEntry.id).where(
            BankEntry.hash_type == hashtypes.PDQ.name, BankEntry.value.in_(part), BankEntry.removed_version.is_(None),
            or_(BankEntry.quality.is_(None), BankEntry.quality >= min_quality)))
        for value, entry_id in rows:
            found[value].append(entry_id)
    return found


def pdq_hits(session: Session, file_ids: list[int], searcher: Searcher, max_distance: int,
             min_quality: int) -> dict[int, set[Hit]]:
    """PDQ hashes as reported carry no quality: each is matched (reports rarely send flat images)."""
    pairs: list[tuple[int, str]] = []
    for part in chunks(file_ids):  # the hash type tested in Python: see exact_hits
        pairs.extend((f, v) for f, v, kind in session.execute(
            select(FileHashRow.file_id, FileHashRow.value, FileHashRow.hash_type).where(
                FileHashRow.file_id.in_(part))) if kind == hashtypes.PDQ.name)
    hits: dict[int, set[Hit]] = defaultdict(set)
    if not pairs or not len(searcher):
        return hits
    found = searcher.search(hex_to_rows([v for _, v in pairs]), max_distance)
    entries = live_pdq_entries(session, [m.value for m in found], min_quality)
    for m in found:
        for entry_id in entries.get(m.value, ()):
            hits[pairs[m.query][0]].add(Hit(entry_id, hashtypes.PDQ.name, m.distance))
    return hits


def entry_info(session: Session, entry_ids: set[int]) -> dict[int, EntryInfo]:
    info: dict[int, EntryInfo] = {}
    for part in chunks(sorted(entry_ids)):
        rows = session.execute(
            select(BankEntry.id, Bank.id, Bank.name, Bank.version, BankEntry.category, BankEntry.series,
                   BankEntry.victim_identified)
            .join(Bank, Bank.id == BankEntry.bank_id).where(BankEntry.id.in_(part)))
        for entry_id, bank_id, name, version, category, series, victim in rows:
            info[entry_id] = EntryInfo(bank_id, name, version, category, series, victim)
    return info


# --- deciding ---------------------------------------------------------------------------------------

def decide(categories: list[str], victims: list[bool | None], platform: str | None,
           analyst: str | None) -> tuple[str, str | None, bool | None, str]:
    """(status, category, victim identified?, reason) from the matched entries and classifications."""
    if analyst == "non_pertinent":
        return "non_pertinent", "non_pertinent", None, "an analyst classified the file as non-pertinent"
    abuse = sorted((c for c in categories if c in ABUSE_CATEGORIES), key=CATEGORIES.index)
    if abuse:
        victim = True if True in victims else (False if victims and all(v is False for v in victims) else None)
        return "known", abuse[0], victim, f"matches {len(categories)} bank entr{'y' if len(categories) == 1 else 'ies'}"
    if analyst in ABUSE_CATEGORIES:
        return "new", analyst, None, "no abuse-material match; an analyst classified it as " + analyst
    if categories and platform:
        return "unrated", None, None, (f"banks say non-pertinent but the platform classified it {platform}: "
                                       "needs a human")
    if categories:
        return "non_pertinent", "non_pertinent", None, "matches only non-pertinent bank entries"
    if platform:
        return "new", "child_abuse", None, f"no match; the platform classified it {platform}"
    return "unrated", None, None, "no match and no classification: needs a human"


def outcomes(session: Session, file_ids: list[int], hits: dict[int, set[Hit]],
             info: dict[int, EntryInfo]) -> list[Outcome]:
    analyst = latest_classifications(session, file_ids)
    out: list[Outcome] = []
    for part in chunks(file_ids):
        for file_id, report_id, platform in session.execute(
                select(FileRow.id, FileRow.report_id, FileRow.classification).where(FileRow.id.in_(part))):
            file_hits = tuple(sorted(hits.get(file_id, ())))
            entries = [info[h.entry_id] for h in file_hits]
            status, category, victim, reason = decide([e.category for e in entries],
                                                      [e.victim_identified for e in entries if e.category in ABUSE_CATEGORIES],
                                                      platform, analyst.get(file_id))
            out.append(Outcome(file_id, report_id, status, category, victim, reason, file_hits))
    return out


def latest_classifications(session: Session, file_ids: list[int]) -> dict[int, str]:
    latest: dict[int, str] = {}
    for part in chunks(file_ids):
        newest = (select(FileClassification.file_id, func.max(FileClassification.id).label("id"))
                  .where(FileClassification.file_id.in_(part)).group_by(FileClassification.file_id).subquery())
        rows = session.execute(select(FileClassification.file_id, FileClassification.category)
                               .join(newest, FileClassification.id == newest.c.id))
        latest.update(dict(rows.all()))
    return latest


# --- recording --------------------------------------------------------------------------------------

def record(session: Session, run: MatchRun, results: list[Outcome], info: dict[int, EntryInfo],
           totals: RunTotals) -> None:
    """Store each file's status and matches; supersede what changed; queue status changes."""
    ids = [o.file_id for o in results]
    states = {s.file_id: s for part in chunks(ids) for s in session.execute(
        select(FileMatchState).where(FileMatchState.file_id.in_(part))).scalars()}
    active = _active_hits(session, ids)
    now = utcnow()
    new_matches: list[dict] = []
    superseded: list[int] = []
    for o in results:
        totals.files += 1
        totals.by_status[o.status] = totals.by_status.get(o.status, 0) + 1
        if set(o.hits) != active.get(o.file_id, set()):
            superseded.append(o.file_id)
            new_matches.extend({"file_id": o.file_id, "run_id": run.id, "bank_entry_id": h.entry_id,
                                "bank_version": info[h.entry_id].bank_version, "hash_type": h.hash_type,
                                "distance": h.distance} for h in o.hits)
        _store_state(session, states.get(o.file_id), o, run, now, totals)
    for part in chunks(superseded):
        session.execute(update(FileMatch).where(FileMatch.file_id.in_(part), FileMatch.superseded_run_id.is_(None))
                        .values(superseded_run_id=run.id))
    if new_matches:
        session.execute(insert(FileMatch), new_matches)
    session.flush()


def _active_hits(session: Session, file_ids: list[int]) -> dict[int, set[Hit]]:
    active: dict[int, set[Hit]] = defaultdict(set)
    for part in chunks(file_ids):
        for file_id, entry_id, hash_type, distance in session.execute(
                select(FileMatch.file_id, FileMatch.bank_entry_id, FileMatch.hash_type, FileMatch.distance)
                .where(FileMatch.file_id.in_(part), FileMatch.superseded_run_id.is_(None))):
            active[file_id].add(Hit(entry_id, hash_type, distance))
    return active


def _store_state(session: Session, state: FileMatchState | None, o: Outcome, run: MatchRun, now,
                 totals: RunTotals) -> None:
    if state is None:
        session.add(FileMatchState(file_id=o.file_id, report_id=o.report_id, status=o.status, category=o.category,
                                   victim_identified=o.victim_identified, reason=o.reason, run_id=run.id,
                                   updated_at=now))
        return
    if (state.status, state.category) != (o.status, o.category):
        change = Change(o.file_id, o.report_id, state.status, o.status, state.category, o.category)
        totals.changes.append(change)
        session.add(StatusChange(run_id=run.id, at=now, **change.as_dict()))
    if (state.status, state.category, state.victim_identified, state.reason) != (
            o.status, o.category, o.victim_identified, o.reason):
        state.status, state.category, state.victim_identified, state.reason = (
            o.status, o.category, o.victim_identified, o.reason)
        state.run_id, state.updated_at = run.id, now
