"""Ingest: files in, reports stored once, bad input quarantined with a named reason.

The path of a batch: find files → read each (size limit, format detection, parse) → join sibling
file-details documents to their report → store reports in batches, one transaction per batch.
A batch that fails as a whole (a race with another ingest, a constraint) is retried one report per
transaction, so a report is always stored whole or not at all and the rest still goes in.
"""

from __future__ import annotations

import gc
import hashlib
import os
import re
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import psycopg
import zstandard
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tiptriage.audit import service as audit
from tiptriage.config import get_settings
from tiptriage.db import BulkInsert, ColumnValues, allocate_ids, utcnow
from tiptriage.intake.domain import Incident, Parsed, ParsedReport
from tiptriage.intake.errors import IntakeError
from tiptriage.intake.formats import read_file
from tiptriage.intake.formats.cybertip import SiblingFile, join_files
from tiptriage.intake.models import (
    AddressRow, FileHashRow, FileRow, IdentifierRow, IpEventRow, QuarantineEntry, RawPart, Report,
    ReportedPersonRow, value_prefix,
)

INPUT_SUFFIXES = {".xml", ".json", ".csv"}
# A file-details document: optional declaration, comments and white space, then <fileDetails>.
# A comment ends at its first "-->": with `<!--.*?-->` a head of a few dozen comments backtracked
# for hours (each comment could also end at any later "-->").
_SIBLING_ROOT = re.compile(
    r"^\s*(<\?xml[^>]*\?>)?(?:\s*<!--(?:(?!-->).)*-->)*\s*<([\w.-]+:)?fileDetails[\s>/]", re.S)
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
        return _content_sha256([hashlib.sha256(data).hexdigest() for _, data in self.parts])


def _content_sha256(digests: list[str]) -> str:
    if len(digests) == 1:
        return digests[0]
    # A report with sibling documents: the hash over its parts' hashes, in a fixed order.
    return hashlib.sha256((digests[0] + "".join(sorted(digests[1:]))).encode()).hexdigest()


class Prepared(NamedTuple):
    """A candidate as the rows the store writes, less the ids and version the store assigns.

    Built where the report was parsed (in the workers): plain tuples pickle about ten times faster
    than the domain objects, and hashing and compressing the raw bytes there keeps that work off
    the storing process, which is the bottleneck. Timestamps and dates are already in the form
    the database takes (`db.ColumnValues`).
    """

    source: str
    external_id: str
    content_sha256: str
    path_name: str  # the report document's file name, for a refusal by the database
    report: tuple  # REPORT_COLUMNS from "format" to "annotations"
    raws: tuple  # (name, sha256, size, compression, data) per document
    persons: tuple  # (PERSON_COLUMNS from "ref", identifier rows, address rows, IP event rows)
    files: tuple  # (FILE_COLUMNS from "ref", hash rows)


def prepare(candidate: Candidate, sqlite: bool) -> Prepared:
    """The rows of one candidate (see Prepared).

    Tuples, not lists: the garbage collector stops tracking a tuple of plain values, and the
    storing process holds a batch of these. tuple([...]) is cheaper than tuple(generator).
    """
    conv = ColumnValues(sqlite)
    ts, js = conv.ts, conv.js
    r = candidate.report
    digests = [hashlib.sha256(data).hexdigest() for _, data in candidate.parts]
    compress = _compressor().compress
    raws = tuple([(name, digest, len(data), RAW_COMPRESSION, compress(data))
                  for (name, data), digest in zip(candidate.parts, digests, strict=True)])
    persons = tuple([
        ((p.ref, p.role, p.given_name, p.family_name, conv.day(p.date_of_birth), p.age, p.estimated_country,
          js(p.prior_reports), js(p.details)),
         tuple([(i.kind, i.value, i.verified, i.platform, ts(i.verified_at)) for i in p.identifiers]),
         tuple([(a.street, a.postcode, a.city, a.country) for a in p.addresses]),
         tuple([(e.ip, e.event, ts(e.at), e.port, e.possible_proxy) for e in p.ip_events]))
        for p in r.persons])
    files = tuple([
        ((f.ref, f.file_name, f.person_ref, f.action, js(f.recipients), ts(f.uploaded_at), f.viewed_by_esp,
          f.publicly_available, f.classification, js(f.annotations), f.relevance, js(f.details)),
         tuple([(h.hash_type, h.value, value_prefix(h.value)) for h in f.hashes]))
        for f in r.files])
    report = (r.format, r.incident_type, ts(r.incident_at), ts(r.reported_at), r.reporter, js(r.annotations),
              r.platform, r.escalation, r.batched, js([incident_doc(i) for i in r.incidents]),
              js(r.reporter_contact), js(r.law_enforcement))
    return Prepared(r.source, r.external_id, _content_sha256(digests), candidate.parts[0][0], report, raws,
                    persons, files)


