"""tiptriage JSON: the project's own report format, described by tiptriage-report.schema.json.

The schema checks shape; the same value checks as every other format (dates, hashes, IPs) run
after it, so a report means the same whichever format it came in.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache, partial
from pathlib import Path

from tiptriage.intake import values as v
from tiptriage.intake.domain import (
    Address, FileHash, Identifier, IpEvent, Parsed, ParsedReport, ReportedFile, ReportedPerson,
)
from tiptriage.i18n import N_
from tiptriage.intake.formats import Ctx

FORMAT = "tiptriage-json"
# Objects, arrays and their items ('{', '[' and ','): memory stays proportional to the file only
# within this bound (50 MB of "{}," would be 17 million dicts, gigabytes as Python objects).
MAX_VALUES = 500_000
MAX_RECORDS = 20_000  # reports in one file: each is held (parsed or refused) until the file is done
SCHEMA_PATH = Path(__file__).with_name("tiptriage-report.schema.json")


@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _validator():
    # jsonschema-rs rather than the pure-Python jsonschema: the same Draft 2020-12 checks at a
    # small fraction of the cost (the pure-Python validator took ~10 ms per report, more than
    # everything else ingest does with it).
    import jsonschema_rs

    return jsonschema_rs.Draft202012Validator(schema())


def _schema_error(record: object) -> tuple[str, str | None] | None:
    """The first schema violation (by field path) as (message, field), or None."""
    try:
        errors = list(_validator().iter_errors(record))
    except (ValueError, OverflowError, TypeError) as exc:  # values the validator cannot even represent
        return f"unreadable value: {str(exc)[:200]}", None
    if not errors:
        return None
    first = min(errors, key=lambda e: [str(p) for p in e.instance_path])
    return first.message[:300], "/".join(str(p) for p in first.instance_path) or None


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def read(path: str, data: bytes) -> Iterator:
    ctx = Ctx(path, raw=data)
    if data.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
        yield ctx.error("JSON must be UTF-8; this file starts with a UTF-16/32 byte-order mark")
        return
    if data.count(b"{") + data.count(b"[") + data.count(b",") > MAX_VALUES:
        yield ctx.error(f"more than {MAX_VALUES:,} JSON values: split the file into smaller ones")
        return
    duplicates: list[str] = []
    try:
        doc = json.loads(data.decode("utf-8-sig"), parse_constant=_no_constant,
                         object_pairs_hook=partial(_object, duplicates))
    except UnicodeDecodeError as exc:
        yield ctx.error(f"not valid UTF-8 at byte {exc.start}")
        return
    except json.JSONDecodeError as exc:
        yield ctx.error(f"malformed JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}")
        return
    except RecursionError:
        yield ctx.error("JSON nested too deeply")
        return
    except MemoryError:
        yield ctx.error("JSON too large to read")
        return
    except ValueError as exc:  # NaN/Infinity, or an integer of more digits than Python converts
        yield ctx.error(f"malformed JSON: {exc}")
        return
    if isinstance(doc, _Duplicated) and "reports" in doc:  # the file's wrapper object, not a report
        yield ctx.worded(DUPLICATE_KEY, doc.duplicate, key=doc.duplicate)
        return
    records = doc.get("reports") if isinstance(doc, dict) and "reports" in doc else doc
    if isinstance(records, dict):
        records = [records]
    if not isinstance(records, list):
        yield ctx.error("expected a report object, an array of reports or {\"reports\": [...]}")
        return
    if len(records) > MAX_RECORDS:
        yield ctx.error(f"{len(records):,} reports in one file, more than {MAX_RECORDS:,}: split the file")
        return
    single = len(records) == 1
    for n, record in enumerate(records, 1):
        rctx = Ctx(path, record=None if single else n)
        try:
            if _depth(record) > MAX_DEPTH:  # decided here, not by how deep the interpreter's stack happens to be
                raise rctx.error(f"JSON nested more than {MAX_DEPTH} levels deep")
            where = _duplicated(record) if duplicates else None
            if where is not None:
                rctx.report_id = _external_id(record)
                raise rctx.worded(DUPLICATE_KEY, where[0], key=where[1])
            rctx.raw = data if single else json.dumps(record, sort_keys=True, ensure_ascii=False).encode(
                "utf-8", "surrogatepass")  # a lone surrogate is refused by the value checks, with its field
            item = Parsed(parse_record(record, rctx), rctx.raw)
        except RecursionError:
            item = rctx.error("JSON nested too deeply")
        except Exception as exc:  # noqa: BLE001 - one bad record never stops the others
            item = rctx.failed(exc)
        yield item


MAX_DEPTH = 32  # a report is about six levels deep
DUPLICATE_KEY = N_("the key {key!r} appears twice in one object: which value is meant cannot be known")


class _Duplicated(dict):
    """A JSON object that named a key twice (`duplicate`); json.loads would keep the last value."""

    duplicate: str


def _object(found: list[str], pairs: list[tuple[str, object]]) -> dict:
    """json.loads' object_pairs_hook: a dict, marked when a key came twice (refused per record)."""
    d = dict(pairs)
    if len(d) == len(pairs):
        return d
    seen: set[str] = set()
    key = next(k for k, _ in pairs if k in seen or seen.add(k))
    d = _Duplicated(d)
    d.duplicate = key
    found.append(key)
    return d


