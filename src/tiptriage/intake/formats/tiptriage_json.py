"""tiptriage JSON: the project's own report format, described by tiptriage-report.schema.json.

The schema checks shape; the same value checks as every other format (dates, hashes, IPs) run
after it, so a report means the same whichever format it came in.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from tiptriage.intake import values as v
from tiptriage.intake.domain import (
    Address, FileHash, Identifier, IpEvent, Parsed, ParsedReport, ReportedFile, ReportedPerson,
)
from tiptriage.intake.formats import Ctx

FORMAT = "tiptriage-json"
SCHEMA_PATH = Path(__file__).with_name("tiptriage-report.schema.json")


@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _validator():
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema())


def read(path: str, data: bytes) -> Iterator:
    ctx = Ctx(path, raw=data)
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        yield ctx.error(f"not valid UTF-8 at byte {exc.start}")
        return
    except json.JSONDecodeError as exc:
        yield ctx.error(f"malformed JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}")
        return
    records = doc.get("reports") if isinstance(doc, dict) and "reports" in doc else doc
    if isinstance(records, dict):
        records = [records]
    if not isinstance(records, list):
        yield ctx.error("expected a report object, an array of reports or {\"reports\": [...]}")
        return
    single = len(records) == 1
    for n, record in enumerate(records, 1):
        raw = data if single else json.dumps(record, sort_keys=True, ensure_ascii=False).encode()
        rctx = Ctx(path, record=None if single else n, raw=raw)
        try:
            yield Parsed(parse_record(record, rctx), raw)
        except Exception as exc:  # noqa: BLE001 - one bad record never stops the others
            yield exc if hasattr(exc, "reason") else rctx.error(f"unreadable: {exc}")


def parse_record(record: object, ctx: Ctx) -> ParsedReport:
    if isinstance(record, dict) and isinstance(record.get("external_id"), str):
        ctx.report_id = record["external_id"]
    error = next(iter(sorted(_validator().iter_errors(record), key=lambda e: list(e.absolute_path))), None)
    if error is not None:
        field = "/".join(str(p) for p in error.absolute_path) or None
        raise ctx.error(f"does not match the schema: {error.message[:300]}", field)
    r: dict = record  # type: ignore[assignment]
    return ParsedReport(
        source=ctx.check("source", v.text, r["source"]),
        external_id=ctx.check("external_id", v.text, r["external_id"]),
        format=FORMAT,
        incident_type=ctx.check("incident_type", v.text, r.get("incident_type")),
        incident_at=ctx.check("incident_at", v.timestamp, r.get("incident_at")),
        reported_at=ctx.check("reported_at", v.timestamp, r.get("reported_at")),
        reporter=ctx.check("reporter", v.text, r.get("reporter")),
        annotations=tuple(sorted(r.get("annotations", ()))),
        persons=tuple(_person(p, ctx, f"persons/{n}") for n, p in enumerate(r.get("persons", ()))),
        files=tuple(_file(f, ctx, f"files/{n}") for n, f in enumerate(r.get("files", ()))),
    )


def _person(p: dict, ctx: Ctx, where: str) -> ReportedPerson:
    return ReportedPerson(
        ref=p["ref"],
        role=p.get("role", "reported"),
        given_name=ctx.check(f"{where}/given_name", v.text, p.get("given_name")),
        family_name=ctx.check(f"{where}/family_name", v.text, p.get("family_name")),
        date_of_birth=ctx.check(f"{where}/date_of_birth", v.birth_date, p.get("date_of_birth")),
        age=p.get("age"),
        identifiers=tuple(
            Identifier(i["kind"], ctx.check(f"{where}/identifiers/{n}/value", v.text, i["value"]),
                       i.get("verified"), ctx.check(f"{where}/identifiers/{n}/platform", v.text, i.get("platform")))
            for n, i in enumerate(p.get("identifiers", ()))),
        addresses=tuple(
            Address(*(ctx.check(f"{where}/addresses/{n}/{k}", v.text, a.get(k))
                      for k in ("street", "postcode", "city", "country")))
            for n, a in enumerate(p.get("addresses", ()))),
        ip_events=tuple(
            IpEvent(ctx.check(f"{where}/ip_events/{n}/ip", v.ip_address, e["ip"]), e.get("event", "Other"),
                    ctx.check(f"{where}/ip_events/{n}/at", v.timestamp, e.get("at")), e.get("port"))
            for n, e in enumerate(p.get("ip_events", ()))),
        estimated_country=ctx.check(f"{where}/estimated_country", v.text, p.get("estimated_country")),
        prior_reports=tuple(p.get("prior_reports", ())),
    )


def _file(f: dict, ctx: Ctx, where: str) -> ReportedFile:
    return ReportedFile(
        ref=f["ref"],
        file_name=ctx.check(f"{where}/file_name", v.text, f.get("file_name")),
        person_ref=f.get("person_ref"),
        action=f.get("action", "upload"),
        recipients=tuple(f.get("recipients", ())),
        uploaded_at=ctx.check(f"{where}/uploaded_at", v.timestamp, f.get("uploaded_at")),
        viewed_by_esp=f.get("viewed_by_esp"),
        publicly_available=f.get("publicly_available"),
        classification=f.get("classification"),
        annotations=tuple(sorted(f.get("annotations", ()))),
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
