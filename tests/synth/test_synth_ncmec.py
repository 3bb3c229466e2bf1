"""The generator writes what NCMEC writes: schema-valid documents, the variety the schema allows,
and a truth that says only what the written report tells."""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from tiptriage.intake.formats.cybertip import schema as xs
from tiptriage.synth import reference as ref
from tiptriage.synth.truth import (
    DISTRIBUTED, NOT_DISTRIBUTED, UNDETERMINED, ReportFacts, expected_outcome_nl_2023, travel,
)

XSD = Path(__file__).resolve().parents[3] / "shared/ncmec/cyber_tipline.xsd"
EXTENSION_TAGS = ("action", "personRef", "reportedAt", "espName")


@pytest.fixture(scope="module")
def schema():
    if not XSD.exists():
        pytest.skip(f"NCMEC's schema is not at {XSD} (it is kept beside the project, never in it): "
                    "the generated documents are not validated")
    return etree.XMLSchema(etree.parse(str(XSD)))


def ncmec_documents(out: Path) -> list[Path]:
    return sorted((out / "reports").glob("NCMEC-*.xml"))


def ncmec(reports: dict) -> list:
    return [r for (source, _), r in reports.items() if source == "NCMEC"]


def entries(truth: dict) -> dict:
    return {(r["source"], r["external_id"]): r for r in truth["reports"]}


# --- schema-true by default ------------------------------------------------------------------------

def test_every_ncmec_document_validates_against_ncmecs_schema(schema, synth_set, variety_set):
    checked = Counter()
    for out in (synth_set.out, variety_set.out):
        for path in ncmec_documents(out):
            root = etree.parse(str(path)).getroot()
            if root.tag == "report":  # the one element NCMEC adds for police
                root.remove(root.find("reportId"))
            assert schema.validate(root), (path.name, [e.message for e in schema.error_log][:3])
            checked[root.tag] += 1
    assert checked["report"] > 500 and checked["fileDetails"] > checked["report"]


def test_ncmec_reports_come_as_ncmec_delivers_them_without_extensions(synth_set, parsed, truth):
    reports = {key: r for key, r in parsed[0].items() if key[0] == "NCMEC"}
    for path in ncmec_documents(synth_set.out):
        data = path.read_bytes()
        assert not any(f"<{tag}>".encode() in data for tag in EXTENSION_TAGS), path.name
        if b"<report>" in data:
            assert b"<fileDetails>" not in data, path.name  # files come as documents of their own
    for key, report in reports.items():
        siblings = list((synth_set.out / "reports").glob(f"NCMEC-{key[1]}.file-*.xml"))
        assert len(siblings) == len(report.files), key
        assert report.reported_at is None and all(f.action is None for f in report.files)
        assert len([p for p in report.persons if p.role == "reported"]) == 1  # NCMEC: one reported person
        assert all(f.person_ref == "p1" for f in report.files)
    assert truth["generator"]["extensions"] is False
    assert set(truth["platforms"].values()) >= {"chat", "social", "video", "storage", "email", "p2p"}


def test_the_variant_with_extensions_carries_actions_and_inline_files(extended_set):
    assert extended_set.errors == [] and extended_set.truth["generator"]["extensions"] is True
    xml = ncmec(extended_set.reports)
    assert all(f.action is not None for r in xml for f in r.files)
    assert all(r.reported_at is not None for r in xml)
    documents = ncmec_documents(extended_set.out)
    inline = [p for p in documents if b"<action>" in p.read_bytes() and b"<report>" in p.read_bytes()]
    assert len(inline) > 0.8 * len(xml)  # most inline; sibling_files of them as separate documents
    assert any(".file-" in p.name for p in documents)
    # JSON and CSV state actions in both variants
    assert all(f.action is not None for (source, _), r in extended_set.reports.items() if source != "NCMEC"
               for f in r.files)


# --- the variety the schema allows, read back ------------------------------------------------------