def _external_id(record: object) -> str | None:
    value = record.get("external_id") if isinstance(record, dict) else None
    return value[:v.MAX_ID] if isinstance(value, str) else None


def _duplicated(value: object) -> tuple[str, str] | None:
    """(field path, key) of the first object below `value` that named a key twice, else None."""
    stack: list[tuple[object, str]] = [(value, "")]
    while stack:
        item, where = stack.pop()
        if isinstance(item, _Duplicated):
            return "/".join(x for x in (where, item.duplicate) if x), item.duplicate
        children = item.items() if isinstance(item, dict) else enumerate(item) if isinstance(item, list) else ()
        stack.extend((x, f"{where}/{k}" if where else str(k)) for k, x in children if isinstance(x, (dict, list)))
    return None


def _depth(value: object) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            break
        if isinstance(item, dict):
            stack.extend((x, level + 1) for x in item.values() if isinstance(x, (dict, list)))
        elif isinstance(item, list):
            stack.extend((x, level + 1) for x in item if isinstance(x, (dict, list)))
    return deepest


_ID = partial(v.text, limit=v.MAX_ID)
_REF = partial(v.text, limit=v.MAX_REF)
_CODE = partial(v.text, limit=v.MAX_CODE)
_FLAG = partial(v.text, limit=v.MAX_FLAG)


def _required(ctx: Ctx, field: str, convert, value):
    return ctx.require(field, ctx.check(field, convert, value))


def parse_record(record: object, ctx: Ctx) -> ParsedReport:
    if isinstance(record, dict) and isinstance(record.get("external_id"), str):
        try:  # name the report in errors only by an id that could be stored
            ctx.report_id = _ID(record["external_id"])
        except ValueError:
            pass
    error = _schema_error(record)
    if error is not None:
        message, field = error
        raise ctx.error(f"does not match the schema: {message}", field)
    r: dict = record  # type: ignore[assignment]
    persons = tuple(_person(p, ctx, f"persons/{n}") for n, p in enumerate(r.get("persons", ())))
    files = tuple(_file(f, ctx, f"files/{n}") for n, f in enumerate(r.get("files", ())))
    _check_refs(persons, files, ctx)
    return ParsedReport(
        source=_required(ctx, "source", _ID, r["source"]),
        external_id=_required(ctx, "external_id", _ID, r["external_id"]),
        format=FORMAT,
        incident_type=ctx.check("incident_type", v.text, r.get("incident_type")),
        incident_at=ctx.check("incident_at", v.timestamp, r.get("incident_at")),
        reported_at=ctx.check("reported_at", v.timestamp, r.get("reported_at")),
        reporter=ctx.check("reporter", v.text, r.get("reporter")),
        annotations=_flags(r.get("annotations", ()), ctx, "annotations"),
        persons=persons,
        files=files,
    )


def _flags(items, ctx: Ctx, where: str) -> tuple[str, ...]:
    return tuple(sorted(_required(ctx, f"{where}/{n}", _FLAG, a) for n, a in enumerate(items)))


def _check_refs(persons: tuple[ReportedPerson, ...], files: tuple[ReportedFile, ...], ctx: Ctx) -> None:
    """Refs tie files to persons: each unique, and each one a file names is a person of the report."""
    known: set[str] = set()
    for n, p in enumerate(persons):
        if p.ref in known:
            raise ctx.error(f"person ref {v.shown(p.ref)} is used twice", f"persons/{n}/ref")
        known.add(p.ref)
    seen: set[str] = set()
    for n, f in enumerate(files):
        if f.ref in seen:
            raise ctx.error(f"file ref {v.shown(f.ref)} is used twice", f"files/{n}/ref")
        seen.add(f.ref)
        named = ([("person_ref", f.person_ref)] if f.person_ref is not None else []) + [
            (f"recipients/{k}", r) for k, r in enumerate(f.recipients)]
        for field, ref in named:
            if ref not in known:
                raise ctx.error(f"names person {v.shown(ref)}, who is not in the report", f"files/{n}/{field}")


