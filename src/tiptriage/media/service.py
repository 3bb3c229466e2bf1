"""Media services: bank imports, matching of stored reports, retro-matching, ad-hoc look-ups.

Entry points for other domains:
- `match_reports(session, report_ids)` after ingest stores reports (intake calls it);
- `retro_match(session, changes=...)` after a bank changed: only the files the change can affect
  (`changes=None`: every stored file, e.g. after the PDQ settings changed);
- `pending_retriage(session)` / `mark_retriaged(session, report_ids)` for triage, which takes up
  again the reports whose files changed status after a bank changed;
- `file_status(session, file_ids)` for report views.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from tiptriage.accounts.actor import require
from tiptriage.audit import service as audit
from tiptriage.config import get_settings
from tiptriage.db import utcnow
from tiptriage.hashtypes import PDQ
from tiptriage.i18n import refusal
from tiptriage.intake.models import FileHashRow, FileRow, value_prefix
from tiptriage.media import banks as bankfiles
from tiptriage.media import matching
from tiptriage.media.banks import BankFormatError, BankRecord, ImportSettings
from tiptriage.media.index import hex_to_rows
from tiptriage.media.models import (
    CATEGORIES, Bank, BankEntry, BankVersion, FileClassification, FileMatch, FileMatchState, MatchRun,
    StatusChange,
)
from tiptriage.media.settings import index_dir
from tiptriage.media.store import FILES_FOLDER, FileIndexStore, IndexStore, Searcher, bank_state

INSERT_BATCH = 5000


# --- the index --------------------------------------------------------------------------------------

def index_store(session: Session) -> IndexStore:
    url = session.get_bind().engine.url.render_as_string(hide_password=True)
    return IndexStore(index_dir(url), get_settings().pdq_min_quality)


def searcher(session: Session) -> Searcher:
    return index_store(session).open(session)


def file_index_store(session: Session) -> FileIndexStore:
    """The index over stored files' PDQ values (retro-matching's reverse look-up), beside the banks'."""
    url = session.get_bind().engine.url.render_as_string(hide_password=True)
    return FileIndexStore(index_dir(url) / FILES_FOLDER)


# --- banks --------------------------------------------------------------------------------------------

@dataclass
class ImportResult:
    bank: str
    bank_id: int
    version: int
    changed: bool  # False: the file held exactly the current version; no new version made
    entries: int
    added: int = 0
    removed: int = 0
    recategorised: int = 0
    matched_files_affected: int = 0  # files whose current matches used a removed or changed entry
    retro: RunSummary | None = None

    def as_dict(self) -> dict:
        doc = {k: v for k, v in self.__dict__.items() if k != "retro"}
        doc["retro_match"] = self.retro.as_dict() if self.retro else None
        return doc


def import_bank(session: Session, path: str | Path, *, name: str, fmt: str | None = None,
                category_map: dict[str, str] | None = None, default_category: str | None = None,
                hash_type: str | None = None, actor: str | None = None,
                checkpoint: Callable[[], None] | None = None) -> ImportResult:
    """Read a bank file whole and apply it as the bank's next version, then retro-match
    (`checkpoint`, e.g. `session.commit`, after the version and after each batch of matching: the
    new version stands even if a long retro-match is stopped).

    A file with any problem raises BankFormatError and changes nothing (the refusal is audited).
    """
    require(actor, "import_bank")
    actor = actor or get_settings().actor
    path = Path(path)
    data = path.read_bytes()
    bank = session.execute(select(Bank).where(Bank.name == name).with_for_update()).scalar_one_or_none()
    settings = _settings(bank, fmt or (bank.format if bank else bankfiles.detect_format(path.name, data)),
                         category_map, default_category, hash_type)
    digest = hashlib.sha256(data).hexdigest()
    try:
        records = bankfiles.parse(data, settings)
    except BankFormatError as exc:
        _refused(session, name, path.name, digest, exc, actor)
        raise
    result, changes = _apply(session, bank, name, settings, records, path.name, digest, actor)
    if checkpoint:
        checkpoint()
    if result.changed:
        index_store(session).open(session)  # bring the index up to date now, not at the next match
        result.retro = retro_match(session, actor=actor, reason=f"bank {name} version {result.version}",
                                   changes=changes, checkpoint=checkpoint)
    return result


