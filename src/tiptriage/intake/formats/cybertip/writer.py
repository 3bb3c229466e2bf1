"""Writing NCMEC CyberTipline report XML, for the synthetic generator and the round-trip tests.

`write(report, schema_only=True)` writes what NCMEC's schema defines, in the order it requires,
plus the `<reportId>` NCMEC adds: a report document and one `<fileDetails>` document per file, as
NCMEC delivers them. Without `schema_only` it also writes tiptriage's extensions (`<action>` and
`<personRef>` on files, `<reportedAt>`, `<espName>`), inline files unless asked otherwise, so that
`read(write(report)) == report` holds for every domain object.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree

from tiptriage.intake.domain import Details, Incident, IpEvent, ParsedReport, ReportedFile, ReportedPerson
from tiptriage.intake.formats.cybertip import schema as xs

_CALLING_CODE = re.compile(r"^(\+[0-9]{1,3}) (\S.*)$")


def write(report: ParsedReport, *, inline_files: bool = True, schema_only: bool = False) -> tuple[bytes, list[bytes]]:
    """The report document and, unless inline, one `<fileDetails>` document per file."""
    extensions = not schema_only
    root = etree.Element("report")
    _sub(root, "reportId", report.external_id)
    if extensions:
        _sub(root, "reportedAt", report.reported_at)
    if report.batched:
        etree.SubElement(root, "batchedReport", reason=report.batched)
    _summary(root, report)
    for incident in report.incidents:
        _incident(etree.SubElement(root, "internetDetails"), incident)
    if report.law_enforcement:
        unflatten(etree.SubElement(root, "lawEnforcement"), report.law_enforcement)
    _reporter(root, report, extensions)
    associated = [p for p in report.persons if p.role == "associated"]
    for p in report.persons:
        if p.role != "associated":
            _person_block(root, p, [a for a in associated if _parent(a.ref) == p.ref])
    siblings = []
    for f in report.files:
        if inline_files and extensions:
            _file(root, f, None, extensions)
        else:
            holder = etree.Element("holder")
            _file(holder, f, report.external_id, extensions)
            siblings.append(etree.tostring(holder[0], xml_declaration=True, encoding="UTF-8"))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True), siblings


def _parent(ref: str) -> str:
    return re.sub(r"a[0-9]+$", "", ref)


def _sub(parent: etree._Element, tag: str, value: object | None, **attrs: str) -> etree._Element | None:
    if value is None:
        return None
    el = etree.SubElement(parent, tag, **attrs)
    if isinstance(value, bool):
        el.text = "true" if value else "false"
    elif hasattr(value, "isoformat"):
        el.text = value.isoformat().replace("+00:00", "Z")
    else:
        el.text = str(value)
    return el


def unflatten(parent: etree._Element, pairs: Details) -> None:
    """Elements from (path, text) pairs as the reader's `flatten` makes them. Consecutive pairs with
    the same first step form one element, until a path repeats (the next element of that name)."""
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    for path, value in pairs:
        head, rest = _split(path)
        if not groups or groups[-1][0] != head or any(r == rest for r, _ in groups[-1][1]):
            groups.append((head, []))
        groups[-1][1].append((rest, value))
    for head, items in groups:
        el = parent if head == "" else etree.SubElement(parent, head)
        children = []
        for rest, value in items:
            if rest.startswith("@"):
                el.set(rest[1:], value)
            elif rest:
                children.append((rest[1:], value))
            else:
                el.text = value
        unflatten(el, tuple(children))


def _split(path: str) -> tuple[str, str]:
    cut = min((i for i in (path.find("/"), path.find("@")) if i >= 0), default=len(path))
    return path[:cut], path[cut:]


def _ordered(parent: etree._Element, order: tuple[str, ...], writers: dict[str, Callable[[etree._Element], None]],
             details: Details) -> None:
    """Children in schema order: each tag's structured content, then its details."""
    by_head: dict[str, list[tuple[str, str]]] = {}
    for path, value in details:
        by_head.setdefault(_split(path)[0], []).append((path, value))
    for tag in order:
        if tag in writers:
            writers[tag](parent)
        if tag in by_head:
            unflatten(parent, tuple(by_head[tag]))


# --- report level ---------------------------------------------------------------------------------