def _person(p: dict, ctx: Ctx, where: str) -> ReportedPerson:
    return ReportedPerson(
        ref=_required(ctx, f"{where}/ref", _REF, p["ref"]),
        role=p.get("role", "reported"),
        given_name=ctx.check(f"{where}/given_name", v.text, p.get("given_name")),
        family_name=ctx.check(f"{where}/family_name", v.text, p.get("family_name")),
        date_of_birth=ctx.check(f"{where}/date_of_birth", v.birth_date, p.get("date_of_birth")),
        age=ctx.check(f"{where}/age", v.age, p.get("age")),
        identifiers=tuple(
            Identifier(i["kind"], ctx.check(f"{where}/identifiers/{n}/value", v.text, i["value"]),
                       i.get("verified"), ctx.check(f"{where}/identifiers/{n}/platform", v.text, i.get("platform")))
            for n, i in enumerate(p.get("identifiers", ()))),
        addresses=tuple(
            Address(*(ctx.check(f"{where}/addresses/{n}/{k}", convert, a.get(k))
                      for k, convert in (("street", v.text), ("postcode", _CODE), ("city", v.text),
                                         ("country", _CODE))))
            for n, a in enumerate(p.get("addresses", ()))),
        ip_events=tuple(
            IpEvent(ctx.check(f"{where}/ip_events/{n}/ip", v.ip_address, e["ip"]), e.get("event", "Unknown"),
                    ctx.check(f"{where}/ip_events/{n}/at", v.timestamp, e.get("at")),
                    ctx.check(f"{where}/ip_events/{n}/port", v.port, e.get("port")))
            for n, e in enumerate(p.get("ip_events", ()))),
        estimated_country=ctx.check(f"{where}/estimated_country", _CODE, p.get("estimated_country")),
        prior_reports=tuple(_required(ctx, f"{where}/prior_reports/{n}", _ID, r)
                            for n, r in enumerate(p.get("prior_reports", ()))),
    )


def _file(f: dict, ctx: Ctx, where: str) -> ReportedFile:
    return ReportedFile(
        ref=_required(ctx, f"{where}/ref", _ID, f["ref"]),
        file_name=ctx.check(f"{where}/file_name", v.text, f.get("file_name")),
        person_ref=ctx.check(f"{where}/person_ref", _REF, f.get("person_ref")),
        action=f.get("action"),
        recipients=tuple(_required(ctx, f"{where}/recipients/{n}", _REF, r)
                         for n, r in enumerate(f.get("recipients", ()))),
        uploaded_at=ctx.check(f"{where}/uploaded_at", v.timestamp, f.get("uploaded_at")),
        viewed_by_esp=f.get("viewed_by_esp"),
        publicly_available=f.get("publicly_available"),
        classification=f.get("classification"),
        annotations=_flags(f.get("annotations", ()), ctx, f"{where}/annotations"),
        hashes=tuple(FileHash(*ctx.check(f"{where}/hashes/{n}", v.hash_value, h["hash_type"], h["value"]))
                     for n, h in enumerate(f.get("hashes", ()))),
    )


# --- writer ------------------------------------------------------------------------------------

def _iso(value):
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def to_dict(r: ParsedReport) -> dict:
    return {
        "format_version": 1, "source": r.source, "external_id": r.external_id,
        "incident_type": r.incident_type, "incident_at": _iso(r.incident_at), "reported_at": _iso(r.reported_at),
        "reporter": r.reporter, "annotations": list(r.annotations),
        "persons": [{
            "ref": p.ref, "role": p.role, "given_name": p.given_name, "family_name": p.family_name,
            "date_of_birth": _iso(p.date_of_birth), "age": p.age,
            "identifiers": [{"kind": i.kind, "value": i.value, "verified": i.verified, "platform": i.platform}
                            for i in p.identifiers],
            "addresses": [{"street": a.street, "postcode": a.postcode, "city": a.city, "country": a.country}
                          for a in p.addresses],
            "ip_events": [{"ip": e.ip, "event": e.event, "at": _iso(e.at), "port": e.port} for e in p.ip_events],
            "estimated_country": p.estimated_country, "prior_reports": list(p.prior_reports),
        } for p in r.persons],
        "files": [{
            "ref": f.ref, "file_name": f.file_name, "person_ref": f.person_ref, "action": f.action,
            "recipients": list(f.recipients), "uploaded_at": _iso(f.uploaded_at),
            "viewed_by_esp": f.viewed_by_esp, "publicly_available": f.publicly_available,
            "classification": f.classification, "annotations": list(f.annotations),
            "hashes": [{"hash_type": h.hash_type, "value": h.value} for h in f.hashes],
        } for f in r.files],
    }


def write(report: ParsedReport) -> bytes:
    return json.dumps(to_dict(report), ensure_ascii=False, indent=1).encode("utf-8")
