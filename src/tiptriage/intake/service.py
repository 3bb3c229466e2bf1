"""Ingest: files in, reports stored once, bad input quarantined with a named reason.

The path of a batch: find files → read each (size limit, format detection, parse) → join sibling
file-details documents to their report → store reports in batches, one transaction per batch.
A batch that fails as a whole (a race with another ingest, a constraint) is retried one report per
transaction, so a report is always stored whole or not at all and the rest still goes in.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
import psycopg
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tiptriage.audit import service as audit
from tiptriage.config import get_settings
from tiptriage.db import BulkInsert, allocate_ids, utcnow
from tiptriage.intake.domain import Parsed, ParsedReport
from tiptriage.intake.errors import IntakeError
from tiptriage.intake.formats import read_file
from tiptriage.intake.formats.cybertip import SiblingFile, join_files
from tiptriage.intake.models import (
    AddressRow, FileHashRow, FileRow, IdentifierRow, IpEventRow, QuarantineEntry, RawPart, Report,
    ReportedPersonRow,
)

INPUT_SUFFIXES = {".xml", ".json", ".csv"}
# A file-details document: optional declaration, comments and white space, then <fileDetails>.
_SIBLING_ROOT = re.compile(r"^\s*(<\?xml[^>]*\?>)?(\s*<!--.*?-->)*\s*<([\w.-]+:)?fileDetails[\s>/]", re.S)
_BOM_CODECS = ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\xef\xbb\xbf", "utf-8-sig"),
               (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"))
SNIFF_BYTES = 4096


@dataclass
class Candidate:
    """A parsed report ready to store, with the raw documents it came from (report first)."""

    report: ParsedReport
    parts: list[tuple[str, bytes]]  # (file name, bytes)

    @property
    def content_sha256(self) -> str:
        if len(self.parts) == 1:
            return hashlib.sha256(self.parts[0][1]).hexdigest()
        # A report with sibling documents: the hash over its parts' hashes, in a fixed order.
        digests = [hashlib.sha256(data).hexdigest() for _, data in self.parts]
        return hashlib.sha256((digests[0] + "".join(sorted(digests[1:]))).encode()).hexdigest()


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


def find_inputs(paths: Iterable[str | Path]) -> list[Path]:
    """Files named directly, and report files (.xml, .json, .csv) found below folders, sorted."""
    found: dict[Path, None] = {}  # ordered, and a file named twice (or below two folders) is read once
    for p in map(Path, paths):
        if p.is_dir():
            found.update((f, None) for f in sorted(p.rglob("*")) if f.is_file() and f.suffix.lower() in INPUT_SUFFIXES)
        else:
            found[p] = None
    return list(found)


def _read_bytes(path: Path, limit: int) -> bytes:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IntakeError(str(path), f"cannot read: {exc.strerror}") from None
    if size > limit:
        raise IntakeError(str(path), f"file is {size:,} bytes, over the limit of {limit:,} "
                                     "(TIPTRIAGE_MAX_FILE_BYTES)")
    with path.open("rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:  # grew while we read it
        raise IntakeError(str(path), f"file is over the limit of {limit:,} bytes")
    return data


def _items(path: Path, limit: int) -> Iterator:
    try:
        data = _read_bytes(path, limit)
    except IntakeError as exc:
        yield exc
        return
    yield from read_file(str(path), data)


def _siblings(files: list[Path], limit: int) -> tuple[dict, list, set[Path]]:
    """First pass: file-details documents (cheaply recognised by their root), keyed by folder and report."""
    by_report: dict[tuple[Path, str], list[SiblingFile]] = {}
    errors: list[IntakeError] = []
    seen: set[Path] = set()
    for path in files:
        if path.suffix.lower() != ".xml":
            continue
        try:
            with path.open("rb") as fh:
                head = fh.read(SNIFF_BYTES)
        except OSError:
            continue  # reported by the main pass
        if not _is_sibling(head):
            continue
        seen.add(path)
        for item in _items(path, limit):
            if isinstance(item, SiblingFile):
                by_report.setdefault((path.parent, item.report_id), []).append(item)
            else:
                errors.append(item)
    return by_report, errors, seen


def _is_sibling(head: bytes) -> bool:
    codec = next((c for bom, c in _BOM_CODECS if head.startswith(bom)), "utf-8")
    text = head.decode(codec, errors="ignore").removeprefix("\ufeff")
    return _SIBLING_ROOT.match(text) is not None


def _read_chunk(paths: list[Path], limit: int) -> list[list]:
    """Worker process: the items of each file (parsing is the CPU-heavy half of ingest)."""
    return [list(_items(path, limit)) for path in paths]


def _read_all(files: list[Path], limit: int, workers: int) -> Iterator[tuple[Path, list]]:
    """(file, its items) in file order; parsed in `workers` processes while the caller stores.

    At most 2 chunks per worker are in flight, so memory stays bounded when storing is slower
    than parsing. Small inputs are read in-process: a pool costs more than it saves there.
    """
    if workers <= 1 or len(files) < PARALLEL_MIN_FILES:
        for path in files:
            yield path, list(_items(path, limit))
        return
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    chunks = [files[i:i + PARALLEL_CHUNK] for i in range(0, len(files), PARALLEL_CHUNK)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending: deque = deque()
        for chunk in chunks:
            pending.append((chunk, pool.submit(_read_chunk, chunk, limit)))
            if len(pending) >= 2 * workers:
                yield from _drain(pending.popleft())
        while pending:
            yield from _drain(pending.popleft())


def _drain(job) -> Iterator[tuple[Path, list]]:
    chunk, future = job
    yield from zip(chunk, future.result(), strict=True)


PARALLEL_MIN_FILES = 400
PARALLEL_CHUNK = 64


def candidates(files: list[Path], *, limit: int, on_file: Callable[[Path], None] | None = None,
               workers: int = 1) -> Iterator:
    """Candidates and IntakeErrors, file by file; sibling file details joined to their report.

    A report is only a candidate with all its sibling documents: when one of them, or the report,
    is refused, the report and all its siblings are refused together (nothing half-stored).
    """
    siblings, errors, sibling_paths = _siblings(files, limit)
    yield from errors
    for path, items in _read_all([f for f in files if f not in sibling_paths], limit, workers):
        for item in items:
            if isinstance(item, Parsed):
                yield from _joined(path, item, siblings.pop((path.parent, item.report.external_id), []))
            elif isinstance(item, SiblingFile):  # its head did not look like one: we cannot join it safely
                yield IntakeError(str(path), "file details document could not be recognised before parsing "
                                  "(it must start with <fileDetails>)", report_id=item.report_id, raw=item.raw)
            else:
                yield item
                if item.report_id and (path.parent, item.report_id) in siblings:
                    yield from _refuse_siblings(siblings.pop((path.parent, item.report_id)), path)
        if on_file:
            on_file(path)
    if on_file:
        for path in sibling_paths:
            on_file(path)
    for (_, report_id), orphans in siblings.items():
        for s in orphans:
            yield IntakeError(s.path, "file details for a report that is not in the same folder",
                              report_id=report_id, field="fileDetails/reportId", raw=s.raw)


def _joined(path: Path, item: Parsed, extra: list[SiblingFile]) -> Iterator:
    report = item.report
    if extra:
        try:
            report = join_files(report, extra)
        except IntakeError as exc:
            yield exc
            yield IntakeError(str(path), f"refused with its file details document {Path(exc.path).name}",
                              report_id=report.external_id, raw=item.raw)
            yield from _refuse_siblings([s for s in extra if s.path != exc.path], path)
            return
    yield Candidate(report, [(path.name, item.raw)] + [(Path(s.path).name, s.raw) for s in extra])


def _refuse_siblings(extra: list[SiblingFile], report_path: Path) -> Iterator[IntakeError]:
    for s in extra:
        yield IntakeError(s.path, f"file details of a report that was refused ({report_path.name})",
                          report_id=s.report_id, raw=s.raw)


# --- storing -------------------------------------------------------------------------------------

def ingest(session: Session, paths: Iterable[str | Path], *, actor: str | None = None,
           on_file: Callable[[Path], None] | None = None, batch_size: int | None = None) -> IngestSummary:
    settings = get_settings()
    actor = actor or settings.actor
    batch_size = batch_size or settings.ingest_batch_size
    files = find_inputs(paths)
    summary = IngestSummary(files=len(files))
    batch: list[Candidate] = []
    for item in candidates(files, limit=settings.max_file_bytes, on_file=on_file, workers=settings.ingest_workers):
        if isinstance(item, Candidate):
            batch.append(item)
            if len(batch) >= batch_size:
                _store(session, batch, actor, summary)
                batch = []
        else:
            _reject(session, item, actor, summary)
    if batch:
        _store(session, batch, actor, summary)
    return summary


def _reject(session: Session, error: Exception, actor: str, summary: IngestSummary) -> None:
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
    session.commit()
    summary.rejected += 1
    summary.errors.append(error.as_dict() | {"message": error.message})


def _store(session: Session, batch: list[Candidate], actor: str, summary: IngestSummary) -> None:
    try:
        outcome = _store_batch(session, batch, actor)
        session.commit()
    except (SQLAlchemyError, psycopg.Error) as exc:  # COPY raises psycopg's own errors
        session.rollback()
        if len(batch) == 1:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:300]
            _reject(session, IntakeError(batch[0].parts[0][0], f"the database refused the report: {reason}",
                                         report_id=batch[0].report.external_id), actor, summary)
            return
        for one in batch:  # isolate the report that cannot be stored; the others go in
            _store(session, [one], actor, summary)
        return
    stored, versions, duplicates = outcome
    summary.stored += len(stored)
    summary.versions += versions
    summary.duplicates += duplicates
    summary.report_ids.extend(stored)


def _store_batch(session: Session, batch: list[Candidate], actor: str) -> tuple[list[int], int, int]:
    keys = {(c.report.source, c.report.external_id) for c in batch}
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
    new: list[tuple[Candidate, str, int]] = []
    duplicates = versions = 0
    for c in batch:
        key, digest = (c.report.source, c.report.external_id), c.content_sha256
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
    details = {"stored": [{"id": rid, "source": c.report.source, "external_id": c.report.external_id,
                           "version": version, "sha256": digest}
                          for rid, (c, digest, version) in zip(report_ids, new, strict=True)],
               "duplicates": duplicates}
    audit.record(session, actor=actor, action="report.ingest", entity="report", entity_ids=report_ids,
                 details=details)
    return report_ids, versions, duplicates


def _insert_reports(session: Session, new: list[tuple[Candidate, str, int]], actor: str, now) -> list[int]:
    """All rows of the new reports: parents get their ids first, then one executemany per table."""
    connection = session.connection()
    bulk = BulkInsert(connection)
    ts, js = bulk.ts, bulk.js
    report_ids = allocate_ids(connection, Report.__table__, len(new))
    reports, raws, persons, files = [], [], [], []
    for rid, (c, digest, version) in zip(report_ids, new, strict=True):
        r = c.report
        reports.append((rid, r.source, r.external_id, version, digest, r.format, r.incident_type, ts(r.incident_at),
                        ts(r.reported_at), r.reporter, js(list(r.annotations)), ts(now), actor))
        for seq, (name, data) in enumerate(c.parts):
            raws.append((rid, seq, name, hashlib.sha256(data).hexdigest(), len(data), "zlib", zlib.compress(data, 1)))
        persons.extend((rid, p) for p in r.persons)
        files.extend((rid, f) for f in r.files)
    person_ids = allocate_ids(connection, ReportedPersonRow.__table__, len(persons))
    file_ids = allocate_ids(connection, FileRow.__table__, len(files))
    bulk.insert(Report.__table__, REPORT_COLUMNS, reports)
    bulk.insert(RawPart.__table__, ("report_id", "seq", "name", "sha256", "size", "compression", "data"), raws)
    bulk.insert(ReportedPersonRow.__table__, PERSON_COLUMNS, [
        (pid, rid, p.ref, p.role, p.given_name, p.family_name, bulk.day(p.date_of_birth), p.age, p.estimated_country,
         js(list(p.prior_reports))) for pid, (rid, p) in zip(person_ids, persons, strict=True)])
    bulk.insert(FileRow.__table__, FILE_COLUMNS, [
        (fid, rid, f.ref, f.file_name, f.person_ref, f.action, js(list(f.recipients)), ts(f.uploaded_at),
         f.viewed_by_esp, f.publicly_available, f.classification, js(list(f.annotations)))
        for fid, (rid, f) in zip(file_ids, files, strict=True)])
    pairs = list(zip(person_ids, (p for _, p in persons), strict=True))
    bulk.insert(IdentifierRow.__table__, ("person_id", "kind", "value", "verified", "platform"),
                [(pid, i.kind, i.value, i.verified, i.platform) for pid, p in pairs for i in p.identifiers])
    bulk.insert(AddressRow.__table__, ("person_id", "street", "postcode", "city", "country"),
                [(pid, a.street, a.postcode, a.city, a.country) for pid, p in pairs for a in p.addresses])
    bulk.insert(IpEventRow.__table__, ("person_id", "ip", "event", "at", "port"),
                [(pid, e.ip, e.event, ts(e.at), e.port) for pid, p in pairs for e in p.ip_events])
    bulk.insert(FileHashRow.__table__, ("file_id", "hash_type", "value"),
                [(fid, h.hash_type, h.value) for fid, (_, f) in zip(file_ids, files, strict=True) for h in f.hashes])
    return report_ids


REPORT_COLUMNS = ("id", "source", "external_id", "version", "content_sha256", "format", "incident_type",
                  "incident_at", "reported_at", "reporter", "annotations", "ingested_at", "ingested_by")
PERSON_COLUMNS = ("id", "report_id", "ref", "role", "given_name", "family_name", "date_of_birth", "age",
                  "estimated_country", "prior_reports")
FILE_COLUMNS = ("id", "report_id", "ref", "file_name", "person_ref", "action", "recipients", "uploaded_at",
                "viewed_by_esp", "publicly_available", "classification", "annotations")


# --- reading ------------------------------------------------------------------------------------

def list_reports(session: Session, *, limit: int = 50, offset: int = 0, source: str | None = None) -> list[Report]:
    query = select(Report).order_by(Report.id.desc()).limit(limit).offset(offset)
    if source:
        query = query.where(Report.source == source)
    return list(session.execute(query).scalars())


def count_reports(session: Session) -> int:
    from sqlalchemy import func

    return session.execute(select(func.count()).select_from(Report)).scalar_one()


def raw_documents(session: Session, report: Report) -> list[tuple[str, bytes]]:
    """The report's original bytes, decompressed and checked against their stored SHA-256."""
    out = []
    for part in report.raw_parts:
        data = zlib.decompress(part.data) if part.compression == "zlib" else part.data
        if hashlib.sha256(data).hexdigest() != part.sha256:
            raise ValueError(f"report {report.id}: raw part {part.seq} does not match its SHA-256")
        out.append((part.name, data))
    return out


