"""NCMEC CyberTipline report XML (the ESP reporting schema's element names).

One `<report>` per document. Its files come inline as `<fileDetails>` children, or as sibling
documents whose root is `<fileDetails>` carrying the `<reportId>` they belong to (NCMEC delivers
file details separately from the report); intake joins those by report id.

Hostile input: the parser never resolves entities, never loads a DTD or anything from the network,
and refuses any document that declares a DTD at all (no real report carries one), so XXE and
entity-expansion bombs end as a clear refusal in bounded time and memory.

tiptriage extensions (optional, ignored by others): `<action>` on fileDetails (download, store,
upload, send, share, public_post) where the platform told how the file was used.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

from tiptriage.intake import values as v
from tiptriage.intake.domain import (
    Address, FileHash, Identifier, IpEvent, Parsed, ParsedReport, ReportedFile, ReportedPerson,
)
from tiptriage.intake.formats import Ctx

FORMAT = "cybertip-xml"
SOURCE = "NCMEC"
PERSON_BLOCKS = {"personOrUserReported": ("reported", "p"), "intendedRecipient": ("recipient", "r"),
                 "victim": ("victim", "v")}
DEVICE_KINDS = ("device_id",)


@dataclass(frozen=True)
class SiblingFile:
    """A `<fileDetails>` document that belongs to the report with `report_id`."""

    report_id: str
    file: ReportedFile
    raw: bytes
    path: str


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_comments=True,
                           remove_pis=True)


def _local(tag: object) -> str | None:
    return etree.QName(tag).localname if isinstance(tag, str) else None


def parse_document(path: str, data: bytes) -> etree._Element:
    ctx = Ctx(path, raw=data)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise ctx.error(f"malformed XML (line {exc.lineno}): {exc.msg}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.doctype:
        raise ctx.error("document declares a DTD (entities are never resolved; reports carry none)")
    for el in root.iter():
        if isinstance(el, etree._Entity):
            raise ctx.error("document uses entity references")
        local = _local(el.tag)
        if local is not None and local != el.tag:
            el.tag = local  # accept a default namespace by working on local names
    return root


def read(path: str, data: bytes) -> Iterator:
    ctx = Ctx(path, raw=data)
    try:
        root = parse_document(path, data)
        if root.tag == "report":
            yield Parsed(parse_report(root, ctx), data)
        elif root.tag == "fileDetails":
            ctx.report_id = ctx.require("fileDetails/reportId", v.text(root.findtext("reportId")))
            yield SiblingFile(ctx.report_id, _file(root, ctx, 0, ()), data, path)
        else:
            raise ctx.error(f"root element <{root.tag}> is not <report> or <fileDetails>")
    except Exception as exc:  # noqa: BLE001 - every failure of one document becomes its error
        yield exc if hasattr(exc, "reason") else ctx.error(f"unreadable: {exc}")


def _txt(el: etree._Element | None, tag: str) -> str | None:
    return None if el is None else el.findtext(tag)


def parse_report(root: etree._Element, ctx: Ctx) -> ParsedReport:
    ctx.report_id = ctx.require("report/reportId", ctx.check("report/reportId", v.text, root.findtext("reportId")))
    summary = root.find("incidentSummary")
    persons: list[ReportedPerson] = []
    for block, (role, prefix) in PERSON_BLOCKS.items():
        for n, el in enumerate(root.findall(block), 1):
            persons.append(_person(el, ctx, f"{prefix}{n}", role, f"{block}[{n}]"))
    recipients = tuple(p.ref for p in persons if p.role == "recipient")
    reported = [p.ref for p in persons if p.role == "reported"]
    files = tuple(_file(el, ctx, n, recipients, reported[0] if len(reported) == 1 else None)
                  for n, el in enumerate(root.findall("fileDetails"), 1))
    reporter = root.find("reporter")
    return ParsedReport(
        source=SOURCE,
        external_id=ctx.report_id,
        format=FORMAT,
        incident_type=ctx.check("incidentSummary/incidentType", v.text, _txt(summary, "incidentType")),
        incident_at=ctx.check("incidentSummary/incidentDateTime", v.timestamp, _txt(summary, "incidentDateTime")),
        reported_at=ctx.check("reportedAt", v.timestamp, root.findtext("reportedAt")),
        reporter=ctx.check("reporter/espName", v.text, _txt(reporter, "espName")),
        annotations=_flags(summary.find("reportAnnotations") if summary is not None else None),
        persons=tuple(persons),
        files=files,
    )


def _flags(el: etree._Element | None) -> tuple[str, ...]:
    """Annotations are empty elements (`<sextortion/>`) or elements with text true/false."""
    if el is None:
        return ()
    return tuple(sorted(child.tag for child in el if isinstance(child.tag, str)
                        and (child.text or "true").strip().lower() != "false"))


def _person(el: etree._Element, ctx: Ctx, ref: str, role: str, where: str) -> ReportedPerson:
    person = el.find("personOrUserReportedPerson")
    if person is None:
        person = el.find("person")
    platform = ctx.check(f"{where}/espService", v.text, el.findtext("espService"))
    identifiers: list[Identifier] = []
    for kind, scope in (("email", person), ("phone", person)):
        for n, item in enumerate(scope.findall(kind) if scope is not None else (), 1):
            field = f"{where}/{kind}[{n}]"
            value = ctx.require(field, ctx.check(field, v.text, item.text))
            identifiers.append(Identifier(kind, value, ctx.check(f"{field}@verified", v.boolean,
                                                                 item.get("verified")), None))
    for tag, kind in (("espIdentifier", "esp_user_id"), ("screenName", "screen_name")):
        for n, item in enumerate(el.findall(tag), 1):
            value = ctx.check(f"{where}/{tag}[{n}]", v.text, item.text)
            if value:
                identifiers.append(Identifier(kind, value, None, platform))
    for n, item in enumerate(el.findall("deviceId"), 1):
        value = ctx.check(f"{where}/deviceId[{n}]", v.text, item.findtext("idValue") or item.text)
        if value:
            identifiers.append(Identifier("device_id", value, None, None))
    addresses = tuple(_address(a, ctx, f"{where}/address[{n}]")
                      for n, a in enumerate(person.findall("address") if person is not None else (), 1))
    events = tuple(_ip_event(e, ctx, f"{where}/ipCaptureEvent[{n}]")
                   for n, e in enumerate(el.findall("ipCaptureEvent"), 1))
    location = el.find("estimatedLocation")
    return ReportedPerson(
        ref=ref,
        role=role,
        given_name=ctx.check(f"{where}/firstName", v.text, _txt(person, "firstName")),
        family_name=ctx.check(f"{where}/lastName", v.text, _txt(person, "lastName")),
        date_of_birth=ctx.check(f"{where}/dateOfBirth", v.birth_date, _txt(person, "dateOfBirth")),
        age=ctx.check(f"{where}/age", v.age, _txt(person, "age")),
        identifiers=tuple(identifiers),
        addresses=addresses,
        ip_events=events,
        estimated_country=ctx.check(f"{where}/estimatedLocation/countryCode", v.text,
                                    _txt(location, "countryCode")),
        prior_reports=tuple(t.strip() for t in (x.text for x in el.findall("priorCTReports")) if t and t.strip()),
    )


def _address(el: etree._Element, ctx: Ctx, where: str) -> Address:
    return Address(
        street=ctx.check(f"{where}/address", v.text, el.findtext("address")),
        postcode=ctx.check(f"{where}/zipCode", v.text, el.findtext("zipCode")),
        city=ctx.check(f"{where}/city", v.text, el.findtext("city")),
        country=ctx.check(f"{where}/country", v.text, el.findtext("country")),
    )


def _ip_event(el: etree._Element, ctx: Ctx, where: str) -> IpEvent:
    return IpEvent(
        ip=ctx.check(f"{where}/ipAddress", v.ip_address, el.findtext("ipAddress")),
        event=ctx.check(f"{where}/eventName", v.ip_event, el.findtext("eventName")),
        at=ctx.check(f"{where}/dateTime", v.timestamp, el.findtext("dateTime")),
        port=ctx.check(f"{where}/port", v.port, el.findtext("port")),
    )


def _file(el: etree._Element, ctx: Ctx, n: int, recipients: tuple[str, ...],
          person_ref: str | None = None) -> ReportedFile:
    where = f"fileDetails[{n}]" if n else "fileDetails"
    hashes = []
    for k, h in enumerate(el.findall("originalFileHash"), 1):
        field = f"{where}/originalFileHash[{k}]"
        kind = ctx.require(f"{field}@hashType", h.get("hashType"))
        hashes.append(FileHash(*ctx.check(field, v.hash_value, kind, h.text or "")))
    public = ctx.check(f"{where}/publiclyAvailable", v.boolean, el.findtext("publiclyAvailable"))
    action = ctx.check(f"{where}/action", v.action, el.findtext("action"))
    if action is None:  # NCMEC carries no action: infer what the platform's flags say
        action = "public_post" if public else ("send" if recipients else "upload")
    return ReportedFile(
        ref=ctx.check(f"{where}/fileId", v.text, el.findtext("fileId")) or f"f{n}",
        file_name=ctx.check(f"{where}/fileName", v.text, el.findtext("fileName")),
        person_ref=ctx.check(f"{where}/personRef", v.text, el.findtext("personRef")) or person_ref,
        action=action,
        recipients=recipients if action in ("send", "share") else (),
        uploaded_at=ctx.check(f"{where}/uploadedToEspTimestamp", v.timestamp, el.findtext("uploadedToEspTimestamp")),
        viewed_by_esp=ctx.check(f"{where}/fileViewedByEsp", v.boolean, el.findtext("fileViewedByEsp")),
        publicly_available=public,
        classification=ctx.check(f"{where}/industryClassification", v.classification,
                                 el.findtext("industryClassification")),
        annotations=_flags(el.find("fileAnnotations")),
        hashes=tuple(hashes),
    )


# --- writer (used by the synthetic generator and the round-trip tests) ---------------------------

def _sub(parent: etree._Element, tag: str, value: object | None, **attrs: str) -> None:
    if value is None:
        return
    el = etree.SubElement(parent, tag, **attrs)
    if isinstance(value, bool):
        el.text = "true" if value else "false"
    elif hasattr(value, "isoformat"):
        el.text = value.isoformat().replace("+00:00", "Z")
    else:
        el.text = str(value)


def _write_person(root: etree._Element, p: ReportedPerson, tag: str) -> None:
    el = etree.SubElement(root, tag)
    person = etree.SubElement(el, "personOrUserReportedPerson")
    _sub(person, "firstName", p.given_name)
    _sub(person, "lastName", p.family_name)
    for i in p.identifiers:
        if i.kind in ("email", "phone"):
            attrs = {} if i.verified is None else {"verified": "true" if i.verified else "false"}
            _sub(person, i.kind, i.value, **attrs)
    for a in p.addresses:
        addr = etree.SubElement(person, "address")
        _sub(addr, "address", a.street)
        _sub(addr, "city", a.city)
        _sub(addr, "zipCode", a.postcode)
        _sub(addr, "country", a.country)
    _sub(person, "age", p.age)
    _sub(person, "dateOfBirth", p.date_of_birth)
    platforms = {i.platform for i in p.identifiers if i.platform}
    _sub(el, "espService", platforms.pop() if len(platforms) == 1 else None)
    for i in p.identifiers:
        if i.kind == "esp_user_id":
            _sub(el, "espIdentifier", i.value)
        elif i.kind == "screen_name":
            _sub(el, "screenName", i.value)
        elif i.kind == "device_id":
            dev = etree.SubElement(el, "deviceId")
            _sub(dev, "idValue", i.value)
    for e in p.ip_events:
        ev = etree.SubElement(el, "ipCaptureEvent")
        _sub(ev, "ipAddress", e.ip)
        _sub(ev, "eventName", e.event)
        _sub(ev, "dateTime", e.at)
        _sub(ev, "port", e.port)
    for prior in p.prior_reports:
        _sub(el, "priorCTReports", prior)
    if p.estimated_country:
        loc = etree.SubElement(el, "estimatedLocation")
        _sub(loc, "countryCode", p.estimated_country)


def _write_file(parent: etree._Element, f: ReportedFile, report_id: str | None = None) -> None:
    el = etree.SubElement(parent, "fileDetails")
    _sub(el, "reportId", report_id)
    _sub(el, "fileId", f.ref)
    _sub(el, "fileName", f.file_name)
    _sub(el, "personRef", f.person_ref)
    _sub(el, "uploadedToEspTimestamp", f.uploaded_at)
    _sub(el, "fileViewedByEsp", f.viewed_by_esp)
    _sub(el, "publiclyAvailable", f.publicly_available)
    _sub(el, "action", f.action)
    if f.annotations:
        notes = etree.SubElement(el, "fileAnnotations")
        for a in f.annotations:
            etree.SubElement(notes, a)
    _sub(el, "industryClassification", f.classification)
    for h in f.hashes:
        _sub(el, "originalFileHash", h.value, hashType=h.hash_type.upper())


def write(report: ParsedReport, *, inline_files: bool = True) -> tuple[bytes, list[bytes]]:
    """The report document and, unless inline, one sibling `<fileDetails>` document per file."""
    root = etree.Element("report")
    _sub(root, "reportId", report.external_id)
    summary = etree.SubElement(root, "incidentSummary")
    _sub(summary, "incidentType", report.incident_type)
    if report.annotations:
        notes = etree.SubElement(summary, "reportAnnotations")
        for a in report.annotations:
            etree.SubElement(notes, a)
    _sub(summary, "incidentDateTime", report.incident_at)
    _sub(root, "reportedAt", report.reported_at)
    if report.reporter:
        reporter = etree.SubElement(root, "reporter")
        _sub(reporter, "espName", report.reporter)
    tags = {role: tag for tag, (role, _) in PERSON_BLOCKS.items()}
    for p in report.persons:
        _write_person(root, p, tags[p.role])
    siblings = []
    for f in report.files:
        if inline_files:
            _write_file(root, f)
        else:
            holder = etree.Element("holder")
            _write_file(holder, f, report.external_id)
            siblings.append(etree.tostring(holder[0], xml_declaration=True, encoding="UTF-8"))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True), siblings
