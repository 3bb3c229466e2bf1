"""Every element and attribute NCMEC's reporting schema declares for a report and for file details,
as a table written by reading the schema: a report using all of them is accepted, and each value is
found in `reports show --json`, or, where nothing uses it, in the raw copy.

The table is checked against the XSD itself (../shared/ncmec/cyber_tipline.xsd) when that copy is
present: it must name every declared path, and the document built from it must validate.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from tiptriage import pipeline
from tiptriage.accounts.actor import Actor
from tiptriage.intake import documents

XSD = Path(__file__).resolve().parents[3] / "shared" / "ncmec" / "cyber_tipline.xsd"
RAW = "raw"  # kept in the raw copy only: free text nothing uses, or an attribute no rule reads
MD5 = "4f2c0a1b9e8d7c6b5a4938271605f4e3"


def _j(key: str, value) -> str:
    """How a structured value appears in the JSON document."""
    return json.dumps({key: value})[1:-1]


def _d(path: str, value: str) -> str:
    """How a detail (name, text) pair appears in the JSON document."""
    return json.dumps([path, value])


# --- the schema's shared types ------------------------------------------------------------------
# Each entry: (path, value in the document, what shows it). A path step starting with "+" starts a
# new element of that name; an empty value writes an empty element (presence flags).

def _dp(prefix: str, rest: str) -> str:
    """A detail's path: `prefix` is where the element sits in the detail's holder ("" at its top)."""
    return f"{prefix}/{rest}" if prefix else rest


def phone(path: str, tag: str, number: str, detail: str | None = None) -> list:
    """type `phone`: read as an identifier (the calling code folded in), or kept as details."""
    if detail is not None:
        return [(f"{path}/{tag}", number, _d(_dp(detail, tag), number)),
                *[(f"{path}/{tag}@{a}", v, _d(_dp(detail, f"{tag}@{a}"), v)) for a, v in (
                    ("type", "Mobile"), ("verified", "true"), ("verificationDate", "2023-01-05T10:00:00Z"),
                    ("countryCallingCode", "+31"), ("extension", "12"))]]
    return [(f"{path}/{tag}", number, f'"+31 {number}"'), (f"{path}/{tag}@type", "Mobile", RAW),
            (f"{path}/{tag}@verified", "true", '"verified": true'),
            (f"{path}/{tag}@verificationDate", "2023-01-05T10:00:00Z", '"verified_at": "2023-01-05T10:00:00+00:00"'),
            (f"{path}/{tag}@countryCallingCode", "+31", f'"+31 {number}"'), (f"{path}/{tag}@extension", "12", RAW)]


def email(path: str, tag: str, address: str, detail: str | None = None) -> list:
    if detail is not None:
        return [(f"{path}/{tag}", address, _d(_dp(detail, tag), address)),
                *[(f"{path}/{tag}@{a}", v, _d(_dp(detail, f"{tag}@{a}"), v)) for a, v in (
                    ("type", "Work"), ("verified", "false"), ("verificationDate", "2023-01-06T10:00:00Z"))]]
    return [(f"{path}/{tag}", address, _j("value", address)), (f"{path}/{tag}@type", "Home", RAW),
            (f"{path}/{tag}@verified", "true", '"verified": true'),
            (f"{path}/{tag}@verificationDate", "2023-01-07T10:00:00Z", '"verified_at": "2023-01-07T10:00:00+00:00"')]


def address(path: str, tag: str, key: str, detail: str | None = None) -> list:
    parts = (("address", f"Straat {key} 1"), ("city", f"Stad-{key}"), ("zipCode", f"10{len(key)}1 AB"),
             ("state", "CA"), ("nonUsaState", f"Provincie-{key}"), ("country", "NL"))
    if detail is not None:
        return [(f"{path}/{tag}@type", "Business", _d(_dp(detail, f"{tag}@type"), "Business"))] + [
            (f"{path}/{tag}/{p}", v, _d(_dp(detail, f"{tag}/{p}"), v)) for p, v in parts]
    shown = {"address": "street", "city": "city", "zipCode": "postcode", "country": "country"}
    return [(f"{path}/{tag}@type", "Home", RAW)] + [
        (f"{path}/{tag}/{p}", v, _j(shown[p], v) if p in shown else RAW) for p, v in parts]


def person(path: str, key: str, age: int, born: str) -> list:
    """type `person`: names, phones, e-mail, addresses, age and date of birth of a person block."""
    return [(f"{path}/firstName", f"Voor-{key}", _j("given_name", f"Voor-{key}")),
            (f"{path}/lastName", f"Achter-{key}", _j("family_name", f"Achter-{key}")),
            *phone(path, "phone", f"6{sum(map(ord, key)) % 90 + 10}123456"), *email(path, "email", f"{key}@example.nl"),
            *address(path, "address", key), (f"{path}/age", str(age), _j("age", age)),
            (f"{path}/dateOfBirth", born, _j("date_of_birth", born))]


def contact(holder: str, tag: str) -> list:
    """type `contactPerson`: kept as details of the report (nobody triage links)."""
    path = f"{holder}/{tag}"
    return [(f"{path}/firstName", f"Voor-{tag}", _d(f"{tag}/firstName", f"Voor-{tag}")),
            (f"{path}/lastName", f"Achter-{tag}", _d(f"{tag}/lastName", f"Achter-{tag}")),
            *phone(path, "phone", "201234567", detail=tag), *email(path, "email", f"{tag}@esp.example", detail=tag),
            *address(path, "address", tag, detail=tag)]


def ip_event(path: str, ip: str) -> list:
    return [(f"{path}/ipAddress", ip, _j("ip", ip)), (f"{path}/eventName", "Unknown", _j("event", "Unknown")),
            (f"{path}/dateTime", "2023-02-03T04:05:06Z", _j("at", "2023-02-03T04:05:06+00:00")),
            (f"{path}/possibleProxy", "true", '"possible_proxy": true'), (f"{path}/port", "4431", _j("port", 4431))]


def device(path: str, value: str) -> list:
    return [(f"{path}/idType", "IMEI", _j("platform", "IMEI")), (f"{path}/idValue", value, _j("value", value)),
            (f"{path}/eventName", "Login", RAW), (f"{path}/dateTime", "2023-02-03T05:00:00Z", RAW)]


def disabled(path: str, tag: str, temporary: bool) -> list:
    attrs = ["disabledDate", "userNotified", "userNotifiedDate"] + (["reenabledDate"] if temporary else [])
    values = {"disabledDate": "2023-03-01T00:00:00Z", "userNotified": "false",
              "userNotifiedDate": "2023-03-02T00:00:00Z", "reenabledDate": "2023-03-09T00:00:00Z"}
    return [(f"{path}/{tag}@{a}", values[a], _d(f"{tag}@{a}", values[a])) for a in attrs] + [
        (f"{path}/{tag}", "true", _d(tag, "true"))]


def location(path: str, key: str) -> list:
    return [(f"{path}/estimatedLocation@verified", "false", _d("estimatedLocation@verified", "false")),
            (f"{path}/estimatedLocation@timestamp", "2023-04-01T00:00:00Z",
             _d("estimatedLocation@timestamp", "2023-04-01T00:00:00Z")),
            (f"{path}/estimatedLocation/city", f"Stad-{key}", _d("estimatedLocation/city", f"Stad-{key}")),
            (f"{path}/estimatedLocation/region", f"Regio-{key}", _d("estimatedLocation/region", f"Regio-{key}")),
            (f"{path}/estimatedLocation/countryCode", "NL", _j("estimated_country", "NL"))]


def account(path: str, key: str, *, vehicle=False, third_party=False, school=False, group=True,
            associated=False) -> list:
    """The elements a person block shares, in the schema's order for that block."""
    out = [(f"{path}/vehicleDescription", f"Auto-{key}", _d("vehicleDescription", f"Auto-{key}"))] if vehicle else []
    out += [(f"{path}/espIdentifier", f"id-{key}", _j("value", f"id-{key}")),
            (f"{path}/espService", f"Dienst-{key}", _j("platform", f"Dienst-{key}")),
            (f"{path}/compromisedAccount", "false", _d("compromisedAccount", "false")),
            (f"{path}/screenName", f"scherm-{key}", _j("value", f"scherm-{key}")),
            (f"{path}/displayName", f"Weergave {key}", _d("displayName", f"Weergave {key}")),
            (f"{path}/profileUrl", f"https://p.example/{key}", _d("profileUrl", f"https://p.example/{key}")),
            (f"{path}/profileBio", f"Bio-{key}", RAW),
            *ip_event(f"{path}/ipCaptureEvent", f"203.0.113.{len(key)}"),
            *device(f"{path}/deviceId", f"35{len(key)}9988776655")]
    if third_party:
        out.append((f"{path}/thirdPartyUserReported", "false", _d("thirdPartyUserReported", "false")))
    if school:
        out.append((f"{path}/schoolName", f"School-{key}", _d("schoolName", f"School-{key}")))
    out.append((f"{path}/priorCTReports", f"1234{len(key)}", '"1234%d"' % len(key)))
    if group:
        out.append((f"{path}/groupIdentifier", f"Groep-{key}", _d("groupIdentifier", f"Groep-{key}")))
    out += [*disabled(path, "accountTemporarilyDisabled", True), *disabled(path, "accountPermanentlyDisabled", False),
            *location(path, key), (f"{path}/allEmailsReported", "true", _d("allEmailsReported", "true"))]
    if associated:
        out += associated_account(f"{path}/associatedAccount", f"{key}-assoc")
    return out + [(f"{path}/additionalInfo", f"Info-{key}", RAW)]


