"""Reading NCMEC CyberTipline report XML (the ESP reporting schema, see schema.py).

One `<report>` per document. NCMEC delivers each file's details as a separate document whose root
is `<fileDetails>` with the `<reportId>` it belongs to; intake joins those by report id
(`join_files`). Inline `<fileDetails>` in a report, as earlier tiptriage versions wrote, still read.

What a triage rule, a link or an analyst can use is read into the domain (intake/domain.py);
what analysts read but nothing uses goes into `details`; free text of any length (chat content,
bios, additional info) stays in the raw copy. A report that is valid against the schema is not
refused; the bounds that keep hostile input cheap (values.py, MAX_MARKUP) still hold.

The schema says nothing about what a person did with a file: `action` stays None unless the
document carries tiptriage's `<action>` extension, and triage judges distribution from the rest
(triage/distribution.py).

Hostile input: the parser never resolves entities, never loads a DTD or anything from the network,
and refuses any document that declares a DTD at all (no real report carries one), so XXE and
entity-expansion bombs end as a clear refusal in bounded time and memory.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from lxml import etree

from tiptriage.i18n import N_
from tiptriage.intake import values as v
from tiptriage.intake.domain import (
    Address, Details, FileHash, Identifier, Incident, IpEvent, Parsed, ParsedReport, ReportedFile, ReportedPerson,
)
from tiptriage.intake.errors import IntakeError
from tiptriage.intake.formats import Ctx
from tiptriage.intake.formats.cybertip import schema as xs

FORMAT = "cybertip-xml"
SOURCE = "NCMEC"
# Values stored in columns of a fixed width (see values.MAX_*).
_ID = v.text_within(v.MAX_ID)
_REF = v.text_within(v.MAX_REF)
_CODE = v.text_within(v.MAX_CODE)
# Tags and attributes ('<' and '=', an attribute counted twice): within this bound a parsed tree
# stays under ~30 MB however the document is shaped (10 MB of "<x/>" took 460 MB before).
MAX_MARKUP = 200_000
# XInclude (the 2001 namespace and the 2003 draft's): never resolved, and never silently dropped —
# a document that asks to include another is refused, as one declaring a DTD is.
_XINCLUDE = ("{http://www.w3.org/2001/XInclude}", "{http://www.w3.org/2003/XInclude}")
XINCLUDE = N_("document uses XInclude (line {line}): included content is never loaded; reports carry none")
_DECLARED_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


@dataclass(frozen=True)
class SiblingFile:
    """A `<fileDetails>` document that belongs to the report with `report_id`.

    Who holds the file and to whom a sent file went depend on the report, so `join_files`
    completes the file; `ref_given` says whether the document itself carried a file id.
    """

    report_id: str
    file: ReportedFile
    raw: bytes
    path: str
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
    if b"XInclude" in data:  # the namespace's name: a cheap test before the walk
        include = next((el for el in root.iter(etree.Element) if el.tag.startswith(_XINCLUDE)), None)
        if include is not None:
            raise ctx.worded(XINCLUDE, None, line=include.sourceline)
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
            yield SiblingFile(ctx.report_id, file, data, path, ref_given=node.text("fileId", _ID) is not None)
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

    def nodes(self, tag: str) -> list[_Node]:
        """Each child with this tag, numbered; a report's blocks are named from the root (`victim[2]`)."""
        prefix = "" if self.where == "report" else f"{self.where}/"
        return [_Node(el, self.ctx, f"{prefix}{tag}[{n}]") for n, el in enumerate(self.kids.get(tag, ()), 1)]

    def child(self, tag: str) -> _Node | None:
        items = self.kids.get(tag)
        return _Node(items[0], self.ctx, f"{self.where}/{tag}") if items else None

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

    def attr(self, name: str, convert=v.text):
        value = self.el.get(name)
        return None if value is None else self.convert(f"@{name}", convert, value)

    def convert(self, field: str, convert, *values):
        try:
            return convert(*values)
        except ValueError as exc:
            raise self.ctx.error(str(exc), f"{self.where}/{field}") from None

    def details(self, tags: Iterable[str]) -> Details:
        """The children with these tags as (path, text) pairs (see `flatten`), tag by tag."""
        out: list[tuple[str, str]] = []
        for tag in tags:
            for n, el in enumerate(self.kids.get(tag, ()), 1):
                flatten(el, tag, out, self.ctx, f"{self.where}/{tag}[{n}]")
        return tuple(out)