def test_each_variety_of_ncmec_report_is_written_and_read_back(variety_set):
    assert variety_set.errors == []
    reports = ncmec(variety_set.reports)
    persons = [p for r in reports for p in r.persons]
    events = [e for p in persons for e in p.ip_events]
    incidents = Counter(i.kind for r in reports for i in r.incidents)
    assert {"chat_im", "peer2peer", "web_page", "email", "online_gaming"} <= set(incidents)
    assert all(i.ip_events for r in reports for i in r.incidents if i.kind == "peer2peer")
    pages = [i for r in reports for i in r.incidents if i.kind == "web_page"]
    assert all(d[0] == "url" and d[1].startswith("https://") for i in pages for d in i.details)
    assert {True} <= {i.third_party_hosted for i in pages} and {False, None} & {i.third_party_hosted for i in pages}
    assert any(r.incidents == () for r in reports)  # no internetDetails at all
    assert {r.escalation for r in reports} - {None} <= set(ref.ESCALATIONS)
    assert sum(r.escalation is not None for r in reports) > 10
    assert set(xs.REPORT_ANNOTATIONS) == {a for r in reports for a in r.annotations}
    assert set(xs.FILE_ANNOTATIONS) == {a for r in reports for f in r.files for a in f.annotations}
    recipients = [p for p in persons if p.role == "recipient"]
    assert any(p.age is not None and p.age < 18 for p in recipients)
    assert any(p.date_of_birth is not None for p in recipients) and any(p.given_name for p in recipients)
    victims = [p for p in persons if p.role == "victim"]
    assert victims and all(p.age is not None and p.age < 18 for p in victims)
    assert any(("schoolName", name) in p.details for p in victims for name in ref.SCHOOL_NAMES)
    associated = [p for p in persons if p.role == "associated"]
    assert {"Linked", "Parent/Guardian"} <= {dict(p.details)["@type"] for p in associated}
    assert all(re.fullmatch(r"[pv]\d+a\d+", p.ref) for p in associated)
    phones = [i.value for p in persons for i in p.identifiers if i.kind == "phone"]
    assert any(re.match(r"\+(32|44|48|49) \d", v) for v in phones)  # a foreign number with its calling code
    assert any(re.match(r"\+31 \d", v) for v in phones)
    assert any(i.verified_at is not None for p in persons for i in p.identifiers)
    assert all(i.platform in ("IMEI", "UUID") for p in persons for i in p.identifiers if i.kind == "device_id")
    assert any(i.platform is None for p in persons for i in p.identifiers if i.kind == "screen_name")  # no espService
    pseudo = [p for p in persons if ("estimatedLocation/countryCode", "A1") in p.details]
    assert pseudo and all(p.estimated_country is None for p in pseudo)
    assert any(p.estimated_country for p in persons) and any(("estimatedLocation/city" == d[0]) for p in persons
                                                             for d in p.details)
    assert {"Unknown", "Login", "Registration", "Upload", "Other"} <= {e.event for e in events}
    proxies = [e for e in events if e.possible_proxy]
    assert proxies and all(ipaddress.ip_address(e.ip) in ipaddress.ip_network(ref.PROXY_BLOCK) for e in proxies)
    assert any(e.possible_proxy is False for e in events)
    assert any(d[0] == "reportingPerson/firstName" for r in reports for d in r.reporter_contact)
    assert any(dict(r.law_enforcement).get("agencyName") in ref.AGENCIES for r in reports)
    assert any(r.batched == "VIRAL_POTENTIAL_MEME" for r in reports)
    files = [f for r in reports for f in r.files]
    assert {"Reported", "Supplemental Reported", None} == {f.relevance for f in files}
    assert {True, False, None} == {f.publicly_available for f in files}  # also: not said at all
    details = {d[0] for f in files for d in f.details}
    assert {"originalFileName", "locationOfFile", "exifViewedByEsp", "ipCaptureEvent/ipAddress"} <= details
    assert any(not r.files for r in reports)  # a sextortion chat without files
    assert any(p.role == "reported" and not (p.given_name or p.family_name) for p in persons)


def test_ip_events_of_type_unknown_are_sometimes_written_without_an_event_name(variety_set):
    quiet = named = 0
    for path in ncmec_documents(variety_set.out):
        root = etree.parse(str(path)).getroot()
        if root.tag != "report":
            continue
        for event in root.iter("ipCaptureEvent"):
            name = event.find("eventName")
            quiet += name is None
            named += name is not None and name.text == "Unknown"
    assert quiet and named  # both read as Unknown (see the variety test)


def test_a_foreign_number_comes_with_its_country_calling_code(variety_set):
    codes = Counter()
    for path in ncmec_documents(variety_set.out):
        for phone in etree.parse(str(path)).getroot().iter("phone"):
            if phone.get("countryCallingCode"):
                codes[phone.get("countryCallingCode")] += 1
                assert not phone.text.startswith(("+", "00")), path.name  # the number without it
    assert codes["+31"] and set(codes) - {"+31"}