def associated_account(path: str, key: str) -> list:
    return [(f"{path}@type", "Linked", _d("@type", "Linked")),
            (f"{path}/platform", f"Platform-{key}", _d("platform", f"Platform-{key}")),
            (f"{path}/platform@thirdPartyUser", "true", _d("platform@thirdPartyUser", "true")),
            (f"{path}/firstName", f"Voor-{key}", _j("given_name", f"Voor-{key}")),
            (f"{path}/middleName", f"Midden-{key}", _d("middleName", f"Midden-{key}")),
            (f"{path}/lastName", f"Achter-{key}", _j("family_name", f"Achter-{key}")),
            (f"{path}/approximateAge", "29", _j("age", 29)), (f"{path}/dateOfBirth", "1994-06-07",
                                                             _j("date_of_birth", "1994-06-07")),
            *phone(path, "phone", "699887766"), *email(path, "email", f"{key}@example.nl"),
            (f"{path}/allEmailsReported", "false", _d("allEmailsReported", "false")),
            *address(path, "address", key),
            (f"{path}/espService", f"Dienst-{key}", _j("platform", f"Dienst-{key}")),
            (f"{path}/espIdentifier", f"id-{key}", _j("value", f"id-{key}")),
            (f"{path}/profileUrl", f"https://p.example/{key}", _d("profileUrl", f"https://p.example/{key}")),
            (f"{path}/screenName", f"scherm-{key}", _j("value", f"scherm-{key}")),
            (f"{path}/displayName", f"Weergave {key}", _d("displayName", f"Weergave {key}")),
            (f"{path}/profileBio", f"Bio-{key}", RAW),
            (f"{path}/groupIdentifier", f"Groep-{key}", _d("groupIdentifier", f"Groep-{key}")),
            (f"{path}/compromisedAccount", "true", _d("compromisedAccount", "true")),
            *disabled(path, "accountTemporarilyDisabled", True), *disabled(path, "accountPermanentlyDisabled", False),
            *ip_event(f"{path}/ipCaptureEvent", "203.0.113.99"), *device(f"{path}/deviceId", "3599887766554433"),
            (f"{path}/priorCTReport", "55501", '"55501"'), (f"{path}/additionalInfo", f"Info-{key}", RAW)]