def report_document(session: Session, report_id: int, *, actor: str, reason: str | None = None) -> dict | None:
    """Everything known about one report, as the JSON shape the CLI and API share.

    Reading a report reads personal data: the access is audited with who and why.
    """
    report = session.get(Report, report_id)
    if report is None:
        return None
    versions = session.execute(
        select(Report.id, Report.version, Report.ingested_at)
        .where(Report.source == report.source, Report.external_id == report.external_id)
        .order_by(Report.version)).all()
    doc = {
        "id": report.id, "source": report.source, "external_id": report.external_id, "version": report.version,
        "versions": [{"id": i, "version": v, "ingested_at": at.isoformat()} for i, v, at in versions],
        "format": report.format, "content_sha256": report.content_sha256,
        "incident_type": report.incident_type, "incident_at": _iso(report.incident_at),
        "reported_at": _iso(report.reported_at), "reporter": report.reporter,
        "annotations": report.annotations, "ingested_at": _iso(report.ingested_at),
        "ingested_by": report.ingested_by,
        "raw": [{"seq": p.seq, "name": p.name, "sha256": p.sha256, "size": p.size} for p in report.raw_parts],
        "persons": [_person_doc(p) for p in report.persons],
        "files": [_file_doc(f) for f in report.files],
    }
    audit.record(session, actor=actor, action="report.view", entity="report", entity_ids=[report.id],
                 reason=reason)
    session.commit()
    return doc


