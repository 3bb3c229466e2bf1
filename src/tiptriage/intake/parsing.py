"""Ingest: read and parse report files, in worker processes for larger inputs.

Two passes: file-details documents first (sniffed by their root), then every other file, each
report joined with its sibling documents. At most a batch's worth of files is in flight, so memory
stays bounded while the caller stores. A report is a candidate only with all its sibling documents.
"""

from __future__ import annotations

import gc
import os
import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

from tiptriage.i18n import N_
from tiptriage.intake.discovery import NOT_REGULAR, RefusedPath, kind_of
from tiptriage.intake.domain import Parsed
from tiptriage.intake.errors import IntakeError
from tiptriage.intake.formats import read_file
from tiptriage.intake.formats.cybertip import SiblingFile, join_files
from tiptriage.intake.prepared import Candidate, Prepared, prepare


# A file-details document: optional declaration, comments and white space, then <fileDetails>.
# A comment ends at its first "-->": with `<!--.*?-->` a head of a few dozen comments backtracked
# for hours (each comment could also end at any later "-->").
_SIBLING_ROOT = re.compile(
    r"^\s*(<\?xml[^>]*\?>)?(?:\s*<!--(?:(?!-->).)*-->)*\s*<([\w.-]+:)?fileDetails[\s>/]", re.S)


_BOM_CODECS = ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\xef\xbb\xbf", "utf-8-sig"),
               (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"))


SNIFF_BYTES = 4096


def _read_bytes(path: Path, limit: int) -> bytes:
    # os.open/os.read rather than Path.open: no buffered file object per file (each file is read
    # once whole and its head once more while sniffing; that object cost 5-10 us a file).
    try:
        fd = _open_regular(path)
    except OSError as exc:
        raise IntakeError(str(path), f"cannot read: {exc.strerror}") from None
    if fd is None:
        raise _not_regular(path)
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
        fd = _open_regular(path)
    except OSError:
        return None
    if fd is None:
        return None
    try:
        return os.read(fd, SNIFF_BYTES)
    except OSError:
        return None
    finally:
        os.close(fd)


def _open_regular(path: Path) -> int | None:
    """A descriptor of `path` when it is a regular file, None when it is not (it is then never
    opened, or, if it was swapped for one after the check, closed unread). Discovery refuses such
    files by name already; this holds for every path, and for one replaced meanwhile: the check is
    made before opening (a FIFO would block the open, a device may act on it) and again on what was
    opened, without blocking."""
    if not stat.S_ISREG(os.stat(path).st_mode):
        return None
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd


def _not_regular(path: Path) -> IntakeError:
    try:
        kind = kind_of(os.stat(path).st_mode)
    except OSError:
        kind = None
    return IntakeError.worded(str(path), NOT_REGULAR, kind=kind or "?")


def _items(path: Path, limit: int) -> Iterator:
    try:
        data = _read_bytes(path, limit)
    except IntakeError as exc:
        yield exc
        return
    yield from read_file(str(path), data)


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
            if isinstance(item, IntakeError):
                item.report_id = item.report_id or _report_id_in(item.raw)
                errors.append(item)
                if not item.report_id:  # whose it is cannot be read: refused alone (README)
                    continue
            # A refused document stays in its report's group, so the report is refused with it.
            by_report.setdefault((path.parent, item.report_id), []).append(item)
    return by_report, errors, seen


# The <reportId> of a file-details document the reader refused (malformed, a value out of bounds):
# enough to refuse the report it belongs to with it, rather than store that report without it.
_REPORT_ID = re.compile(rb"<(?:[\w.-]+:)?reportId\s*>\s*([^<]{1,200}?)\s*</(?:[\w.-]+:)?reportId\s*>")


def _report_id_in(raw: bytes | None) -> str | None:
    found = _REPORT_ID.search(raw or b"")
    if not found:
        return None
    text = found.group(1).decode("utf-8", "replace").strip()
    return text if text.isprintable() and text else None


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
    refused = [f for f in files if isinstance(f, RefusedPath)]
    for path in refused:  # never opened: not a regular file, or a link out of its folder
        yield IntakeError.worded(str(path), path.msgid, **path.values)
    if refused:
        files = [f for f in files if not isinstance(f, RefusedPath)]
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
        for path in [*sibling_paths, *refused]:
            on_file(path)
    for (_, report_id), orphans in siblings.items():
        for s in orphans:
            if isinstance(s, IntakeError):  # refused in the first pass, and said so there
                continue
            yield IntakeError(s.path, "file details for a report that is not in the same folder",
                              report_id=report_id, field="fileDetails/reportId", raw=s.raw)


def _joined(path: Path, item: Parsed, extra: list[SiblingFile | IntakeError]) -> Iterator:
    report = item.report
    bad = next((s for s in extra if isinstance(s, IntakeError)), None)
    if bad is not None:  # a file-details document of this report was refused: the report with it
        yield IntakeError.worded(str(path), REFUSED_WITH, name=Path(bad.path).name, report_id=report.external_id,
                                 raw=item.raw)
        yield from _refuse_siblings([s for s in extra if isinstance(s, SiblingFile)], path)
        return
    if extra:
        try:
            report = join_files(report, extra)
        except IntakeError as exc:
            yield exc
            yield IntakeError.worded(str(path), REFUSED_WITH, name=Path(exc.path).name,
                                     report_id=report.external_id, raw=item.raw)
            yield from _refuse_siblings([s for s in extra if s.path != exc.path], path)
            return
    yield Candidate(report, [(path.name, item.raw)] + [(Path(s.path).name, s.raw) for s in extra])


REFUSED_WITH = N_("refused with its file details document {name}")
SIBLING_OF_REFUSED = N_("file details of a report that was refused ({name})")


def _refuse_siblings(extra: list, report_path: Path) -> Iterator[IntakeError]:
    for s in extra:
        if isinstance(s, SiblingFile):  # a refused one was said in the first pass
            yield IntakeError.worded(s.path, SIBLING_OF_REFUSED, name=report_path.name, report_id=s.report_id,
                                     raw=s.raw)