INCIDENT_TYPE = "Child Pornography (possession, manufacture, and distribution)"
R = "report"
ID = "report/+internetDetails"
REPORT_TABLE = [
    (f"{R}/batchedReport@reason", "VIRAL_POTENTIAL_MEME", _j("batched", "VIRAL_POTENTIAL_MEME")),
    (f"{R}/incidentSummary/incidentType", INCIDENT_TYPE, _j("incident_type", INCIDENT_TYPE)),
    (f"{R}/incidentSummary/platform", "Platform-X", _j("platform", "Platform-X")),
    (f"{R}/incidentSummary/escalateToHighPriority", "Kind in direct gevaar", _j("escalation", "Kind in direct gevaar")),
    *[(f"{R}/incidentSummary/reportAnnotations/{flag}", "", f'"{flag}"') for flag in (
        "sextortion", "csamSolicitation", "minorToMinorInteraction", "spam", "sadisticOnlineExploitation")],
    (f"{R}/incidentSummary/incidentDateTime", "2023-05-01T12:00:00Z", _j("incident_at", "2023-05-01T12:00:00+00:00")),
    (f"{R}/incidentSummary/incidentDateTimeDescription", "Ongeveer middag", RAW),
    (f"{ID}/webPageIncident@thirdPartyHostedContent", "true", '"third_party_hosted": true'),
    (f"{ID}/webPageIncident/url", "https://web.example/a", _d("url", "https://web.example/a")),
    (f"{ID}/webPageIncident/additionalInfo", "Web-info", RAW),
    *email(f"{ID}/emailIncident", "emailAddress", "mail-incident@example.org", detail=""),
    (f"{ID}/emailIncident/content", "Mail-inhoud", RAW),
    (f"{ID}/emailIncident/additionalInfo", "Mail-info", RAW),
    (f"{ID}/newsgroupIncident/name", "alt.test.groep", _d("name", "alt.test.groep")),
    *email(f"{ID}/newsgroupIncident", "emailAddress", "ng@example.org", detail=""),
    (f"{ID}/newsgroupIncident/content", "NG-inhoud", RAW),
    (f"{ID}/newsgroupIncident/additionalInfo", "NG-info", RAW),
    (f"{ID}/chatImIncident/chatClient", "Kletsapp", _d("chatClient", "Kletsapp")),
    (f"{ID}/chatImIncident/chatRoomName", "Kamer-7", _d("chatRoomName", "Kamer-7")),
    (f"{ID}/chatImIncident/content", "Chat-inhoud", RAW),
    (f"{ID}/chatImIncident/additionalInfo", "Chat-info", RAW),
    (f"{ID}/onlineGamingIncident/gameName", "Spel-X", _d("gameName", "Spel-X")),
    (f"{ID}/onlineGamingIncident/console", "Console-Y", _d("console", "Console-Y")),
    (f"{ID}/onlineGamingIncident/content", "Spel-inhoud", RAW),
    (f"{ID}/onlineGamingIncident/additionalInfo", "Spel-info", RAW),
    *phone(f"{ID}/cellPhoneIncident", "phoneNumber", "612000111", detail=""),
    (f"{ID}/cellPhoneIncident/latitude", "52.09", _d("latitude", "52.09")),
    (f"{ID}/cellPhoneIncident/longitude", "5.12", _d("longitude", "5.12")),
    (f"{ID}/cellPhoneIncident/additionalInfo", "Tel-info", RAW),
    (f"{ID}/nonInternetIncident/locationName", "Buurthuis", _d("locationName", "Buurthuis")),
    *address(f"{ID}/nonInternetIncident", "incidentAddress", "plaats", detail=""),
    (f"{ID}/nonInternetIncident/additionalInfo", "Plaats-info", RAW),
    (f"{ID}/peer2peerIncident/client", "eMule", _d("client", "eMule")),
    *ip_event(f"{ID}/peer2peerIncident/ipCaptureEvent", "198.51.100.20"),
    (f"{ID}/peer2peerIncident/fileNames", "set-01.zip", _d("fileNames", "set-01.zip")),
    (f"{ID}/peer2peerIncident/additionalInfo", "P2P-info", RAW),
    (f"{R}/lawEnforcement/agencyName", "Politie Oost", _d("agencyName", "Politie Oost")),
    (f"{R}/lawEnforcement/caseNumber", "ZAAK-123", _d("caseNumber", "ZAAK-123")),
    *contact(f"{R}/lawEnforcement", "officerContact"),
    (f"{R}/lawEnforcement/reportedToLe", "true", _d("reportedToLe", "true")),
    (f"{R}/lawEnforcement/servedLegalProcessDomestic", "false", _d("servedLegalProcessDomestic", "false")),
    (f"{R}/lawEnforcement/servedLegalProcessInternational@fleaCountry", "DE",
     _d("servedLegalProcessInternational@fleaCountry", "DE")),
    (f"{R}/lawEnforcement/servedLegalProcessInternational", "true", _d("servedLegalProcessInternational", "true")),
    *contact(f"{R}/reporter", "reportingPerson"),
    (f"{R}/reporter/reportingPerson/age", "40", _d("reportingPerson/age", "40")),
    (f"{R}/reporter/reportingPerson/dateOfBirth", "1983-01-01", _d("reportingPerson/dateOfBirth", "1983-01-01")),
    *contact(f"{R}/reporter", "contactPerson"),
    (f"{R}/reporter/companyTemplate", "Bedrijfstekst", RAW), (f"{R}/reporter/termsOfService", "Voorwaarden", RAW),
    (f"{R}/reporter/legalURL", "https://esp.example/legal", _d("legalURL", "https://esp.example/legal")),
    *person(f"{R}/personOrUserReported/personOrUserReportedPerson", "rep", 34, "1989-02-03"),
    *account(f"{R}/personOrUserReported", "rep", vehicle=True, third_party=True, associated=True),
    *person(f"{R}/intendedRecipient/intendedRecipientPerson", "rcp", 15, "2008-02-03"),
    *account(f"{R}/intendedRecipient", "rcp"),
    *person(f"{R}/victim/victimPerson", "vic", 12, "2011-02-03"),
    *account(f"{R}/victim", "vic", school=True, group=False, associated=True),
    (f"{R}/additionalInfo", "Melding-info", RAW),
]