def flatten(el: etree._Element, path: str, out: list, ctx: Ctx, where: str) -> None:
    """An element as (path, text) pairs: `a@x` an attribute, `a/b` a child's text; document order,
    attributes first. The writer's `unflatten` rebuilds the element from them."""
    for name, value in el.attrib.items():
        text = _checked(ctx, f"{where}/@{name}", value)
        if text is not None:
            out.append((f"{path}@{name}", text))
    children = [c for c in el if isinstance(c.tag, str)]
    for child in children:
        flatten(child, f"{path}/{child.tag}", out, ctx, f"{where}/{child.tag}")
    if not children:
        text = _checked(ctx, where, el.text)
        if text is not None:
            out.append((path, text))


def _checked(ctx: Ctx, where: str, value: str | None) -> str | None:
    try:
        return v.text(value)
    except ValueError as exc:
        raise ctx.error(str(exc), where) from None


# --- the report -----------------------------------------------------------------------------------

def parse_report(root: etree._Element, ctx: Ctx) -> ParsedReport:
    node = _Node(root, ctx, "report")
    ctx.report_id = ctx.require("report/reportId", node.text("reportId", _ID))
    summary = node.child("incidentSummary")
    persons: list[ReportedPerson] = []
    for block, (role, prefix, person_tag) in xs.PERSON_BLOCKS.items():
        for n, block_node in enumerate(node.nodes(block), 1):
            persons.extend(_person_block(block_node, f"{prefix}{n}", role, person_tag))
    recipients = tuple(p.ref for p in persons if p.role == "recipient")
    reported = [p.ref for p in persons if p.role == "reported"]
    files = tuple(_file(f, n, recipients, reported[0] if len(reported) == 1 else None, {p.ref for p in persons})
                  for n, f in enumerate(node.nodes("fileDetails"), 1))
    reporter = node.child("reporter")
    platform = summary.text("platform") if summary else None
    batched = node.child("batchedReport")
    law = node.child("lawEnforcement")
    return ParsedReport(
        source=SOURCE,
        external_id=ctx.report_id,
        format=FORMAT,
        incident_type=summary.text("incidentType") if summary else None,
        incident_at=summary.text("incidentDateTime", v.timestamp) if summary else None,
        reported_at=node.text("reportedAt", v.timestamp),
        # The schema names no company (the ESP is known from its account): the platform stands for it.
        reporter=(reporter.text("espName") if reporter else None) or platform,
        annotations=_flags(summary.all("reportAnnotations") if summary else []),
        persons=tuple(persons),
        files=files,
        platform=platform,
        escalation=summary.text("escalateToHighPriority") if summary else None,
        batched=batched.attr("reason", _CODE) if batched else None,
        incidents=tuple(i for n in node.nodes("internetDetails") for i in _incidents(n)),
        reporter_contact=reporter.details(xs.REPORTER_DETAILS) if reporter else (),
        law_enforcement=law.details(xs.ORDER["lawEnforcement"]) if law else (),
    )


def _incidents(node: _Node) -> Iterator[Incident]:
    """The subtype inside one internetDetails (the schema allows exactly one; more are read too)."""
    for tag, kind in xs.INCIDENTS.items():
        for inner in node.nodes(tag):
            yield Incident(
                kind=kind, details=inner.details(xs.INCIDENT_DETAILS[kind]),
                third_party_hosted=inner.attr("thirdPartyHostedContent", v.boolean),
                ip_events=tuple(_ip_event(e) for e in inner.nodes("ipCaptureEvent")))


