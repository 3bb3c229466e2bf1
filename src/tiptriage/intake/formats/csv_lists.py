"""CSV bulk lists: one row per file, rows of one report share `source` + `report_id`.

One reported person per report (bulk lists from hotlines carry no more). Report- and
person-level columns must agree on every row of a report; a disagreement names the row.
Columns (header required, order free, names case-insensitive, each once, unknown columns ignored):
see COLUMNS and the README. A row with more or fewer values than the header refuses its report
whole. Errors name the physical line a row starts on; a report's raw bytes are the header and its
own lines as they were in the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial

from tiptriage import hashtypes
from tiptriage.intake import values as v
from tiptriage.intake.domain import (
    FileHash, Identifier, IpEvent, Parsed, ParsedReport, ReportedFile, ReportedPerson,
)
from tiptriage.intake.formats import Ctx

FORMAT = "csv"
REQUIRED = ("source", "report_id")
REPORT_COLUMNS = ("source", "report_id", "incident_type", "incident_at", "reporter", "annotations",
                  "given_name", "family_name", "date_of_birth", "age", "email", "phone", "screen_name",
                  "esp_user_id", "platform", "ip", "ip_at")
FILE_COLUMNS = ("file_ref", "file_name", "action", "classification", "publicly_available", "viewed_by_esp",
                "file_annotations", *hashtypes.NAMES)
COLUMNS = REPORT_COLUMNS + FILE_COLUMNS
_ID = partial(v.text, limit=v.MAX_ID)
# Memory stays proportional to the file only within these bounds (a row costs far more as Python
# objects than as text: 10 MB of two-value rows took a gigabyte before they were enforced).
MAX_LINES = 100_000
MAX_VALUES = 1_000  # separators on one line; a real row has a few dozen


def read(path: str, data: bytes) -> Iterator:
    ctx = Ctx(path, raw=data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        yield ctx.error(f"not valid UTF-8 at byte {exc.start}")
        return
    if not text.strip():
        yield ctx.error("empty file: a CSV list needs a header and rows", "header")
        return
    if max(text.count("\n"), text.count("\r")) >= MAX_LINES:
        yield ctx.error(f"more than {MAX_LINES:,} lines: split the list into smaller files")
        return
    lines = io.StringIO(text, newline="").readlines()  # the same lines the csv reader counts
    wide = next((n for n, line in enumerate(lines, 1) if line.count(",") > MAX_VALUES), None)
    if wide is not None:
        yield Ctx(path, record=wide, raw=data).error(f"line has more than {MAX_VALUES:,} values")
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    groups: dict[tuple[str, str], _Group] = {}
    try:
        header_start, header_end, names = 1, 0, []
        for names in reader:  # blank lines before the header are skipped, as format detection does
            if any(name.strip() for name in names):
                break
            header_start = reader.line_num + 1
        header_end = reader.line_num
        columns = [c.strip().lower() for c in names]
        repeated = sorted({c for c in columns if c and columns.count(c) > 1})
        if repeated:
            yield ctx.error(f"CSV header repeats column(s) {', '.join(repeated)}", "header")
            return
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            yield ctx.error(f"CSV header lacks column(s) {', '.join(missing)}", "header")
            return
        last = header_end
        at_source, at_id = columns.index("source"), columns.index("report_id")
        for values in reader:
            first, last = last + 1, reader.line_num
            if not any(value.strip() for value in values):
                continue  # a blank line
            key = tuple(values[i].strip() if i < len(values) else "" for i in (at_source, at_id))
            group = groups.setdefault(key, _Group())
            group.rows.append((first, values))
            group.lines.extend(lines[first - 1:last])
            if len(values) != len(columns) and group.ragged is None:
                group.ragged = (first, f"row has {len(values)} values where the header has {len(columns)}")
    except csv.Error as exc:
        yield ctx.error(f"malformed CSV (line {reader.line_num}): {exc}")
        return
    header = lines[header_start - 1:header_end]
    for (_, report_id), group in groups.items():
        raw = "".join(header + group.lines).encode("utf-8")
        rctx = Ctx(path, record=group.rows[0][0], report_id=_id_or_none(report_id), raw=raw)
        if group.ragged is not None:  # the report is refused whole: never stored without a row
            rctx.record = group.ragged[0]
            yield rctx.error(group.ragged[1])
            continue
        try:
            item = Parsed(_report([(line, dict(zip(columns, values))) for line, values in group.rows], rctx), raw)
        except Exception as exc:  # noqa: BLE001 - one bad report never stops the others
            item = rctx.failed(exc)
        yield item


@dataclass
class _Group:
    """The rows of one report, with their original lines (kept as the report's raw bytes)."""

    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # (line, values)
    lines: list[str] = field(default_factory=list)
    ragged: tuple[int, str] | None = None


def _id_or_none(value: str) -> str | None:
    try:
        return _ID(value)
    except ValueError:
        return None


def _cell(row: dict, column: str) -> str | None:
    value = row.get(column)
    return value.strip() or None if isinstance(value, str) else None


def _report(group: list[tuple[int, dict]], ctx: Ctx) -> ParsedReport:
    first = group[0][1]
    for line, row in group[1:]:
        for column in REPORT_COLUMNS:
            if _cell(row, column) != _cell(first, column):
                ctx.record = line
                raise ctx.error(f"differs from the report's first row (line {group[0][0]})", column)
    source = ctx.require("source", ctx.check("source", _ID, _cell(first, "source")))
    external_id = ctx.require("report_id", ctx.check("report_id", _ID, _cell(first, "report_id")))
    return ParsedReport(
        source=source,
        external_id=external_id,
        format=FORMAT,
        incident_type=ctx.check("incident_type", v.text, _cell(first, "incident_type")),
        incident_at=ctx.check("incident_at", v.timestamp, _cell(first, "incident_at")),
        reporter=ctx.check("reporter", v.text, _cell(first, "reporter")),
        annotations=_list(_cell(first, "annotations"), ctx, "annotations"),
        persons=(_person(first, ctx),) if _has_person(first) else (),
        files=tuple(_file(row, Ctx(ctx.path, line, ctx.report_id, ctx.raw), n)
                    for n, (line, row) in enumerate(group, 1) if _has_file(row)),
    )


def _list(value: str | None, ctx: Ctx, column: str) -> tuple[str, ...]:
    """Annotations separated by semicolons."""
    return tuple(sorted(ctx.check(column, partial(v.text, limit=v.MAX_FLAG), x)
                        for x in (value or "").split(";") if x.strip()))


def _has_person(row: dict) -> bool:
    return any(_cell(row, c) for c in REPORT_COLUMNS[6:])


def _has_file(row: dict) -> bool:
    return any(_cell(row, c) for c in FILE_COLUMNS)


def _person(row: dict, ctx: Ctx) -> ReportedPerson:
    platform = ctx.check("platform", v.text, _cell(row, "platform"))
    identifiers = tuple(
        Identifier(kind, ctx.check(kind, v.text, _cell(row, kind)), None,
                   platform if kind in ("screen_name", "esp_user_id") else None)
        for kind in ("email", "phone", "screen_name", "esp_user_id") if _cell(row, kind))
    ip = _cell(row, "ip")
    events = (IpEvent(ctx.check("ip", v.ip_address, ip), "Upload",
                      ctx.check("ip_at", v.timestamp, _cell(row, "ip_at"))),) if ip else ()
    return ReportedPerson(
        ref="p1",
        given_name=ctx.check("given_name", v.text, _cell(row, "given_name")),
        family_name=ctx.check("family_name", v.text, _cell(row, "family_name")),
        date_of_birth=ctx.check("date_of_birth", v.birth_date, _cell(row, "date_of_birth")),
        age=ctx.check("age", v.age, _cell(row, "age")),
        identifiers=identifiers,
        ip_events=events,
    )


def _file(row: dict, ctx: Ctx, n: int) -> ReportedFile:
    hashes = tuple(FileHash(*ctx.check(kind, v.hash_value, kind, _cell(row, kind)))
                   for kind in hashtypes.NAMES if _cell(row, kind))
    return ReportedFile(
        ref=ctx.check("file_ref", _ID, _cell(row, "file_ref")) or f"f{n}",
        file_name=ctx.check("file_name", v.text, _cell(row, "file_name")),
        person_ref="p1" if _has_person(row) else None,
        action=ctx.check("action", v.action, _cell(row, "action")),
        classification=ctx.check("classification", v.classification, _cell(row, "classification")),
        publicly_available=ctx.check("publicly_available", v.boolean, _cell(row, "publicly_available")),
        viewed_by_esp=ctx.check("viewed_by_esp", v.boolean, _cell(row, "viewed_by_esp")),
        annotations=_list(_cell(row, "file_annotations"), ctx, "file_annotations"),
        hashes=hashes,
    )


def write(reports: list[ParsedReport]) -> bytes:
    """A CSV bulk list of single-person reports (the generator's third format)."""
    out = io.StringIO()
    # CRLF as RFC 4180 says; it also makes the writer quote a value holding a lone CR.
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for r in reports:
        p = next((p for p in r.persons if p.role == "reported"), None)
        base = {"source": r.source, "report_id": r.external_id, "incident_type": r.incident_type,
                "incident_at": r.incident_at.isoformat() if r.incident_at else None, "reporter": r.reporter,
                "annotations": ";".join(r.annotations)}
        if p is not None:
            ids = {i.kind: i.value for i in p.identifiers}
            base |= {"given_name": p.given_name, "family_name": p.family_name,
                     "date_of_birth": p.date_of_birth.isoformat() if p.date_of_birth else None, "age": p.age,
                     "email": ids.get("email"), "phone": ids.get("phone"), "screen_name": ids.get("screen_name"),
                     "esp_user_id": ids.get("esp_user_id"),
                     "platform": next((i.platform for i in p.identifiers if i.platform), None)}
            if p.ip_events:
                base |= {"ip": p.ip_events[0].ip,
                         "ip_at": p.ip_events[0].at.isoformat() if p.ip_events[0].at else None}
        for f in r.files or (None,):
            row = dict(base)
            if f is not None:
                hashes = {h.hash_type: h.value for h in f.hashes}
                row |= {"file_ref": f.ref, "file_name": f.file_name, "action": f.action,
                        "classification": f.classification, "publicly_available": f.publicly_available,
                        "viewed_by_esp": f.viewed_by_esp, "file_annotations": ";".join(f.annotations), **hashes}
            writer.writerow(row)
    return out.getvalue().encode("utf-8")