def file_table(annotations: bool) -> list:
    F = "fileDetails"
    choice = ([(f"{F}/fileAnnotations/{flag}", "", f'"{flag}"') for flag in (
        "animeDrawingVirtualHentai", "potentialMeme", "viral", "possibleSelfProduction", "physicalHarm",
        "violenceGore", "bestiality", "liveStreaming", "infant", "generativeAi")] if annotations
        else [(f"{F}/potentialMeme", "true", '"potentialMeme"')])
    return [
        (f"{F}/reportId", "880001", RAW), (f"{F}/fileId", f"file-{int(annotations)}", _j("ref", f"file-{int(annotations)}")),
        (f"{F}/fileName", "IMG_0001.jpg", _j("file_name", "IMG_0001.jpg")),
        (f"{F}/originalFileName", "origineel.jpg", _d("originalFileName", "origineel.jpg")),
        (f"{F}/uploadedToEspTimestamp", "2023-05-01T11:00:00Z", _j("uploaded_at", "2023-05-01T11:00:00+00:00")),
        (f"{F}/locationOfFile", "https://cdn.example/f", _d("locationOfFile", "https://cdn.example/f")),
        (f"{F}/fileViewedByEsp", "true", '"viewed_by_esp": true'),
        (f"{F}/exifViewedByEsp", "false", _d("exifViewedByEsp", "false")),
        (f"{F}/publiclyAvailable", "false", '"publicly_available": false'),
        (f"{F}/fileRelevance", "Supplemental Reported", _j("relevance", "Supplemental Reported")),
        *choice,
        (f"{F}/industryClassification", "B1", _j("classification", "B1")),
        (f"{F}/originalFileHash@hashType", "MD5", _j("hash_type", "md5")),
        (f"{F}/originalFileHash", MD5, _j("value", MD5)),
        *[(p, v, _file_detail(p, v, e)) for p, v, e in ip_event(f"{F}/ipCaptureEvent", "192.0.2.200")],
        *[(p, v, _file_detail(p, v, e)) for p, v, e in device(f"{F}/deviceId", "3500011122233344")],
        (f"{F}/details@type", "EXIF", RAW), (f"{F}/details/nameValuePair/name", "Model", RAW),
        (f"{F}/details/nameValuePair/value", "Camera-Z", RAW),
        (f"{F}/additionalInfo", "Bestand-info", RAW),
    ]