def _settings(bank: Bank | None, fmt: str, category_map: dict | None, default_category: str | None,
              hash_type: str | None) -> ImportSettings:
    """The bank's stored settings (or the format's defaults), with what was given laid over them."""
    if bank is not None and bank.format == fmt:
        base = ImportSettings(fmt, dict(bank.category_map), bank.default_category, bank.hash_type)
    else:
        base = bankfiles.default_settings(fmt)
    return ImportSettings(fmt, {**base.category_map, **(category_map or {})},
                          default_category or base.default_category, hash_type or base.hash_type)


def _refused(session: Session, name: str, source: str, digest: str, exc: BankFormatError, actor: str) -> None:
    audit.attempted(session, actor=actor, action="bank.import.refused", entity="bank", reason=str(exc)[:500],
                 details={"bank": name, "source_name": source, "source_sha256": digest,
                          "problems": [str(p) for p in exc.problems[:20]], "more": exc.more + max(0, len(exc.problems) - 20)})


def _apply(session: Session, bank: Bank | None, name: str, settings: ImportSettings, records: list[BankRecord],
           source: str, digest: str, actor: str) -> tuple[ImportResult, BankChanges]:
    now = utcnow()
    if bank is None:
        bank = Bank(name=name, format=settings.format, category_map=settings.category_map,
                    default_category=settings.default_category, hash_type=settings.hash_type, version=0,
                    created_at=now, created_by=actor)
        session.add(bank)
        session.flush()
    current = _live_entries(session, bank.id)
    incoming = {(r.hash_type, r.value): r for r in records}
    removed = [e for key, e in current.items() if key not in incoming]
    changed = [(current[key], r) for key, r in incoming.items() if key in current and _differs(current[key], r)]
    added = [r for key, r in incoming.items() if key not in current]
    bank.format, bank.category_map = settings.format, settings.category_map
    bank.default_category, bank.hash_type = settings.default_category, settings.hash_type
    result = ImportResult(name, bank.id, bank.version, False, len(incoming))
    if bank.version and not (removed or changed or added):
        return result, BankChanges()
    version = bank.version + 1
    closed = [e.id for e in removed] + [e.id for e, _ in changed]
    changes = BankChanges({bank.id: (bank.version, version)})
    for hash_type, value in [(e.hash_type, e.value) for e in removed] + [(r.hash_type, r.value) for r in added]:
        changes.add(hash_type, value)
    for e, _ in changed:  # the successor carries the same hash
        changes.add(e.hash_type, e.value)
    changes.closed.update(closed)
    result.matched_files_affected = _files_using(session, closed)
    _close(session, closed, version)
    _insert_entries(session, bank.id, version, added + [r for _, r in changed])
    bank.version = version
    session.add(BankVersion(bank_id=bank.id, version=version, token=uuid.uuid4().hex, imported_at=now,
                            imported_by=actor, source_name=source, source_sha256=digest, entries=len(incoming),
                            added=len(added), removed=len(removed), recategorised=len(changed)))
    result.version, result.changed = version, True
    result.added, result.removed, result.recategorised = len(added), len(removed), len(changed)
    audit.record(session, actor=actor, action="bank.import", entity="bank", entity_ids=[bank.id],
                 details=result.as_dict() | {"source_name": source, "source_sha256": digest,
                                             "category_map": settings.category_map})
    return result, changes


def _live_entries(session: Session, bank_id: int) -> dict[tuple[str, str], BankEntry]:
    rows = session.execute(select(BankEntry).where(BankEntry.bank_id == bank_id, BankEntry.removed_version.is_(None))
                           .execution_options(yield_per=20000)).scalars()
    return {(e.hash_type, e.value): e for e in rows}


def _differs(entry: BankEntry, record: BankRecord) -> bool:
    return (entry.category, entry.source_category, entry.series, entry.victim_identified, entry.quality, entry.ref) != (
        record.category, record.source_category, record.series, record.victim_identified, record.quality, record.ref)


def _files_using(session: Session, entry_ids: list[int]) -> int:
    files: set[int] = set()
    for part in matching.chunks(entry_ids):
        files.update(session.execute(select(FileMatch.file_id).where(
            FileMatch.bank_entry_id.in_(part), FileMatch.superseded_run_id.is_(None))).scalars())
    return len(files)


def _close(session: Session, entry_ids: list[int], version: int) -> None:
    for part in matching.chunks(entry_ids):
        session.execute(update(BankEntry).where(BankEntry.id.in_(part)).values(removed_version=version))


def _insert_entries(session: Session, bank_id: int, version: int, records: list[BankRecord]) -> None:
    for i in range(0, len(records), INSERT_BATCH):
        session.execute(insert(BankEntry), [
            {"bank_id": bank_id, "hash_type": r.hash_type, "value": r.value, "category": r.category,
             "source_category": r.source_category, "series": r.series, "victim_identified": r.victim_identified,
             "quality": r.quality, "ref": r.ref, "added_version": version, "removed_version": None}
            for r in records[i:i + INSERT_BATCH]])