def _summary(root: etree._Element, report: ParsedReport) -> None:
    summary = etree.SubElement(root, "incidentSummary")
    _sub(summary, "incidentType", report.incident_type)
    _sub(summary, "platform", report.platform)
    _sub(summary, "escalateToHighPriority", report.escalation)
    if report.annotations:
        notes = etree.SubElement(summary, "reportAnnotations")
        for a in report.annotations:
            etree.SubElement(notes, a)
    _sub(summary, "incidentDateTime", report.incident_at)


def _incident(holder: etree._Element, incident: Incident) -> None:
    el = etree.SubElement(holder, xs.INCIDENT_TAGS[incident.kind])
    if incident.third_party_hosted is not None:
        el.set("thirdPartyHostedContent", "true" if incident.third_party_hosted else "false")
    _ordered(el, xs.INCIDENT_ORDER[incident.kind], {"ipCaptureEvent": lambda p: _ip_events(p, incident.ip_events)},
             incident.details)


def _reporter(root: etree._Element, report: ParsedReport, extensions: bool) -> None:
    reporter = etree.SubElement(root, "reporter")
    if extensions:
        _sub(reporter, "espName", report.reporter)
    details = report.reporter_contact
    if not any(path.startswith("reportingPerson") for path, _ in details):  # the schema requires one
        etree.SubElement(reporter, "reportingPerson")
    _ordered(reporter, xs.ORDER["reporter"], {}, details)


# --- persons --------------------------------------------------------------------------------------

def _person_block(root: etree._Element, p: ReportedPerson, associated: list[ReportedPerson]) -> None:
    tag = xs.BLOCK_OF_ROLE[p.role]
    el = etree.SubElement(root, tag)
    platforms = {i.platform for i in p.identifiers if i.platform and i.kind in ("screen_name", "esp_user_id")}
    writers = {
        xs.PERSON_BLOCKS[tag][2]: lambda parent: _person(parent, xs.PERSON_BLOCKS[tag][2], p),
        "espService": lambda parent: _sub(parent, "espService", platforms.pop() if len(platforms) == 1 else None),
        "estimatedLocation": lambda parent: _location(parent, p),
        "associatedAccount": lambda parent: [_associated(parent, a) for a in associated],
    }
    _ordered(el, xs.ORDER[tag], writers | _account_writers(p, "priorCTReports"),
             tuple(d for d in p.details if not d[0].startswith("estimatedLocation")))


def _account_writers(p: ReportedPerson, prior_tag: str) -> dict[str, Callable]:
    def ids(kind: str, tag: str) -> Callable:
        return lambda parent: [_sub(parent, tag, i.value) for i in p.identifiers if i.kind == kind]

    return {"espIdentifier": ids("esp_user_id", "espIdentifier"), "screenName": ids("screen_name", "screenName"),
            "ipCaptureEvent": lambda parent: _ip_events(parent, p.ip_events),
            "deviceId": lambda parent: _devices(parent, p),
            prior_tag: lambda parent: [_sub(parent, prior_tag, x) for x in p.prior_reports]}


def _person(parent: etree._Element, tag: str, p: ReportedPerson) -> None:
    person = etree.SubElement(parent, tag)
    _sub(person, "firstName", p.given_name)
    _sub(person, "lastName", p.family_name)
    _contacts(person, p)
    _addresses(person, p)
    _sub(person, "age", p.age)
    _sub(person, "dateOfBirth", p.date_of_birth)


def _associated(parent: etree._Element, a: ReportedPerson) -> None:
    el = etree.SubElement(parent, "associatedAccount")
    platforms = {i.platform for i in a.identifiers if i.platform and i.kind in ("screen_name", "esp_user_id")}
    written = {path for path, _ in a.details}
    writers = {
        "firstName": lambda e: _sub(e, "firstName", a.given_name),
        "lastName": lambda e: _sub(e, "lastName", a.family_name),
        "approximateAge": lambda e: _sub(e, "approximateAge", a.age),
        "dateOfBirth": lambda e: _sub(e, "dateOfBirth", a.date_of_birth),
        "phone": lambda e: _contacts(e, a, ("phone",)),
        "email": lambda e: _contacts(e, a, ("email",)),
        "address": lambda e: _addresses(e, a),
        "espService": lambda e: _sub(e, "espService", platforms.pop() if len(platforms) == 1 and "platform" not in
                                     written else None),
    }
    _ordered(el, ("",) + xs.ORDER["associatedAccount"], writers | _account_writers(a, "priorCTReport"), a.details)