def _file_detail(path: str, value: str, _expect: str) -> str:
    """A file's IP event and device are details of the file (nothing links or judges them yet)."""
    return _d(path.removeprefix("fileDetails/"), value)


# --- building the document from the table ------------------------------------------------------

def build(table: list, root_tag: str = "report") -> etree._Element:
    root = etree.Element(root_tag) if not table else None
    for path, value, _ in table:
        steps, _, attribute = path.partition("@")
        parts = steps.split("/")
        if root is None:
            root = etree.Element(parts[0])
        node = root
        for n, part in enumerate(parts[1:], 2):
            tag = part.lstrip("+")
            existing = node.findall(tag)
            # "+tag": a new element, unless the last one already holds what comes next (a choice, such
            # as internetDetails, holds one kind each)
            fresh = part.startswith("+") and (not existing or existing[-1].find(parts[n].lstrip("+")) is None)
            node = etree.SubElement(node, tag) if fresh or not existing else existing[-1]
        if attribute:
            node.set(attribute, value)
        elif value:
            node.text = value
    return root


def declared(root_name: str) -> set[str]:
    """Every element and attribute path the XSD declares under `root_name`."""
    xs = "{http://www.w3.org/2001/XMLSchema}"
    tree = etree.parse(str(XSD)).getroot()
    tops = {e.get("name"): e for e in tree.findall(xs + "element")}
    types = {c.get("name"): c for c in tree.findall(xs + "complexType")}
    out: set[str] = set()

    def owner(node):
        x = node.getparent()
        while x is not None and x.tag != xs + "complexType":
            x = x.getparent()
        return x

    def element(e, parent: str) -> None:
        e = tops[e.get("ref")] if e.get("ref") else e
        path = f"{parent}/{e.get('name')}" if parent else e.get("name")
        out.add(path)
        complex_type = e.find(xs + "complexType")
        if complex_type is None:
            complex_type = types.get(e.get("type"))
        if complex_type is None:
            return
        for a in complex_type.iter(xs + "attribute"):
            if owner(a) is complex_type:
                out.add(f"{path}@{a.get('name')}")
        for child in complex_type.iter(xs + "element"):
            if owner(child) is complex_type:
                element(child, path)

    element(tops[root_name], "")
    return out


