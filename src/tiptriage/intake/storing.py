"""Ingest: files in, reports stored once, bad input quarantined with a named reason.

The path of a batch: find files (`discovery`) → read each (size limit, format detection, parse;
`parsing`) → join sibling file-details documents to their report → store reports in batches, one
transaction per batch. A batch that fails as a whole (a race with another ingest, a constraint) is
retried one report per transaction, so a report is always stored whole or not at all and the rest
still goes in. Nothing here commits: `store` calls its caller's `checkpoint` where it may commit.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tiptriage.audit import service as audit
from tiptriage.config import get_settings
from tiptriage.db import BulkInsert, allocate_ids, utcnow
from tiptriage.intake.discovery import find_inputs
from tiptriage.intake.errors import IntakeError
from tiptriage.intake.models import (
    AddressRow, FileHashRow, FileRow, IdentifierRow, IpEventRow, QuarantineEntry, RawPart, Report,
    ReportedPersonRow,
)
from tiptriage.intake.parsing import candidates
from tiptriage.intake.prepared import Candidate, Prepared, prepare


Checkpoint = Callable[[], None]  # what the caller does where it may commit (`session.commit`)


@dataclass
class IngestSummary:
    stored: int = 0
    duplicates: int = 0
    versions: int = 0  # stored reports that are a new version of one already stored
    rejected: int = 0
    files: int = 0
    errors: list[dict] = field(default_factory=list)
    report_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"stored": self.stored, "duplicates": self.duplicates, "versions": self.versions,
                "rejected": self.rejected, "files": self.files, "errors": self.errors}


def store(session: Session, paths: Iterable[str | Path], summary: IngestSummary, *, checkpoint: Checkpoint,
          actor: str | None = None, on_file: Callable[[Path], None] | None = None,
          batch_size: int | None = None) -> None:
    """Store the reports in `paths`, counting them in `summary`. Calls `checkpoint` after each unit
    of work — a batch stored, a report stored alone, a refusal quarantined — and never commits
    itself (`pipeline.ingest` passes `session.commit`): a killed run keeps every unit before the
    kill, and at most a batch is held. A unit the database refuses is undone to its savepoint."""
    # The collector is off while storing: the rows held hold no reference cycles, and its passes
    # over a batch cost a quarter of this process's CPU (0.7-0.8 s of ~3 s at 11k reports). What
    # was alive before (modules, the ORM's metadata: ~100k objects) is frozen, so the parse
    # workers forked meanwhile (see _init_parse_worker) neither scan it nor copy its pages.
    enabled = gc.isenabled()
    gc.disable()
    gc.freeze()
    try:
        _store_all(session, paths, summary, checkpoint, actor, on_file, batch_size)
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()


def _store_all(session: Session, paths: Iterable[str | Path], summary: IngestSummary, checkpoint: Checkpoint,
               actor: str | None, on_file: Callable[[Path], None] | None, batch_size: int | None) -> None:
    settings = get_settings()
    actor = actor or settings.actor
    batch_size = batch_size or settings.ingest_batch_size
    sqlite = session.get_bind().dialect.name == "sqlite"
    files = find_inputs(paths)
    summary.files += len(files)
    batch: list[Prepared] = []
    for item in candidates(files, limit=settings.max_file_bytes, on_file=on_file,
                           workers=settings.ingest_workers, sqlite=sqlite, ahead=batch_size):
        if isinstance(item, Candidate):  # parsed in this process, or joined with its siblings here
            item = prepare(item, sqlite)
        if isinstance(item, Prepared):
            batch.append(item)
            if len(batch) >= batch_size:
                _store(session, batch, actor, summary, checkpoint)
                batch = []
        else:
            _reject(session, item, actor, summary, checkpoint)
    if batch:
        _store(session, batch, actor, summary, checkpoint)


def _reject(session: Session, error: Exception, actor: str, summary: IngestSummary, checkpoint: Checkpoint) -> None:
    if not isinstance(error, IntakeError):
        error = IntakeError("?", f"unexpected error: {error}")
    raw_sha = hashlib.sha256(error.raw).hexdigest() if error.raw is not None else None
    report_id = error.report_id[:200] if error.report_id else None  # the column's width; the raw hash keeps the rest
    entry = QuarantineEntry(at=utcnow(), actor=actor, path=error.path, record=error.record,
                            report_id=report_id, field=error.field, reason=error.reason, raw_sha256=raw_sha)
    session.add(entry)
    session.flush()
    audit.record(session, actor=actor, action="report.reject", entity="quarantine", entity_ids=[entry.id],
                 reason=error.reason, details=error.as_dict() | {"raw_sha256": raw_sha})
    summary.rejected += 1
    summary.errors.append(error.as_dict() | {"message": error.message, "said": error.said})
    checkpoint()


def _store(session: Session, batch: list[Prepared], actor: str, summary: IngestSummary, checkpoint: Checkpoint, *,
           again: bool = False) -> None:
    try:
        with session.begin_nested():  # a refusal undoes this batch only, not the caller's transaction
            outcome = _store_batch(session, batch, actor)
    except (SQLAlchemyError, psycopg.Error) as exc:  # COPY raises psycopg's own errors
        if len(batch) == 1 and not again and _taken(exc):
            # Another ingest stored this report meanwhile (its transaction had not committed when
            # this one looked): looked at again, it is a duplicate, not a report to refuse.
            _store(session, batch, actor, summary, checkpoint, again=True)
            return
        if len(batch) == 1:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:300]
            _reject(session, IntakeError(batch[0].path_name, f"the database refused the report: {reason}",
                                         report_id=batch[0].external_id), actor, summary, checkpoint)
            return
        for one in batch:  # isolate the report that cannot be stored; the others go in
            _store(session, [one], actor, summary, checkpoint)
        return
    stored, versions, duplicates = outcome
    summary.stored += len(stored)
    summary.versions += versions
    summary.duplicates += duplicates
    summary.report_ids.extend(stored)
    checkpoint()


def _taken(exc: Exception) -> bool:
    """A unique key another transaction took first (PostgreSQL's unique_violation, SQLite's UNIQUE)."""
    orig = getattr(exc, "orig", exc)
    return getattr(orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(orig)


def _store_batch(session: Session, batch: list[Prepared], actor: str) -> tuple[list[int], int, int]:
    keys = {(c.source, c.external_id) for c in batch}
    known: dict[tuple[str, str], tuple[int, set[str]]] = {}
    # One expanding IN on external_id (indexed by the unique constraint's leading columns only
    # together with source, so filter source here): building a tuple IN of 500 pairs costs more
    # in SQLAlchemy than the query itself.
    rows = session.execute(
        select(Report.source, Report.external_id, Report.version, Report.content_sha256)
        .where(Report.external_id.in_({external_id for _, external_id in keys})))
    for source, external_id, version, digest in rows:
        if (source, external_id) not in keys:
            continue
        top, digests = known.setdefault((source, external_id), (0, set()))
        digests.add(digest)
        known[(source, external_id)] = (max(top, version), digests)
    now = utcnow()
    new: list[tuple[Prepared, str, int]] = []
    duplicates = versions = 0
    for c in batch:
        key, digest = (c.source, c.external_id), c.content_sha256
        version, digests = known.get(key, (0, set()))
        if digest in digests:
            duplicates += 1
            continue
        versions += version > 0
        known[key] = (version + 1, digests | {digest})
        new.append((c, digest, version + 1))
    if not new:
        return [], 0, duplicates
    report_ids = _insert_reports(session, new, actor, now)
    details = {"stored": [{"id": rid, "source": c.source, "external_id": c.external_id,
                           "version": version, "sha256": digest}
                          for rid, (c, digest, version) in zip(report_ids, new, strict=True)],
               "duplicates": duplicates}
    audit.record(session, actor=actor, action="report.ingest", entity="report", entity_ids=report_ids,
                 details=details)
    return report_ids, versions, duplicates


def _insert_reports(session: Session, new: list[tuple[Prepared, str, int]], actor: str, now: datetime) -> list[int]:
    """All rows of the new reports: parents get their ids first, then one bulk insert per table."""
    connection = session.connection()
    bulk = BulkInsert(connection)
    report_ids = allocate_ids(connection, Report.__table__, len(new))
    person_ids = iter(allocate_ids(connection, ReportedPersonRow.__table__, sum(len(c.persons) for c, _, _ in new)))
    file_ids = iter(allocate_ids(connection, FileRow.__table__, sum(len(c.files) for c, _, _ in new)))
    at = bulk.ts(now)
    reports, raws, persons, identifiers, addresses, ip_events, files, hashes = [], [], [], [], [], [], [], []
    for rid, (c, digest, version) in zip(report_ids, new, strict=True):
        reports.append((rid, c.source, c.external_id, version, digest, *c.report, at, actor))
        raws.extend((rid, seq, *part) for seq, part in enumerate(c.raws))
        for person, ids, addrs, events in c.persons:
            pid = next(person_ids)
            persons.append((pid, rid, *person))
            identifiers.extend((pid, *row) for row in ids)
            addresses.extend((pid, *row) for row in addrs)
            ip_events.extend((pid, *row) for row in events)
        for file, file_hashes in c.files:
            fid = next(file_ids)
            files.append((fid, rid, *file))
            hashes.extend((fid, *row) for row in file_hashes)
    # Parents before children (the foreign keys are checked row by row).
    bulk.insert(Report.__table__, REPORT_COLUMNS, reports)
    bulk.insert(RawPart.__table__, ("report_id", "seq", "name", "sha256", "size", "compression", "data"), raws)
    bulk.insert(ReportedPersonRow.__table__, PERSON_COLUMNS, persons)
    bulk.insert(FileRow.__table__, FILE_COLUMNS, files)
    bulk.insert(IdentifierRow.__table__, ("person_id", "kind", "value", "verified", "platform", "verified_at"),
                identifiers)
    bulk.insert(AddressRow.__table__, ("person_id", "street", "postcode", "city", "country"), addresses)
    bulk.insert(IpEventRow.__table__, ("person_id", "ip", "event", "at", "port", "possible_proxy"), ip_events)
    bulk.insert(FileHashRow.__table__, ("file_id", "hash_type", "value", "value_prefix"), hashes)
    return report_ids


REPORT_COLUMNS = ("id", "source", "external_id", "version", "content_sha256", "format", "incident_type",
                  "incident_at", "reported_at", "reporter", "annotations", "platform", "escalation", "batched",
                  "incidents", "reporter_contact", "law_enforcement", "intake_flags", "ingested_at", "ingested_by")


PERSON_COLUMNS = ("id", "report_id", "ref", "role", "given_name", "family_name", "date_of_birth", "age",
                  "estimated_country", "prior_reports", "details")


FILE_COLUMNS = ("id", "report_id", "ref", "file_name", "person_ref", "action", "recipients", "uploaded_at",
                "viewed_by_esp", "publicly_available", "classification", "annotations", "relevance", "details")