def _flags(holders: list[etree._Element]) -> tuple[str, ...]:
    """Annotations are empty elements (`<sextortion/>`) or elements with text true/false."""
    if not holders:
        return ()
    return tuple(sorted(child.tag[:v.MAX_FLAG] for child in holders[0]
                        if isinstance(child.tag, str) and (child.text or "true").strip().lower() != "false"))


# --- persons --------------------------------------------------------------------------------------

def _person_block(node: _Node, ref: str, role: str, person_tag: str) -> list[ReportedPerson]:
    """A person block and, after it, the accounts the platform associates with it."""
    # Earlier tiptriage versions wrote personOrUserReportedPerson inside every block.
    person = node.child(person_tag) or node.child("personOrUserReportedPerson")
    platform = node.text("espService")
    country, location = _location(node)
    block = ReportedPerson(
        ref=ref,
        role=role,
        given_name=person.text("firstName") if person else None,
        family_name=person.text("lastName") if person else None,
        date_of_birth=person.text("dateOfBirth", v.birth_date) if person else None,
        age=person.text("age", v.age) if person else None,
        identifiers=(_contacts(person) if person else ()) + _accounts(node, platform),
        addresses=tuple(_address(a) for a in person.nodes("address")) if person else (),
        ip_events=tuple(_ip_event(e) for e in node.nodes("ipCaptureEvent")),
        estimated_country=country,
        prior_reports=_prior(node, "priorCTReports"),
        details=node.details(xs.ACCOUNT_DETAILS) + location,
    )
    return [block] + [_associated(a, f"{ref}a{n}") for n, a in enumerate(node.nodes("associatedAccount"), 1)]


def _associated(node: _Node, ref: str) -> ReportedPerson:
    """An associatedAccount: its own names and identifiers, never merged into the block's person."""
    kind = node.attr("type", _CODE)
    return ReportedPerson(
        ref=ref, role="associated",
        given_name=node.text("firstName"), family_name=node.text("lastName"),
        date_of_birth=node.text("dateOfBirth", v.birth_date), age=node.text("approximateAge", v.age),
        identifiers=_contacts(node) + _accounts(node, node.text("espService") or node.text("platform")),
        addresses=tuple(_address(a) for a in node.nodes("address")),
        ip_events=tuple(_ip_event(e) for e in node.nodes("ipCaptureEvent")),
        prior_reports=_prior(node, "priorCTReport"),
        details=((("@type", kind),) if kind else ()) + node.details(xs.ACCOUNT_DETAILS),
    )


def _contacts(node: _Node) -> tuple[Identifier, ...]:
    out = []
    for kind in ("email", "phone"):  # IDENTIFIER_KINDS order
        for item in node.nodes(kind):
            value = item.convert("", v.text, item.el.text)
            if value is None:  # the schema allows an empty element (attributes only): nothing to use
                continue
            if kind == "phone":
                value = _international(value, item.attr("countryCallingCode", _CODE))
            out.append(Identifier(kind, value, item.attr("verified", v.boolean), None,
                                  item.attr("verificationDate", v.timestamp)))
    return tuple(out)


def _international(number: str, calling_code: str | None) -> str:
    """A number with the country calling code the platform gave beside it ("+49" and "30 1234567"
    is "+49 30 1234567"): without it a German number would be read as a Dutch one."""
    if not calling_code or number.startswith(("+", "00")):
        return number
    return f"{calling_code if calling_code.startswith('+') else '+' + calling_code} {number}"


def _accounts(node: _Node, platform: str | None) -> tuple[Identifier, ...]:
    out = []
    for tag, kind in (("screenName", "screen_name"), ("espIdentifier", "esp_user_id")):  # IDENTIFIER_KINDS order
        for n, item in enumerate(node.all(tag), 1):
            value = node.convert(f"{tag}[{n}]", v.text, item.text)
            if value:
                out.append(Identifier(kind, value, None, platform))
    for device in node.nodes("deviceId"):
        value = device.text("idValue") if device.all("idValue") else device.convert("", v.text, device.el.text)
        if value:  # the id's type (IMEI, MAC ...) scopes it as a platform scopes a user id
            out.append(Identifier("device_id", value, None, device.text("idType", _CODE)))
    return tuple(out)


