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

import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from lxml import etree

from tiptriage.intake import values as v
from tiptriage.intake.domain import (
    Address, FileHash, Identifier, IpEvent, Parsed, ParsedReport, ReportedFile, ReportedPerson,
)
from tiptriage.intake.errors import IntakeError
from tiptriage.intake.formats import Ctx

FORMAT = "cybertip-xml"
SOURCE = "NCMEC"
PERSON_BLOCKS = {"personOrUserReported": ("reported", "p"), "intendedRecipient": ("recipient", "r"),
                 "victim": ("victim", "v")}
DEVICE_KINDS = ("device_id",)
# Values stored in columns of a fixed width (see values.MAX_*).
_ID = v.text_within(v.MAX_ID)
_REF = v.text_within(v.MAX_REF)
_CODE = v.text_within(v.MAX_CODE)
# Tags and attributes ('<' and '=', an attribute counted twice): within this bound a parsed tree
# stays under ~30 MB however the document is shaped (10 MB of "<x/>" took 460 MB before).
MAX_MARKUP = 200_000
_DECLARED_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


@dataclass(frozen=True)
class SiblingFile:
    """A `<fileDetails>` document that belongs to the report with `report_id`.

    What NCMEC leaves out of file details depends on the report (who the recipients are, who the
    single reported person is), so `join_files` completes the file; `action_given` and `ref_given`
    say whether the document itself carried an action and a file id.
    """

    report_id: str
    file: ReportedFile
    raw: bytes
    path: str
    action_given: bool = True
    ref_given: bool = True


_PARSERS = threading.local()


def _parser() -> etree.XMLParser:
    """This thread's parser: making one costs as much as parsing a small report, and lxml parsers
    may be reused (one parse at a time, hence one per thread)."""
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False,
            remove_comments=True, remove_pis=True)
    return parser


def _local(tag: object) -> str | None:
    return etree.QName(tag).localname if isinstance(tag, str) else None


def _without_leading_blanks(data: bytes) -> bytes:
    """Blank lines before the XML declaration are tolerated (format detection tolerates them too)."""
    bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
    body = data[len(bom):]
    stripped = body.lstrip(b" \t\r\n")
    return data if len(stripped) == len(body) else bom + stripped


def _check_declared_encoding(data: bytes, ctx: Ctx) -> None:
    """A document that declares UTF-16/32 but whose bytes are 8-bit would be misread: say so."""
    declared = _DECLARED_ENCODING.match(data.removeprefix(b"\xef\xbb\xbf"))
    if declared and declared.group(1).lower().replace(b"_", b"-").startswith((b"utf-16", b"utf-32", b"ucs")):
        raise ctx.error(f"declares encoding {declared.group(1).decode()} but its bytes are 8-bit "
                        "(no byte-order mark): the declaration does not match the content")