# Raw documents are kept as Zstandard frames: compressing a 2.5 KB report took 47-78 us with zlib
# (level 1, whose set-up dominates at that size) and 13-15 us with zstd level 1, which packs as
# tight (34% of the size; level 3: 33%, for 1.5% more of the workers' instructions). Parts stored
# as "zlib" by earlier versions are read as before.
RAW_COMPRESSION = "zstd"
_COMPRESSORS = threading.local()


def _compressor() -> zstandard.ZstdCompressor:
    """This thread's compressor (one is not safe to share between threads; making one costs 12 us)."""
    compressor = getattr(_COMPRESSORS, "compressor", None)
    if compressor is None:
        compressor = _COMPRESSORS.compressor = zstandard.ZstdCompressor(level=1)
    return compressor


def decompress(compression: str, data: bytes) -> bytes:
    """A stored raw part's original bytes."""
    if compression == "zstd":
        return zstandard.ZstdDecompressor().decompress(data)
    if compression == "zlib":
        return zlib.decompress(data)
    raise ValueError(f"unknown compression {compression!r}")


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
    for p in paths:
        p = p if isinstance(p, Path) else Path(p)  # Path(a Path) parses it again: 0.1 s for 14k files
        if p.is_dir():
            found.update((f, None) for f in _report_files(p))
        else:
            found[p] = None
    return list(found)


def _report_files(folder: Path) -> list[Path]:
    """The report files below `folder` in the order of sorted(folder.rglob("*")), which stats every
    entry and builds a Path per step: a folder of 100k reports took seconds before any parsing.
    As rglob: symbolic links to folders are not followed, unreadable folders are skipped."""
    root = str(folder)
    names: list[tuple[str, ...]] = []
    pending = [()]
    while pending:
        rel = pending.pop()
        try:
            with os.scandir(os.path.join(root, *rel)) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append((*rel, entry.name))
                    elif os.path.splitext(entry.name)[1].lower() in INPUT_SUFFIXES and entry.is_file():
                        names.append((*rel, entry.name))
        except PermissionError:
            continue
    names.sort()  # a Path sorts by its parts
    return [folder.joinpath(*parts) for parts in names]