def list_banks(session: Session, *, actor: str) -> list[dict]:
    """The banks with their live entries per category and their current version's import (who, when)."""
    require(actor, "view_banks")
    live = BankEntry.removed_version.is_(None)
    per_category: dict[int, dict[str, int]] = {}
    for bank_id, category, n in session.execute(select(BankEntry.bank_id, BankEntry.category, func.count())
                                                .where(live).group_by(BankEntry.bank_id, BankEntry.category)):
        per_category.setdefault(bank_id, {})[category] = n
    current = {v.bank_id: v for v in session.execute(
        select(BankVersion).join(Bank, (Bank.id == BankVersion.bank_id) & (Bank.version == BankVersion.version))
    ).scalars()}
    return [{"id": b.id, "name": b.name, "format": b.format, "version": b.version,
             "entries": sum(per_category.get(b.id, {}).values()), "categories": per_category.get(b.id, {}),
             "created_at": b.created_at.isoformat(),
             "imported_at": current[b.id].imported_at.isoformat() if b.id in current else None,
             "imported_by": current[b.id].imported_by if b.id in current else None}
            for b in session.execute(select(Bank).order_by(Bank.name)).scalars()]


def bank_detail(session: Session, name: str, *, actor: str) -> dict | None:
    """One bank: its settings, live entries by hash type and category, its versions (newest last)."""
    require(actor, "view_banks")
    bank = session.execute(select(Bank).where(Bank.name == name)).scalar_one_or_none()
    if bank is None:
        return None
    live = (select(BankEntry.hash_type, BankEntry.category, func.count())
            .where(BankEntry.bank_id == bank.id, BankEntry.removed_version.is_(None))
            .group_by(BankEntry.hash_type, BankEntry.category).order_by(BankEntry.hash_type, BankEntry.category))
    versions = session.execute(select(BankVersion).where(BankVersion.bank_id == bank.id)
                               .order_by(BankVersion.version)).scalars()
    return {"id": bank.id, "name": bank.name, "format": bank.format, "version": bank.version,
            "category_map": bank.category_map, "default_category": bank.default_category,
            "hash_type": bank.hash_type, "created_at": bank.created_at.isoformat(), "created_by": bank.created_by,
            "entries": [{"hash_type": t, "category": c, "count": n} for t, c, n in session.execute(live)],
            "versions": [{"version": v.version, "imported_at": v.imported_at.isoformat(), "imported_by": v.imported_by,
                          "source_name": v.source_name, "source_sha256": v.source_sha256, "entries": v.entries,
                          "added": v.added, "removed": v.removed, "recategorised": v.recategorised}
                         for v in versions]}


# --- matching stored files ----------------------------------------------------------------------------

@dataclass
class RunSummary:
    run_id: int
    trigger: str
    files: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    changes: list[dict] = field(default_factory=list)
    scope: str | None = None  # retro-matching: "incremental" (the files a bank change can affect) or "full"

    @property
    def changed_reports(self) -> list[int]:
        return sorted({c["report_id"] for c in self.changes})

    def as_dict(self) -> dict:
        return {"run_id": self.run_id, "trigger": self.trigger, "scope": self.scope, "files": self.files,
                "by_status": self.by_status,
                "changed_files": len(self.changes), "changed_reports": self.changed_reports, "changes": self.changes}


def match_reports(session: Session, report_ids: list[int], *, actor: str | None = None) -> RunSummary:
    """Match every file of these reports (call after ingest stored them)."""
    file_ids = report_file_ids(session, report_ids)
    return match_files(session, file_ids, actor=actor, trigger="ingest")


def report_file_ids(session: Session, report_ids: list[int]) -> list[int]:
    ids: list[int] = []
    for part in matching.chunks(sorted(set(report_ids))):
        ids.extend(session.execute(select(FileRow.id).where(FileRow.report_id.in_(part))).scalars())
    return sorted(ids)