def leaves(table: list) -> set[str]:
    paths = set()
    for path, _, _ in table:
        clean = path.replace("+", "")
        steps, _, attribute = clean.partition("@")
        parts = steps.split("/")
        paths.update("/".join(parts[:n]) for n in range(1, len(parts) + 1))
        if attribute:
            paths.add(clean)
    return paths


needs_xsd = pytest.mark.skipif(not XSD.exists(), reason=f"NCMEC's XSD is not at {XSD} (a clone outside the team)")


@needs_xsd
def test_the_table_names_every_element_and_attribute_the_schema_declares():
    assert leaves(REPORT_TABLE) == declared("report") - {"report/reportId"}  # reportId: NCMEC's addition
    for annotations in (True, False):
        assert leaves(file_table(annotations)) | leaves(file_table(not annotations)) == declared("fileDetails")


@needs_xsd
def test_the_documents_built_from_the_table_are_valid_against_the_schema():
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    for doc in (build(REPORT_TABLE), build(file_table(True)), build(file_table(False))):
        assert schema.validate(doc), schema.error_log


def test_a_report_using_every_element_is_stored_and_every_value_is_found(session, tmp_path):
    report = build(REPORT_TABLE)
    report.insert(0, etree.Element("reportId"))
    report[0].text = "880001"
    (tmp_path / "880001.xml").write_bytes(etree.tostring(report, xml_declaration=True, encoding="UTF-8"))
    for n, annotations in enumerate((True, False)):
        (tmp_path / f"880001-file{n}.xml").write_bytes(
            etree.tostring(build(file_table(annotations)), xml_declaration=True, encoding="UTF-8"))
    summary = pipeline.ingest(session, [tmp_path], actor=Actor("test"))
    assert (summary.stored, summary.rejected) == (1, 0), summary.errors
    doc = documents.report_document(session, summary.report_ids[0], actor=Actor("test"), reason="schema table")
    shown = json.dumps(doc, ensure_ascii=False)
    raw = b"".join(part["data"] for part in documents.read_raw(session, doc["id"], actor=Actor("test"), reason="test"))
    missing = [(path, expect) for path, value, expect in REPORT_TABLE + file_table(True) + file_table(False)
               if (expect == RAW and value.encode() not in raw) or (expect != RAW and expect not in shown)]
    assert missing == []
    assert [p["role"] for p in doc["persons"]] == ["reported", "associated", "recipient", "victim", "associated"]
    assert len(doc["incidents"]) == 8 and len(doc["files"]) == 2