def parse_document(path: str, data: bytes) -> etree._Element:
    ctx = Ctx(path, raw=data)
    data = _without_leading_blanks(data)
    _check_declared_encoding(data, ctx)
    # An attribute costs about two elements. Each counted byte is one byte of the document, so one
    # of under MAX_MARKUP / 2 bytes (every report seen so far) cannot exceed it: no need to count.
    if 2 * len(data) > MAX_MARKUP and data.count(b"<") + 2 * data.count(b"=") > MAX_MARKUP:
        raise ctx.error(f"more than {MAX_MARKUP:,} tags and attributes: not a report document")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise ctx.error(f"malformed XML (line {exc.lineno}): {exc.msg}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.doctype:
        raise ctx.error("document declares a DTD (entities are never resolved; reports carry none)")
    if next(root.iter(etree.Entity), None) is not None:
        raise ctx.error("document uses entity references")
    if root.tag.startswith("{"):  # accept a default namespace by working on local names
        for el in root.iter(etree.Element):
            el.tag = _local(el.tag)
    return root


def read(path: str, data: bytes) -> Iterator:
    ctx = Ctx(path, raw=data)
    try:
        root = parse_document(path, data)
        if root.tag == "report":
            yield Parsed(parse_report(root, ctx), data)
        elif root.tag == "fileDetails":
            node = _Node(root, ctx, "fileDetails")
            ctx.report_id = ctx.require("fileDetails/reportId", node.text("reportId", _ID))
            file = _file(node, 0, ())
            yield SiblingFile(ctx.report_id, file, data, path, action_given=bool(node.all("action")),
                              ref_given=node.text("fileId", _ID) is not None)
        else:
            raise ctx.error(f"root element <{root.tag[:80]}> is not <report> or <fileDetails>")
    except Exception as exc:  # noqa: BLE001 - every failure of one document becomes its error
        yield ctx.failed(exc)


class _Node:
    """An element's children by tag, read once (lxml's find* re-walk the children per call).

    `text` converts a child's text and turns a ValueError into an IntakeError naming the field;
    the field path is only built when there is an error.
    """

    __slots__ = ("ctx", "el", "kids", "where")

    def __init__(self, el: etree._Element, ctx: Ctx, where: str):
        self.el, self.ctx, self.where = el, ctx, where
        kids: dict[str, list[etree._Element]] = {}
        for child in el:
            kids.setdefault(child.tag, []).append(child)
        self.kids = kids

    def all(self, tag: str) -> list[etree._Element]:
        return self.kids.get(tag, [])

    def child(self, tag: str, where: str | None = None) -> _Node | None:
        items = self.kids.get(tag)
        return _Node(items[0], self.ctx, f"{self.where}/{where or tag}") if items else None

    def text(self, tag: str, convert=v.text):
        items = self.kids.get(tag)
        if not items:
            return None
        value = items[0].text
        if value is None:
            return None
        try:  # convert inlined: this runs for every field of every report
            return convert(value)
        except ValueError as exc:
            raise self.ctx.error(str(exc), f"{self.where}/{tag}") from None

    def convert(self, field: str, convert, *values):
        try:
            return convert(*values)
        except ValueError as exc:
            raise self.ctx.error(str(exc), f"{self.where}/{field}") from None


def parse_report(root: etree._Element, ctx: Ctx) -> ParsedReport:
    node = _Node(root, ctx, "report")
    ctx.report_id = ctx.require("report/reportId", node.text("reportId", _ID))
    summary = node.child("incidentSummary")
    persons: list[ReportedPerson] = []
    for block, (role, prefix) in PERSON_BLOCKS.items():
        for n, el in enumerate(node.all(block), 1):
            persons.append(_person(_Node(el, ctx, f"{block}[{n}]"), f"{prefix}{n}", role))
    recipients = tuple(p.ref for p in persons if p.role == "recipient")
    reported = [p.ref for p in persons if p.role == "reported"]
    files = tuple(_file(_Node(el, ctx, f"fileDetails[{n}]"), n, recipients,
                        reported[0] if len(reported) == 1 else None, {p.ref for p in persons})
                  for n, el in enumerate(node.all("fileDetails"), 1))
    reporter = node.child("reporter")
    return ParsedReport(
        source=SOURCE,
        external_id=ctx.report_id,
        format=FORMAT,
        incident_type=summary.text("incidentType") if summary else None,
        incident_at=summary.text("incidentDateTime", v.timestamp) if summary else None,
        reported_at=node.text("reportedAt", v.timestamp),
        reporter=reporter.text("espName") if reporter else None,
        annotations=_flags(summary.all("reportAnnotations") if summary else []),
        persons=tuple(persons),
        files=files,
    )


def _flags(holders: list[etree._Element]) -> tuple[str, ...]:
    """Annotations are empty elements (`<sextortion/>`) or elements with text true/false."""
    if not holders:
        return ()
    return tuple(sorted(child.tag[:v.MAX_FLAG] for child in holders[0]
                        if (child.text or "true").strip().lower() != "false"))


def _person(node: _Node, ref: str, role: str) -> ReportedPerson:
    person = node.child("personOrUserReportedPerson") or node.child("person")
    platform = node.text("espService")
    identifiers: list[Identifier] = []
    for kind in ("email", "phone"):
        for n, item in enumerate(person.all(kind) if person else (), 1):
            field = f"{kind}[{n}]"
            value = node.ctx.require(f"{person.where}/{field}", person.convert(field, v.text, item.text))
            verified = item.get("verified")
            identifiers.append(Identifier(kind, value, None if verified is None else
                                          person.convert(f"{field}@verified", v.boolean, verified), None))
    for tag, kind in (("screenName", "screen_name"), ("espIdentifier", "esp_user_id")):  # IDENTIFIER_KINDS order
        for n, item in enumerate(node.all(tag), 1):
            value = node.convert(f"{tag}[{n}]", v.text, item.text)
            if value:
                identifiers.append(Identifier(kind, value, None, platform))
    for n, item in enumerate(node.all("deviceId"), 1):
        value = node.convert(f"deviceId[{n}]", v.text, item.findtext("idValue") or item.text)
        if value:
            identifiers.append(Identifier("device_id", value, None, None))
    location = node.child("estimatedLocation")
    return ReportedPerson(
        ref=ref,
        role=role,
        given_name=person.text("firstName") if person else None,
        family_name=person.text("lastName") if person else None,
        date_of_birth=person.text("dateOfBirth", v.birth_date) if person else None,
        age=person.text("age", v.age) if person else None,
        identifiers=tuple(identifiers),
        addresses=tuple(_address(_Node(a, node.ctx, f"{person.where}/address[{n}]"))
                        for n, a in enumerate(person.all("address") if person else (), 1)),
        ip_events=tuple(_ip_event(_Node(e, node.ctx, f"{node.where}/ipCaptureEvent[{n}]"))
                        for n, e in enumerate(node.all("ipCaptureEvent"), 1)),
        estimated_country=location.text("countryCode", _CODE) if location else None,
        prior_reports=tuple(t for t in (node.convert(f"priorCTReports[{n}]", _ID, x.text)
                                        for n, x in enumerate(node.all("priorCTReports"), 1)) if t),
    )


def _address(node: _Node) -> Address:
    return Address(street=node.text("address"), postcode=node.text("zipCode", _CODE), city=node.text("city"),
                   country=node.text("country", _CODE))


def _ip_event(node: _Node) -> IpEvent:
    return IpEvent(
        ip=node.convert("ipAddress", v.ip_address, node.text("ipAddress", str)),
        event=node.convert("eventName", v.ip_event, node.text("eventName", str)),
        at=node.text("dateTime", v.timestamp),
        port=node.text("port", v.port),
    )


def _file(node: _Node, n: int, recipients: tuple[str, ...], person_ref: str | None = None,
          persons: set[str] | None = None) -> ReportedFile:
    """One file; `persons` (the report's person refs) is None for a sibling document, checked on joining."""
    hashes = []
    for k, h in enumerate(node.all("originalFileHash"), 1):
        field = f"originalFileHash[{k}]"
        kind = node.ctx.require(f"{node.where}/{field}@hashType", h.get("hashType"))
        hashes.append(FileHash(*node.convert(field, v.hash_value, kind, h.text or "")))
    public = node.text("publiclyAvailable", v.boolean)
    action = node.text("action", v.action)
    if action is None:  # NCMEC carries no action: infer what the platform's flags say
        action = "public_post" if public else ("send" if recipients else "upload")
    return ReportedFile(
        ref=node.text("fileId", _ID) or f"f{n}",
        file_name=node.text("fileName"),
        person_ref=_person_ref(node, persons) or person_ref,
        action=action,
        recipients=recipients if action in ("send", "share") else (),
        uploaded_at=node.text("uploadedToEspTimestamp", v.timestamp),
        viewed_by_esp=node.text("fileViewedByEsp", v.boolean),
        publicly_available=public,
        classification=node.text("industryClassification", v.classification),
        annotations=_flags(node.all("fileAnnotations")),
        hashes=tuple(hashes),
    )


def _person_ref(node: _Node, persons: set[str] | None) -> str | None:
    ref = node.text("personRef", _REF)
    if ref is not None and persons is not None and ref not in persons:
        raise node.ctx.error(f"names person {v.shown(ref)}, who is not in the report "
                             f"({', '.join(sorted(persons)) or 'no persons'})", f"{node.where}/personRef")
    return ref


def join_files(report: ParsedReport, siblings: Iterable[SiblingFile]) -> ParsedReport:
    """The report with its sibling file-details documents appended, completed as inline ones are.

    Siblings come after the inline files, ordered by file id (a sibling without one is numbered on
    from the inline files, in path order). As inline: the single reported person holds a file that
    names nobody; a file without an action is a public post when publicly available, else sent when
    the report has recipients, else uploaded; a sent or shared file goes to all recipients.
    A sibling naming a person the report lacks raises IntakeError naming the sibling's file.
    """
    persons = {p.ref for p in report.persons}
    reported = [p.ref for p in report.persons if p.role == "reported"]
    recipients = tuple(p.ref for p in report.persons if p.role == "recipient")
    files = list(report.files)
    ordered = sorted(siblings, key=lambda s: (not s.ref_given, s.file.ref if s.ref_given else s.path))
    for n, sibling in enumerate(ordered, len(files) + 1):
        if sibling.report_id != report.external_id:
            raise ValueError(f"file details for report {sibling.report_id!r} joined to {report.external_id!r}")
        f = sibling.file
        if f.person_ref is not None and f.person_ref not in persons:
            raise IntakeError(sibling.path, f"names person {v.shown(f.person_ref)}, who is not in the report "
                              f"({', '.join(sorted(persons)) or 'no persons'})", report_id=sibling.report_id,
                              field="fileDetails/personRef", raw=sibling.raw)
        action = f.action if sibling.action_given else (
            "public_post" if f.publicly_available else ("send" if recipients else "upload"))
        files.append(replace(
            f, ref=f.ref if sibling.ref_given else f"f{n}",
            person_ref=f.person_ref or (reported[0] if len(reported) == 1 else None),
            action=action, recipients=recipients if action in ("send", "share") else ()))
    return replace(report, files=tuple(files))


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