def _iso(value) -> str | None:
    return None if value is None else value.isoformat()


def _person_doc(p: ReportedPersonRow) -> dict:
    return {
        "id": p.id, "ref": p.ref, "role": p.role, "given_name": p.given_name, "family_name": p.family_name,
        "date_of_birth": _iso(p.date_of_birth), "age": p.age, "estimated_country": p.estimated_country,
        "prior_reports": p.prior_reports,
        "identifiers": [{"kind": i.kind, "value": i.value, "verified": i.verified, "platform": i.platform}
                        for i in p.identifiers],
        "addresses": [{"street": a.street, "postcode": a.postcode, "city": a.city, "country": a.country}
                      for a in p.addresses],
        "ip_events": [{"ip": e.ip, "event": e.event, "at": _iso(e.at), "port": e.port} for e in p.ip_events],
    }


def _file_doc(f: FileRow) -> dict:
    return {
        "id": f.id, "ref": f.ref, "file_name": f.file_name, "person_ref": f.person_ref, "action": f.action,
        "recipients": f.recipients, "uploaded_at": _iso(f.uploaded_at), "viewed_by_esp": f.viewed_by_esp,
        "publicly_available": f.publicly_available, "classification": f.classification,
        "annotations": f.annotations,
        "hashes": [{"hash_type": h.hash_type, "value": h.value} for h in f.hashes],
    }


def quarantine(session: Session, *, limit: int = 50) -> list[QuarantineEntry]:
    return list(session.execute(select(QuarantineEntry).order_by(QuarantineEntry.id.desc()).limit(limit)).scalars())