# --- property: schema-shaped reports never crash intake and are stored whole or not at all ---------

import itertools  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from tiptriage.db import make_engine, migrate, session_factory  # noqa: E402
from tiptriage.intake.models import (  # noqa: E402
    AddressRow, FileHashRow, FileRow, IdentifierRow, IpEventRow, QuarantineEntry, RawPart, Report, ReportedPersonRow,
)

TEXT_LEAVES = frozenset({
    "firstName", "lastName", "middleName", "displayName", "profileUrl", "profileBio", "additionalInfo",
    "vehicleDescription", "groupIdentifier", "schoolName", "url", "chatClient", "chatRoomName", "content",
    "gameName", "console", "name", "locationName", "client", "fileNames", "agencyName", "caseNumber",
    "companyTemplate", "termsOfService", "legalURL", "fileName", "originalFileName", "locationOfFile", "city",
    "region", "address", "nonUsaState", "escalateToHighPriority", "platform", "espService", "screenName",
    "incidentDateTimeDescription", "espIdentifier", "idValue", "emailAddress", "email"})
# Text XML can carry: no C0 controls but tab/newline, no surrogates, no U+FFFE/U+FFFF.
XML_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="".join(
    chr(c) for c in range(32) if chr(c) not in "\t\n") + "\ufffe\uffff\r"), max_size=60)
TABLES = (REPORT_TABLE, file_table(True))
REPORT_IDS = itertools.count(900_000_001)  # each example a new report (the same id twice is a duplicate)
INTAKE_TABLES = (Report, RawPart, ReportedPersonRow, IdentifierRow, AddressRow, IpEventRow, FileRow, FileHashRow)


def _leaf(path: str) -> str:
    return path.partition("@")[0].rsplit("/", 1)[-1]


# What the schema requires inside an element once the element is there.
REQUIRED_LEAVES = ("incidentType", "incidentDateTime", "agencyName", "idType", "idValue", "ipAddress", "@hashType",
                   "associatedAccount@type", "nameValuePair/name", "nameValuePair/value", "fileDetails/reportId",
                   "fileDetails/fileId", "@reason", "accountTemporarilyDisabled", "accountPermanentlyDisabled",
                   "servedLegalProcessInternational")


def _element(path: str) -> str:
    """The element an entry writes: the one holding the attribute, or the one holding the text."""
    return path.replace("+", "").partition("@")[0]