def match_files(session: Session, file_ids: list[int], *, actor: str | None = None, trigger: str = "manual",
                reason: str | None = None, details: dict | None = None,
                checkpoint: Callable[[], None] | None = None) -> RunSummary:
    """Match these files against the banks as they are now; record statuses and changes. A job
    passes `checkpoint` (e.g. `session.commit`), called after each batch: a long retro-match then
    holds no long transaction."""
    actor = actor or get_settings().actor
    settings = get_settings()
    index = searcher(session)
    run = MatchRun(at=utcnow(), actor=actor, trigger=trigger,
                   banks={k: v[0] for k, v in bank_state(session).items()}, max_distance=PDQ.max_distance(settings))
    session.add(run)
    session.flush()
    totals = matching.RunTotals()
    for start in range(0, len(file_ids), settings.match_batch_files):
        _match_batch(session, file_ids[start:start + settings.match_batch_files], index, run, totals)
        if checkpoint:
            checkpoint()
    run.files, run.changed = totals.files, len(totals.changes)
    summary = RunSummary(run.id, trigger, totals.files, totals.by_status, [c.as_dict() for c in totals.changes])
    audit.record(session, actor=actor, action=f"media.match.{trigger}", entity="match_run", entity_ids=[run.id],
                 reason=reason, details={k: v for k, v in summary.as_dict().items() if k != "changes"} | (details or {}))
    return summary


def _match_batch(session: Session, file_ids: list[int], index: Searcher, run: MatchRun,
                 totals: matching.RunTotals) -> None:
    settings = get_settings()
    hits = matching.exact_hits(session, file_ids)
    for file_id, found in matching.pdq_hits(session, file_ids, index, PDQ.max_distance(settings),
                                            settings.pdq_min_quality).items():
        hits.setdefault(file_id, set()).update(found)
    info = matching.entry_info(session, {h.entry_id for found in hits.values() for h in found})
    results = matching.outcomes(session, file_ids, hits, info)
    matching.record(session, run, results, info, totals)


@dataclass
class BankChanges:
    """What bank versions changed: the hashes of entries added, removed or re-categorised, and the
    ids of the entries they closed. `versions`: bank id → (from version, to version]."""

    versions: dict[int, tuple[int, int]] = field(default_factory=dict)
    exact: dict[str, set[str]] = field(default_factory=dict)  # hash type → values
    pdq: set[str] = field(default_factory=set)
    closed: set[int] = field(default_factory=set)

    def add(self, hash_type: str, value: str) -> None:
        if hash_type == PDQ.name:
            self.pdq.add(value)
        else:
            self.exact.setdefault(hash_type, set()).add(value)

    def __bool__(self) -> bool:
        return bool(self.exact or self.pdq or self.closed)

    def as_dict(self) -> dict:
        return {"banks": {str(b): {"from_version": v[0], "to_version": v[1]} for b, v in self.versions.items()},
                "exact_hashes": sum(len(v) for v in self.exact.values()), "pdq_hashes": len(self.pdq),
                "closed_entries": len(self.closed)}


def bank_changes(session: Session, name: str, since: int | None = None) -> BankChanges:
    """The changes of bank NAME after version `since` (default: its latest version's changes)."""
    bank = session.execute(select(Bank).where(Bank.name == name)).scalar_one_or_none()
    if bank is None:
        raise refusal(LookupError, "no bank named {name}", name=name)
    since = bank.version - 1 if since is None else since
    if not 0 <= since <= bank.version:
        raise refusal(ValueError, "bank {name} is at version {version}: --since must be 0..{version}", name=name,
                      version=bank.version)
    changes = BankChanges({bank.id: (since, bank.version)})
    entries = select(BankEntry.id, BankEntry.hash_type, BankEntry.value, BankEntry.removed_version).where(
        BankEntry.bank_id == bank.id, or_(BankEntry.added_version > since, BankEntry.removed_version > since))
    for entry_id, hash_type, value, removed_version in session.execute(entries):
        changes.add(hash_type, value)
        if removed_version is not None:
            changes.closed.add(entry_id)
    return changes


def affected_files(session: Session, changes: BankChanges) -> list[int]:
    """The stored files whose matches these bank changes can alter, under the current settings:
    files with an exact hash equal to a changed entry's, files within the PDQ match distance of a
    changed PDQ entry (looked up in the files' PDQ index), and files whose current matches use a
    closed entry. Every other file would match exactly as before."""
    files: set[int] = set()
    pdq_near: set[str] = set()
    if changes.pdq:
        pdq_near = file_index_store(session).open(session).values_near(hex_to_rows(sorted(changes.pdq)),
                                                                       PDQ.max_distance(get_settings()))
    for hash_type, values in [*changes.exact.items(), (PDQ.name, pdq_near)]:
        for part in matching.chunks(sorted(values)):
            files.update(session.execute(select(FileHashRow.file_id).where(  # the index, then the values
                FileHashRow.hash_type == hash_type, FileHashRow.value_prefix.in_({value_prefix(v) for v in part}),
                FileHashRow.value.in_(part))).scalars())
    for part in matching.chunks(sorted(changes.closed)):
        files.update(session.execute(select(FileMatch.file_id).where(
            FileMatch.bank_entry_id.in_(part), FileMatch.superseded_run_id.is_(None))).scalars())
    return sorted(files)