def _location(node: _Node) -> tuple[str | None, Details]:
    """The platform's estimate of where the person is: a country code, or none when the code is a
    pseudo-country (A1 is an anonymous proxy); city, region and the rest are details."""
    location = node.child("estimatedLocation")
    if location is None:
        return None, ()
    details = node.details(("estimatedLocation",))
    code = location.text("countryCode", _CODE)
    if code is None or code.upper() in xs.PSEUDO_COUNTRIES:
        return None, details
    return code, tuple(d for d in details if d[0] != "estimatedLocation/countryCode")


def _prior(node: _Node, tag: str) -> tuple[str, ...]:
    return tuple(t for t in (node.convert(f"{tag}[{n}]", _ID, x.text) for n, x in enumerate(node.all(tag), 1)) if t)


def _address(node: _Node) -> Address:
    return Address(street=node.text("address"), postcode=node.text("zipCode", _CODE), city=node.text("city"),
                   country=node.text("country", _CODE))


def _ip_event(node: _Node) -> IpEvent:
    return IpEvent(
        ip=node.convert("ipAddress", v.ip_address, node.text("ipAddress", str)),
        event=node.convert("eventName", v.ip_event, node.text("eventName", str)),
        at=node.text("dateTime", v.timestamp),
        port=node.text("port", v.port),
        possible_proxy=node.text("possibleProxy", v.boolean),
    )


# --- files ----------------------------------------------------------------------------------------

def _file(node: _Node, n: int, recipients: tuple[str, ...], person_ref: str | None = None,
          persons: set[str] | None = None) -> ReportedFile:
    """One file; `persons` (the report's person refs) is None for a sibling document, checked on joining."""
    hashes, unusable = _hashes(node)
    action = node.text("action", v.action)
    meme = node.text("potentialMeme", v.boolean)
    return ReportedFile(
        ref=node.text("fileId", _ID) or f"f{n}",
        file_name=node.text("fileName"),
        person_ref=_person_ref(node, persons) or person_ref,
        action=action,
        recipients=recipients if action in ("send", "share") else (),
        uploaded_at=node.text("uploadedToEspTimestamp", v.timestamp),
        viewed_by_esp=node.text("fileViewedByEsp", v.boolean),
        publicly_available=node.text("publiclyAvailable", v.boolean),
        classification=node.text("industryClassification", v.classification),
        annotations=tuple(sorted(set(_flags(node.all("fileAnnotations")) + (("potentialMeme",) if meme else ())))),
        hashes=hashes,
        relevance=node.text("fileRelevance", _CODE),
        details=node.details(xs.FILE_DETAILS) + unusable,
    )


def _hashes(node: _Node) -> tuple[tuple[FileHash, ...], Details]:
    """The hashes tiptriage can match, and the others as details: the schema allows any hash type
    (PhotoDNA, SHA-512 ...) and any text, and an unusable hash is no reason to refuse a report."""
    usable, other = [], []
    for k, h in enumerate(node.all("originalFileHash"), 1):
        field = f"originalFileHash[{k}]"
        kind = node.ctx.require(f"{node.where}/{field}@hashType", node.convert(f"{field}@hashType", v.text,
                                                                               h.get("hashType")))
        try:
            usable.append(FileHash(*v.hash_value(kind, h.text or "")))
        except ValueError:
            value = node.convert(field, v.text, h.text)
            other.extend([("originalFileHash@hashType", kind)] + ([("originalFileHash", value)] if value else []))
    return tuple(usable), tuple(other)


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
    names nobody; a file the `<action>` extension calls sent or shared went to all recipients.
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
        files.append(replace(
            f, ref=f.ref if sibling.ref_given else f"f{n}",
            person_ref=f.person_ref or (reported[0] if len(reported) == 1 else None),
            recipients=recipients if f.action in ("send", "share") else ()))
    return replace(report, files=tuple(files))