def _holder(path: str) -> str:
    """The element that must be there for an entry to belong: an attribute's own, a text's parent."""
    element = _element(path)
    return element if "@" in path else element.rsplit("/", 1)[0]


@st.composite
def schema_shaped(draw) -> tuple[list, list]:
    """A report and one file-details document from random parts of the table, free text drawn anew.
    Optional parts come and go; what the schema requires inside a present element stays."""
    out = []
    for table in TABLES:
        kept = draw(st.lists(st.booleans(), min_size=len(table), max_size=len(table)))
        present = {_element(path) for (path, _, _), keep in zip(table, kept, strict=True) if keep}
        present |= {"report/incidentSummary", "fileDetails"}  # required wherever the report is
        present |= {p.rsplit("/", n)[0] for p in list(present) for n in range(1, p.count("/") + 1)}
        rows = []
        for (path, value, expect), keep in zip(table, kept, strict=True):
            holder = "fileDetails/details" if "nameValuePair" in path else _holder(path)
            required = path.endswith(REQUIRED_LEAVES) and holder in present
            if not (keep or required):
                continue
            if "@" not in path and _leaf(path) in TEXT_LEAVES and draw(st.booleans()):
                value = draw(XML_TEXT)
            rows.append((path, value, expect))
        out.append(rows)
    return out[0], out[1]


def _complete(report: etree._Element) -> None:
    """Elements the schema requires that hold only optional children: present, if empty."""
    if report.find("incidentSummary") is None:
        report.insert(0, etree.Element("incidentSummary"))
    if report.find("reporter") is None:
        index = next((i for i, el in enumerate(report) if el.tag in ("personOrUserReported", "intendedRecipient",
                                                                      "victim", "additionalInfo")), len(report))
        report.insert(index, etree.Element("reporter"))
    if report.find("reporter/reportingPerson") is None:
        report.find("reporter").insert(0, etree.Element("reportingPerson"))
    for victim in report.findall("victim"):
        if victim.find("victimPerson") is None:
            victim.insert(0, etree.Element("victimPerson"))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("schema-shaped") / "store.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    yield session_factory(engine)
    engine.dispose()


def _counts(session) -> dict:
    return {t.__tablename__: session.execute(select(func.count()).select_from(t)).scalar_one() for t in INTAKE_TABLES}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(parts=schema_shaped())
def test_property_schema_shaped_reports_are_stored_whole_or_refused_whole_and_valid_ones_never_refused(
        parts, store, tmp_path_factory):
    report_rows, file_rows = parts
    n = next(REPORT_IDS)
    folder = tmp_path_factory.mktemp("tip")
    report = build(report_rows)
    _complete(report)
    report.insert(0, etree.Element("reportId"))
    report[0].text = str(n)
    files = build(file_rows, "fileDetails")
    files.find("reportId").text = str(n)
    valid = None
    if XSD.exists():
        schema = etree.XMLSchema(etree.parse(str(XSD)))
        bare = etree.fromstring(etree.tostring(report))
        bare.remove(bare.find("reportId"))
        valid = schema.validate(bare) and schema.validate(files)
    (folder / "r.xml").write_bytes(etree.tostring(report, xml_declaration=True, encoding="UTF-8"))
    (folder / "r-file.xml").write_bytes(etree.tostring(files, xml_declaration=True, encoding="UTF-8"))
    with store() as session:
        before = _counts(session)
        quarantined = session.execute(select(func.count()).select_from(QuarantineEntry)).scalar_one()
        summary = pipeline.ingest(session, [folder], actor=Actor("property"))
        after = _counts(session)
        if summary.stored:
            assert summary.rejected == 0 and after["reports"] == before["reports"] + 1
            assert after["files"] == before["files"] + 1 and after["report_raw"] == before["report_raw"] + 2
        else:
            assert valid is not True, summary.errors  # a report valid against the schema is never refused
            assert after == before  # nothing half-stored
            assert session.execute(select(func.count()).select_from(QuarantineEntry)).scalar_one() > quarantined
            assert all(e["file"] and e["reason"] for e in summary.errors)