def _read_bytes(path: Path, limit: int) -> bytes:
    # os.open/os.read rather than Path.open: no buffered file object per file (each file is read
    # once whole and its head once more while sniffing; that object cost 5-10 us a file).
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise IntakeError(str(path), f"cannot read: {exc.strerror}") from None
    try:
        size = os.fstat(fd).st_size
        if size > limit:
            raise IntakeError(str(path), f"file is {size:,} bytes, over the limit of {limit:,} "
                                         "(TIPTRIAGE_MAX_FILE_BYTES)")
        # size + 1, not limit + 1: asking for 50 MiB allocates that much per call, which made
        # reading a small report three times slower than reading it whole.
        data = os.read(fd, size + 1)
        while len(data) <= limit:  # a short read, or the file grew since fstat: read on, up to the limit
            more = os.read(fd, limit + 1 - len(data))
            if not more:
                break
            data += more
    except OSError as exc:  # e.g. a folder named like a report, or an I/O error
        raise IntakeError(str(path), f"cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > limit:  # grew while we read it
        raise IntakeError(str(path), f"file is over the limit of {limit:,} bytes")
    return data


def _head(path: Path) -> bytes | None:
    """The first SNIFF_BYTES of a file, None when it cannot be read (the main pass says why)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return os.read(fd, SNIFF_BYTES)
    except OSError:
        return None
    finally:
        os.close(fd)


def _items(path: Path, limit: int) -> Iterator:
    try:
        data = _read_bytes(path, limit)
    except IntakeError as exc:
        yield exc
        return
    yield from read_file(str(path), data)


# --- worker side: both passes run in the parse workers (or in-process for small inputs) ----------

def _sniff_chunk(paths: list[Path], limit: int) -> list[tuple[Path, list]]:
    """Pass 1: the file-details documents among `paths` (cheaply recognised by their root), parsed."""
    found = []
    for path in paths:
        if path.suffix.lower() != ".xml":
            continue
        head = _head(path)
        if head is not None and _is_sibling(head):
            found.append((path, list(_items(path, limit))))
    return _collected(found)


def _is_sibling(head: bytes) -> bool:
    codec = next((c for bom, c in _BOM_CODECS if head.startswith(bom)), "utf-8")
    text = head.decode(codec, errors="ignore").removeprefix("\ufeff")
    return _SIBLING_ROOT.match(text) is not None


class Joined(NamedTuple):
    """A report joined with its sibling documents in a worker: what `_joined` yields, candidates
    already Prepared. The storing process takes `items` if the siblings are still unclaimed; if an
    earlier document of the folder with the same report id took them (rare), it reads the file
    again and stores item number `index` of it alone, rather than every worker preparing each
    joined report twice."""

    external_id: str
    items: list
    index: int  # of the report among the file's items


# Set in each pass-2 worker: the sibling documents by (folder, report id), as pass 1 found them
# (inherited when the worker is forked, not pickled), and whether rows are prepared for SQLite.
_worker_siblings: dict = {}
_worker_sqlite: bool = True


def _init_parse_worker(siblings: dict | None = None, sqlite: bool = True) -> None:
    global _worker_siblings, _worker_sqlite
    _worker_siblings, _worker_sqlite = siblings or {}, sqlite
    # The automatic collector cost the workers 12% of their time, and parsing makes no reference
    # cycles (none found over the 10k bench set and over refused documents). Each task ends with
    # a young-generation pass (`_collected`), which costs nothing measurable, in case one ever does.
    gc.disable()


def _collected(result):
    gc.collect(0)
    return result


def _parse_chunk(paths: list[Path], limit: int) -> list[list]:
    """Pass 2: the items of each file, reports already as their rows (Prepared, or Joined)."""
    return _collected([[_ready(path, n, item) for n, item in enumerate(_items(path, limit))] for path in paths])


def _ready(path: Path, index: int, item):
    if not isinstance(item, Parsed):
        return item
    key = (path.parent, item.report.external_id)
    extra = _worker_siblings.get(key)
    if extra is None:
        # As a plain tuple: a NamedTuple pickles through Python code, which cost the workers about
        # 17 us and the storing process 8 us a report; `candidates` makes it a Prepared again.
        return tuple(prepare(Candidate(item.report, [(path.name, item.raw)]), _worker_sqlite))
    # Joining and preparing here keeps that work off the storing process, the bottleneck.
    items = [prepare(x, _worker_sqlite) if isinstance(x, Candidate) else x for x in _joined(path, item, extra)]
    return Joined(item.report.external_id, items, index)


def _unjoined(path: Path, joined: Joined, limit: int) -> Iterator:
    """The report of a Joined whose siblings an earlier document took: read again, alone."""
    item = list(_items(path, limit))[joined.index]
    yield from _joined(path, item, []) if isinstance(item, Parsed) else (item,)


# --- main side -----------------------------------------------------------------------------------

def _chunks(files: list[Path]) -> list[list[Path]]:
    return [files[i:i + PARALLEL_CHUNK] for i in range(0, len(files), PARALLEL_CHUNK)]


def _siblings(files: list[Path], limit: int, workers: int) -> tuple[dict, list, set[Path]]:
    """First pass: file-details documents, keyed by folder and report (sniffed in the workers)."""
    by_report: dict[tuple[Path, str], list[SiblingFile]] = {}
    errors: list[IntakeError] = []
    seen: set[Path] = set()
    if _parallel(files, workers):
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers, initializer=_init_parse_worker) as pool:
            chunks = [files[i:i + SNIFF_CHUNK] for i in range(0, len(files), SNIFF_CHUNK)]
            found = [x for chunk in pool.map(_sniff_chunk, chunks, [limit] * len(chunks)) for x in chunk]
    else:
        found = _sniff_chunk(files, limit)
    for path, items in found:
        seen.add(path)
        for item in items:
            if isinstance(item, SiblingFile):
                by_report.setdefault((path.parent, item.report_id), []).append(item)
            else:
                errors.append(item)
    return by_report, errors, seen


def _parallel(files: list[Path], workers: int) -> bool:
    # Small inputs are read in-process: a pool costs more than it saves there.
    return workers > 1 and len(files) >= PARALLEL_MIN_FILES


def _read_all(files: list[Path], limit: int, workers: int, siblings: dict,
              sqlite: bool | None, ahead: int = 0) -> Iterator[tuple[Path, list]]:
    """(file, its items) in file order; parsed in `workers` processes while the caller stores.

    With `sqlite` given (True/False), workers return reports as Prepared rows (or Joined ones).
    At most `ahead` files (and at least 2 chunks per worker) are in flight, so memory stays
    bounded when storing is slower than parsing. Ingest asks for a batch's worth: with only 2
    chunks a worker, the workers stood idle while a batch was stored (the parse phase kept 1.4
    of 2 cores busy).
    """
    if not _parallel(files, workers):
        for path in files:
            yield path, list(_items(path, limit))
        return
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    task, init = (_parse_chunk, (siblings, sqlite)) if sqlite is not None else (_read_chunk, ())
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_parse_worker, initargs=init) as pool:
        pending: deque = deque()
        in_flight = max(2 * workers, ahead // PARALLEL_CHUNK)
        for chunk in _chunks(files):
            pending.append((chunk, pool.submit(task, chunk, limit)))
            if len(pending) >= in_flight:
                yield from _drain(pending.popleft())
        while pending:
            yield from _drain(pending.popleft())


def _read_chunk(paths: list[Path], limit: int) -> list[list]:
    """Worker process: the items of each file as parsed (for callers that want the domain objects)."""
    return _collected([list(_items(path, limit)) for path in paths])


def _drain(job) -> Iterator[tuple[Path, list]]:
    chunk, future = job
    yield from zip(chunk, future.result(), strict=True)


PARALLEL_MIN_FILES = 400
PARALLEL_CHUNK = 64
SNIFF_CHUNK = 1024  # sniffing reads 4 KiB of a file: larger tasks, fewer round trips


def candidates(files: list[Path], *, limit: int, on_file: Callable[[Path], None] | None = None,
               workers: int = 1, sqlite: bool | None = None, ahead: int = 0) -> Iterator:
    """Candidates and IntakeErrors, file by file; sibling file details joined to their report.

    With `sqlite` given, reports parsed in worker processes come as Prepared rows for that store
    instead of Candidates (see Prepared, Joined); up to `ahead` files are parsed ahead of the caller.
    A report is only a candidate with all its sibling
    documents: when one of them, or the report, is refused, the report and all its siblings are
    refused together (nothing half-stored).
    """
    siblings, errors, sibling_paths = _siblings(files, limit, workers)
    yield from errors
    for path, items in _read_all([f for f in files if f not in sibling_paths], limit, workers, siblings, sqlite,
                                  ahead):
        for item in items:
            if type(item) is tuple:  # a Prepared without siblings (the worker checked), see _ready
                yield Prepared._make(item)
            elif isinstance(item, Joined):
                claimed = siblings.pop((path.parent, item.external_id), None) is None
                yield from _unjoined(path, item, limit) if claimed else item.items
            elif isinstance(item, Parsed):
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
    # The collector is off while storing: the rows held hold no reference cycles, and its passes
    # over a batch cost a quarter of this process's CPU (0.7-0.8 s of ~3 s at 11k reports). What
    # was alive before (modules, the ORM's metadata: ~100k objects) is frozen, so the parse
    # workers forked meanwhile (see _init_parse_worker) neither scan it nor copy its pages.
    enabled = gc.isenabled()
    gc.disable()
    gc.freeze()
    try:
        return _ingest(session, paths, actor, on_file, batch_size)
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()


def _ingest(session: Session, paths: Iterable[str | Path], actor: str | None,
            on_file: Callable[[Path], None] | None, batch_size: int | None) -> IngestSummary:
    settings = get_settings()
    actor = actor or settings.actor
    batch_size = batch_size or settings.ingest_batch_size
    sqlite = session.get_bind().dialect.name == "sqlite"
    files = find_inputs(paths)
    summary = IngestSummary(files=len(files))
    batch: list[Prepared] = []
    for item in candidates(files, limit=settings.max_file_bytes, on_file=on_file,
                           workers=settings.ingest_workers, sqlite=sqlite, ahead=batch_size):
        if isinstance(item, Candidate):  # parsed in this process, or joined with its siblings here
            item = prepare(item, sqlite)
        if isinstance(item, Prepared):
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


def _store(session: Session, batch: list[Prepared], actor: str, summary: IngestSummary, *,
           again: bool = False) -> None:
    try:
        outcome = _store_batch(session, batch, actor)
        session.commit()
    except (SQLAlchemyError, psycopg.Error) as exc:  # COPY raises psycopg's own errors
        session.rollback()
        if len(batch) == 1 and not again and _taken(exc):
            # Another ingest stored this report meanwhile (its transaction had not committed when
            # this one looked): looked at again, it is a duplicate, not a report to refuse.
            _store(session, batch, actor, summary, again=True)
            return
        if len(batch) == 1:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:300]
            _reject(session, IntakeError(batch[0].path_name, f"the database refused the report: {reason}",
                                         report_id=batch[0].external_id), actor, summary)
            return
        for one in batch:  # isolate the report that cannot be stored; the others go in
            _store(session, [one], actor, summary)
        return
    stored, versions, duplicates = outcome
    summary.stored += len(stored)
    summary.versions += versions
    summary.duplicates += duplicates
    summary.report_ids.extend(stored)


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
                  "incidents", "reporter_contact", "law_enforcement", "ingested_at", "ingested_by")
PERSON_COLUMNS = ("id", "report_id", "ref", "role", "given_name", "family_name", "date_of_birth", "age",
                  "estimated_country", "prior_reports", "details")
FILE_COLUMNS = ("id", "report_id", "ref", "file_name", "person_ref", "action", "recipients", "uploaded_at",
                "viewed_by_esp", "publicly_available", "classification", "annotations", "relevance", "details")


def incident_doc(incident: Incident) -> dict:
    """An incident as stored (reports.incidents) and shown (`reports show --json`)."""
    return {"kind": incident.kind, "details": [list(d) for d in incident.details],
            "third_party_hosted": incident.third_party_hosted,
            "ip_events": [{"ip": e.ip, "event": e.event, "at": _iso(e.at), "port": e.port,
                           "possible_proxy": e.possible_proxy} for e in incident.ip_events]}


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
        data = decompress(part.compression, part.data)
        if hashlib.sha256(data).hexdigest() != part.sha256:
            raise ValueError(f"report {report.id}: raw part {part.seq} does not match its SHA-256")
        out.append((part.name, data))
    return out


def read_raw(session: Session, report_id: int, *, actor: str, reason: str | None = None) -> list[dict] | None:
    """The report's documents as they arrived (each checked against its stored SHA-256), audited.

    None when there is no such report; ValueError when a stored part no longer matches its hash
    (the store was altered: the caller must not hand such bytes on as the original).
    """
    report = session.get(Report, report_id)
    if report is None:
        return None
    try:
        documents = raw_documents(session, report)
    except ValueError as exc:  # a sign the store was tampered with: the attempt is on record too
        audit.record(session, actor=actor, action="report.raw_read", entity="report", entity_ids=[report.id],
                     reason=reason, details={"refused": str(exc)})
        session.commit()
        raise
    parts = [{"seq": p.seq, "name": name, "sha256": p.sha256, "data": data}
             for p, (name, data) in zip(report.raw_parts, documents, strict=True)]
    audit.record(session, actor=actor, action="report.raw_read", entity="report", entity_ids=[report.id],
                 reason=reason, details={"parts": [{"seq": p["seq"], "sha256": p["sha256"]} for p in parts]})
    session.commit()
    return parts


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
        "annotations": report.annotations, "platform": report.platform, "escalation": report.escalation,
        "batched": report.batched, "incidents": report.incidents, "reporter_contact": report.reporter_contact,
        "law_enforcement": report.law_enforcement, "ingested_at": _iso(report.ingested_at),
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
        "prior_reports": p.prior_reports, "details": p.details,
        "identifiers": [{"kind": i.kind, "value": i.value, "verified": i.verified, "platform": i.platform,
                         "verified_at": _iso(i.verified_at)} for i in p.identifiers],
        "addresses": [{"street": a.street, "postcode": a.postcode, "city": a.city, "country": a.country}
                      for a in p.addresses],
        "ip_events": [{"ip": e.ip, "event": e.event, "at": _iso(e.at), "port": e.port,
                       "possible_proxy": e.possible_proxy} for e in p.ip_events],
    }


def _file_doc(f: FileRow) -> dict:
    return {
        "id": f.id, "ref": f.ref, "file_name": f.file_name, "person_ref": f.person_ref, "action": f.action,
        "recipients": f.recipients, "uploaded_at": _iso(f.uploaded_at), "viewed_by_esp": f.viewed_by_esp,
        "publicly_available": f.publicly_available, "classification": f.classification,
        "annotations": f.annotations, "relevance": f.relevance, "details": f.details,
        "hashes": [{"hash_type": h.hash_type, "value": h.value} for h in f.hashes],
    }


def quarantine(session: Session, *, limit: int = 50) -> list[QuarantineEntry]:
    return list(session.execute(select(QuarantineEntry).order_by(QuarantineEntry.id.desc()).limit(limit)).scalars())