def retro_match(session: Session, *, actor: str | None = None, reason: str | None = None,
                changes: BankChanges | None = None, checkpoint: Callable[[], None] | None = None) -> RunSummary:
    """Match stored files again after a bank changed; the reports whose files changed status are
    queued for re-triage and listed in the summary.

    With `changes` (what a bank import returns, or `bank_changes`), only the files those changes
    can affect are matched again: the same statuses and matches as matching every file, in time
    proportional to the change. Without, every stored file is matched again: needed after the PDQ
    distance or quality settings changed, which alter matches no bank change names.
    """
    if changes is None:
        file_ids = list(session.execute(select(FileRow.id).order_by(FileRow.id)).scalars())
        details = {"scope": "full"}
    else:
        file_ids = affected_files(session, changes)
        details = {"scope": "incremental", "bank_changes": changes.as_dict()}
    summary = match_files(session, file_ids, actor=actor, trigger="retro", reason=reason, details=details,
                          checkpoint=checkpoint)
    summary.scope = details["scope"]
    return summary


def classify_file(session: Session, file_id: int, category: str, *, actor: str | None = None,
                  reason: str | None = None) -> RunSummary:
    """An analyst's category for a file (audited); the file is matched again at once."""
    require(actor, "classify")
    if category not in CATEGORIES:
        raise refusal(ValueError, "category must be one of {categories}", categories=", ".join(CATEGORIES))
    if session.get(FileRow, file_id) is None:
        raise refusal(LookupError, "no file with id {id}", id=file_id)
    actor = actor or get_settings().actor
    row = FileClassification(file_id=file_id, category=category, actor=actor, at=utcnow(), reason=reason)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="media.classify", entity="file", entity_ids=[file_id], reason=reason,
                 details={"category": category, "classification_id": row.id})
    return match_files(session, [file_id], actor=actor, trigger="classify", reason=reason)


def pending_retriage(session: Session) -> list[int]:
    """Reports with a file whose status changed and that triage has not taken up again yet."""
    return list(session.execute(select(StatusChange.report_id).where(StatusChange.retriaged_at.is_(None))
                                .distinct().order_by(StatusChange.report_id)).scalars())


def status_changes(session: Session, *, pending_only: bool = True, limit: int = 200) -> list[StatusChange]:
    query = select(StatusChange).order_by(StatusChange.id.desc()).limit(limit)
    if pending_only:
        query = query.where(StatusChange.retriaged_at.is_(None))
    return list(session.execute(query).scalars())


def mark_retriaged(session: Session, report_ids: list[int]) -> int:
    """Triage took these reports up again: their queued changes leave the queue (not committed)."""
    count = 0
    for part in matching.chunks(sorted(set(report_ids))):
        count += session.execute(update(StatusChange).where(StatusChange.report_id.in_(part),
                                                            StatusChange.retriaged_at.is_(None))
                                 .values(retriaged_at=utcnow())).rowcount
    return count


def file_status(session: Session, file_ids: list[int]) -> dict[int, dict]:
    """Each file's status and its current matches (bank, version, category, series, victim, distance)."""
    out: dict[int, dict] = {}
    for part in matching.chunks(sorted(set(file_ids))):
        for s in session.execute(select(FileMatchState).where(FileMatchState.file_id.in_(part))).scalars():
            out[s.file_id] = {"status": s.status, "category": s.category, "victim_identified": s.victim_identified,
                              "reason": s.reason, "matches": []}
        rows = session.execute(
            select(FileMatch.file_id, FileMatch.hash_type, FileMatch.distance, FileMatch.bank_version, Bank.name,
                   BankEntry.category, BankEntry.series, BankEntry.victim_identified)
            .join(BankEntry, BankEntry.id == FileMatch.bank_entry_id).join(Bank, Bank.id == BankEntry.bank_id)
            .where(FileMatch.file_id.in_(part), FileMatch.superseded_run_id.is_(None)))
        for file_id, hash_type, distance, version, bank, category, series, victim in rows:
            out.setdefault(file_id, {"status": None, "matches": []})["matches"].append(
                {"bank": bank, "bank_version": version, "hash_type": hash_type, "category": category,
                 "series": series, "victim_identified": victim, "distance": distance})
    return out