# --- the truth says what the report tells ---------------------------------------------------------

def _undetermined_files(reports: dict, truth: dict):
    for key, report in reports.items():
        files = entries(truth)[key]["files"]
        for f in report.files:
            if files[f.ref]["distribution"] == UNDETERMINED:
                yield report, f


@pytest.mark.parametrize("which", ["synth", "variety"])
def test_an_undetermined_file_has_no_recipient_public_flag_or_sharing_incident(which, request):
    reports, truth = _set(which, request)
    found = 0
    for report, f in _undetermined_files(reports, truth):
        assert f.action is None and f.publicly_available is not True
        assert not any(p.role == "recipient" for p in report.persons)
        how = travel(report, truth["platforms"])
        assert not how.sharing_incident and not how.recipients
        assert not (how.storage and f.publicly_available is False)
        found += 1
    assert found > 20


@pytest.mark.parametrize("which", ["synth", "variety"])
def test_no_warning_report_has_a_distributed_or_undetermined_file(which, request):
    reports, truth = _set(which, request)
    warned = 0
    for key, report in reports.items():
        entry = entries(truth)[key]
        if entry["outcome"] != "WARNING":
            continue
        warned += 1
        verdicts = {f["distribution"] for f in entry["files"].values()}
        assert verdicts == {NOT_DISTRIBUTED}, key
        assert not any(p.role == "recipient" for p in report.persons)
        if key[0] == "NCMEC":  # stored known material: a storage service, nothing public, no one named
            assert truth["platforms"][report.platform] == "storage"
            assert all(f.publicly_available is False for f in report.files)
        person = entry["person_id"]
        assert not any(r["facts"]["distributed"] or r["facts"]["new_material"] for r in truth["reports"]
                       if r["person_id"] == person)
    assert warned > 20


def _set(which: str, request) -> tuple[dict, dict]:
    if which == "synth":
        return request.getfixturevalue("parsed")[0], request.getfixturevalue("truth")
    variety = request.getfixturevalue("variety_set")
    return variety.reports, variety.truth


def test_the_hidden_intention_never_reaches_the_truth(truth, extended_set):
    """The same plan with and without the extension: what the default report cannot tell, its truth
    calls undetermined, though the extension shows that some of those persons did distribute."""
    default, extended = entries(truth), entries(extended_set.truth)
    assert default.keys() == extended.keys()
    told = Counter()
    for key, entry in default.items():
        other = extended[key]
        assert entry["person_id"] == other["person_id"] and entry["files"].keys() == other["files"].keys()
        if entry["facts"]["undetermined"]:
            told["distributed" if other["facts"]["distributed"] else "kept"] += 1
            assert not other["facts"]["undetermined"]  # the stated actions decide every file
        else:
            assert entry["facts"]["distributed"] == other["facts"]["distributed"], key
    assert told["distributed"] >= 3 and told["kept"] >= 3
    assert {f["distribution"] for r in extended_set.truth["reports"] for f in r["files"].values()} == {
        DISTRIBUTED, NOT_DISTRIBUTED}


def test_outcomes_follow_the_policy_model_in_every_set(truth, extended_set, variety_set):
    for t in (truth, extended_set.truth, variety_set.truth):
        for entry in t["reports"]:
            assert entry["outcome"] == expected_outcome_nl_2023(ReportFacts(**entry["facts"]))
    outcomes = Counter(e["outcome"] for e in variety_set.truth["reports"])
    assert set(outcomes) == {"URGENT", "CRIMINAL_CASE", "YOUTH", "NEEDS_IDENTIFICATION", "FORWARD", "NEEDS_REVIEW",
                             "WARNING", "NO_ACTION"}


def test_the_services_table_names_every_platform_with_its_kind(truth, tmp_path):
    from triage import synthset

    env = synthset.environment(truth, tmp_path)
    lines = Path(env["TIPTRIAGE_SERVICES_FILE"]).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "service,kind"
    assert dict(line.split(",") for line in lines[1:]) == truth["platforms"] == ref.PLATFORMS
    assert Path(env["TIPTRIAGE_IP_COUNTRIES_FILE"]).exists()