def _contacts(parent: etree._Element, p: ReportedPerson, kinds: tuple[str, ...] = ("phone", "email")) -> None:
    for kind in kinds:  # the schema's order: phones before e-mail addresses
        for i in p.identifiers:
            if i.kind != kind:
                continue
            attrs = {} if i.verified is None else {"verified": "true" if i.verified else "false"}
            if i.verified_at is not None:
                attrs["verificationDate"] = i.verified_at.isoformat().replace("+00:00", "Z")
            value = i.value
            split = _CALLING_CODE.match(value) if kind == "phone" else None
            if split:  # NCMEC gives the calling code beside the number
                attrs["countryCallingCode"], value = split.group(1), split.group(2)
            _sub(parent, kind, value, **attrs)


def _addresses(parent: etree._Element, p: ReportedPerson) -> None:
    for a in p.addresses:
        addr = etree.SubElement(parent, "address")
        _sub(addr, "address", a.street)
        _sub(addr, "city", a.city)
        _sub(addr, "zipCode", a.postcode)
        _sub(addr, "country", a.country)


def _devices(parent: etree._Element, p: ReportedPerson) -> None:
    for i in p.identifiers:
        if i.kind == "device_id":
            dev = etree.SubElement(parent, "deviceId")
            _sub(dev, "idType", i.platform)
            _sub(dev, "idValue", i.value)


def _location(parent: etree._Element, p: ReportedPerson) -> None:
    details = tuple(d for d in p.details if d[0].startswith("estimatedLocation"))
    if p.estimated_country is None and not details:
        return
    el = etree.SubElement(parent, "estimatedLocation")
    inner = tuple((path[len("estimatedLocation"):].lstrip("/"), value) for path, value in details)
    for path, value in inner:
        if path.startswith("@"):
            el.set(path[1:], value)
    for tag in xs.ORDER["estimatedLocation"]:
        for path, value in inner:
            if path == tag:
                _sub(el, tag, value)
        if tag == "countryCode" and p.estimated_country is not None:
            _sub(el, tag, p.estimated_country)


def _ip_events(parent: etree._Element, events: tuple[IpEvent, ...]) -> None:
    for e in events:
        ev = etree.SubElement(parent, "ipCaptureEvent")
        _sub(ev, "ipAddress", e.ip)
        _sub(ev, "eventName", e.event)
        _sub(ev, "dateTime", e.at)
        _sub(ev, "possibleProxy", e.possible_proxy)
        _sub(ev, "port", e.port)


# --- files ----------------------------------------------------------------------------------------

def _file(parent: etree._Element, f: ReportedFile, report_id: str | None, extensions: bool) -> None:
    el = etree.SubElement(parent, "fileDetails")
    notes = set(f.annotations)
    meme_only = notes == {"potentialMeme"}

    def annotations(e: etree._Element) -> None:
        if notes and not meme_only:
            holder = etree.SubElement(e, "fileAnnotations")
            for a in f.annotations:
                etree.SubElement(holder, a)

    writers: dict[str, Callable] = {
        "reportId": lambda e: _sub(e, "reportId", report_id),
        "fileId": lambda e: _sub(e, "fileId", f.ref),
        "fileName": lambda e: _sub(e, "fileName", f.file_name),
        "uploadedToEspTimestamp": lambda e: _sub(e, "uploadedToEspTimestamp", f.uploaded_at),
        "fileViewedByEsp": lambda e: _sub(e, "fileViewedByEsp", f.viewed_by_esp),
        "publiclyAvailable": lambda e: _sub(e, "publiclyAvailable", f.publicly_available),
        "fileRelevance": lambda e: _sub(e, "fileRelevance", f.relevance),
        "potentialMeme": lambda e: _sub(e, "potentialMeme", True if meme_only else None),
        "fileAnnotations": annotations,
        "industryClassification": lambda e: _sub(e, "industryClassification", f.classification),
        "originalFileHash": lambda e: [_sub(e, "originalFileHash", h.value, hashType=h.hash_type.upper())
                                       for h in f.hashes],
    }
    if extensions:
        writers["publiclyAvailable"] = lambda e: (_sub(e, "personRef", f.person_ref), _sub(e, "action", f.action),
                                                  _sub(e, "publiclyAvailable", f.publicly_available))
    _ordered(el, xs.ORDER["fileDetails"], writers, f.details)
