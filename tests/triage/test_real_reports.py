"""CyberTipline reports written exactly as NCMEC's published schema defines them (nothing added but
the report id), each file in its own <fileDetails> document, through the product's own path:
`tiptriage ingest` of a folder, the answer read from `tiptriage explain` and `reports show`.

These documents are written by hand from the schema, not by the project's generator, and each is
validated against NCMEC's XSD (../shared/ncmec/cyber_tipline.xsd) where that copy is present.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from lxml import etree
from typer.testing import CliRunner

from tiptriage.cli import app

runner = CliRunner()
XSD = Path(__file__).resolve().parents[3] / "shared" / "ncmec" / "cyber_tipline.xsd"
KNOWN = [hashlib.md5(f"real-known-{k}".encode()).hexdigest() for k in range(6)]
CP = "Child Pornography (possession, manufacture, and distribution)"


@pytest.fixture(scope="module")
def schema():
    if not XSD.exists():
        return None  # the documents are still ingested; only the check against NCMEC's XSD is skipped
    return etree.XMLSchema(etree.parse(str(XSD)))


def run(*args: str) -> dict | list:
    result = runner.invoke(app, [*args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def person(first="Daan", last="Visser", email="daan.visser@example.nl", dob="1985-03-02",
           address=("Kerkstraat 12", "Utrecht", "3511 AB", "NL"), phone=None) -> str:
    parts = [f"<firstName>{first}</firstName>" if first else "", f"<lastName>{last}</lastName>" if last else ""]
    if phone:
        parts.append(f'<phone countryCallingCode="{phone[0]}" verified="true">{phone[1]}</phone>')
    if email:
        parts.append(f'<email verified="true" verificationDate="2023-01-05T10:00:00Z">{email}</email>')
    if address:
        street, city, zipcode, country = address
        parts.append(f"<address type=\"Home\"><address>{street}</address><city>{city}</city><zipCode>{zipcode}"
                     f"</zipCode><country>{country}</country></address>")
    if dob:
        parts.append(f"<dateOfBirth>{dob}</dateOfBirth>")
    return "".join(parts)


def tip(report_id: str, *, platform="Google Photos", person_xml: str | None = None, screen="daan85",
        incident="", recipients="", annotations="", escalate="", location="NL", ip_event="Login",
        when="2023-04-01T10:00:00Z") -> str:
    who = person() if person_xml is None else person_xml
    notes = f"<reportAnnotations>{annotations}</reportAnnotations>" if annotations else ""
    escalation = f"<escalateToHighPriority>{escalate}</escalateToHighPriority>" if escalate else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<report>
  <reportId>{report_id}</reportId>
  <incidentSummary><incidentType>{CP}</incidentType><platform>{platform}</platform>{escalation}{notes}
    <incidentDateTime>{when}</incidentDateTime></incidentSummary>
  {incident}
  <reporter><reportingPerson><firstName>Trust</firstName><lastName>Safety</lastName>
    <email>cybertip@platform.example</email></reportingPerson></reporter>
  <personOrUserReported>
    {f"<personOrUserReportedPerson>{who}</personOrUserReportedPerson>" if who else ""}
    <espIdentifier>{report_id}77</espIdentifier><espService>{platform}</espService><screenName>{screen}</screenName>
    <ipCaptureEvent><ipAddress>192.0.2.{int(report_id) % 250}</ipAddress><eventName>{ip_event}</eventName>
      <dateTime>2023-03-30T08:00:00Z</dateTime></ipCaptureEvent>
    <estimatedLocation verified="false"><countryCode>{location}</countryCode></estimatedLocation>
  </personOrUserReported>
  {recipients}
</report>"""


def file_details(report_id: str, n: int, known: int, public: str | None = "false") -> str:
    flag = f"<publiclyAvailable>{public}</publiclyAvailable>" if public is not None else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<fileDetails><reportId>{report_id}</reportId><fileId>{report_id}-{n}</fileId><fileName>IMG_{n:04d}.jpg</fileName>
  <fileViewedByEsp>true</fileViewedByEsp>{flag}<fileRelevance>Reported</fileRelevance>
  <originalFileHash hashType="MD5">{KNOWN[known]}</originalFileHash></fileDetails>"""


def recipient(age: int | None = 34, screen="peer_x") -> str:
    inner = f"<intendedRecipientPerson><age>{age}</age></intendedRecipientPerson>" if age is not None else ""
    return f"<intendedRecipient>{inner}<espService>Chirp</espService><screenName>{screen}</screenName></intendedRecipient>"


def deliver(folder: Path, schema, report_id: str, report_xml: str, *files: str) -> int:
    """Write a report and its file-details documents as NCMEC delivers them, check them against the
    schema, ingest the folder with `tiptriage ingest` and return the stored report's id."""
    folder.mkdir(parents=True)
    (folder / f"{report_id}.xml").write_text(report_xml, encoding="utf-8")
    for n, doc in enumerate(files, 1):
        (folder / f"{report_id}-file{n}.xml").write_text(doc, encoding="utf-8")
    if schema is not None:
        for path in folder.iterdir():
            root = etree.parse(str(path)).getroot()
            if root.tag == "report":  # the one element NCMEC adds for police is not in the ESP schema
                root.remove(root.find("reportId"))
            assert schema.validate(root), (path.name, schema.error_log)
    summary = run("ingest", str(folder))
    assert summary["rejected"] == 0, summary
    listed = run("reports", "list")
    return next(r["id"] for r in listed["reports"] if r["external_id"] == report_id)


def outcome(report_id: int) -> tuple[str, str]:
    rec = run("explain", str(report_id))["recommendation"]
    return rec["outcome"], rec["decided_by"]


@pytest.fixture
def unit(cli_env, tmp_path):
    (tmp_path / "known.csv").write_text("hash_type,hash,category\n" + "".join(f"md5,{h},child_abuse\n" for h in KNOWN))
    run("bank", "import", str(tmp_path / "known.csv"), "--name", "known", "--format", "csv")
    return tmp_path


def test_known_material_kept_in_private_storage_gets_the_warning(unit, schema):
    rid = deliver(unit / "a", schema, "100001", tip("100001"), file_details("100001", 1, 0),
                  file_details("100001", 2, 1))
    assert outcome(rid) == ("WARNING", "first-time-download")
    shown = run("reports", "show", str(rid), "--reason", "test")
    assert shown["platform"] == "Google Photos" and [f["action"] for f in shown["files"]] == [None, None]
    assert shown["persons"][0]["identifiers"][0]["verified_at"].startswith("2023-01-05")


def test_without_a_word_on_public_availability_the_question_goes_to_an_analyst(unit, schema):
    rid = deliver(unit / "a", schema, "100002", tip("100002"), file_details("100002", 1, 0, public=None))
    assert outcome(rid) == ("NEEDS_REVIEW", "distribution-undetermined")
    rid = deliver(unit / "b", schema, "100003", tip("100003", platform="Chirp", screen="d2",
                                                    incident="<internetDetails><chatImIncident><chatClient>Chirp"
                                                             "</chatClient></chatImIncident></internetDetails>",
                                                    person_xml=person(email="daan2@example.nl")),
                  file_details("100003", 1, 2))
    assert outcome(rid) == ("NEEDS_REVIEW", "distribution-undetermined")


def test_a_named_recipient_peer_to_peer_or_a_public_file_is_distribution(unit, schema):
    sent = deliver(unit / "a", schema, "100004", tip("100004", platform="Chirp", recipients=recipient(34)),
                   file_details("100004", 1, 0))
    p2p = deliver(unit / "b", schema, "100005", tip(
        "100005", platform="ShareNet", person_xml=person(first="Bram", last="Kok", email="bram.kok@example.nl"),
        screen="bk", incident="<internetDetails><peer2peerIncident><client>eMule</client><ipCaptureEvent>"
                              "<ipAddress>198.51.100.4</ipAddress><eventName>Unknown</eventName></ipCaptureEvent>"
                              "<fileNames>set.zip</fileNames></peer2peerIncident></internetDetails>"),
                  file_details("100005", 1, 1))
    public = deliver(unit / "c", schema, "100006", tip(
        "100006", platform="Gramble", person_xml=person(first="Iris", last="Bos", email="iris.bos@example.nl"),
        screen="ib"), file_details("100006", 1, 2, public="true"))
    assert [outcome(r) for r in (sent, p2p, public)] == [("CRIMINAL_CASE", "distributed")] * 3
    shown = run("reports", "show", str(p2p), "--reason", "test")
    assert shown["incidents"][0]["kind"] == "peer2peer"
    assert shown["incidents"][0]["ip_events"][0]["event"] == "Unknown"


def test_a_fifteen_year_old_who_forwarded_known_material_gets_the_youth_track(unit, schema):
    teen = person(first="Sem", last="de Wit", email="sem.dewit@example.nl", dob="2008-01-15+01:00")
    rid = deliver(unit / "a", schema, "100007", tip("100007", platform="Chirp", person_xml=teen, screen="semmie",
                                                    recipients=recipient(None, "classmate")),
                  file_details("100007", 1, 3))
    assert outcome(rid) == ("YOUTH", "youth-forwarded")
    facts = run("explain", str(rid))["recommendation"]["facts"]
    assert (facts["minor"], facts["distributed"], facts["age"]) == (True, True, 15)


def test_a_minor_recipient_is_a_contact_risk_even_between_minors(unit, schema):
    teen = person(first="Noor", last="Smit", email="noor.smit@example.nl", dob="2008-01-15")
    rid = deliver(unit / "a", schema, "100008", tip("100008", platform="Chirp", person_xml=teen, screen="noor",
                                                    recipients=recipient(13, "kid")),
                  file_details("100008", 1, 3))
    assert outcome(rid) == ("URGENT", "contact-risk")


def test_only_an_ip_address_and_a_screen_name_needs_identification(unit, schema):
    rid = deliver(unit / "a", schema, "100009", tip("100009", platform="Chirp", person_xml="", screen="anon9"),
                  file_details("100009", 1, 0))
    assert outcome(rid) == ("NEEDS_IDENTIFICATION", "not-identified")


def test_a_person_living_in_germany_is_forwarded_and_a_berlin_number_is_not_dutch(unit, schema):
    berliner = person(first="Lukas", last="Schmidt", email="lukas@example.de", phone=("+49", "30 1234567"),
                      address=("Hauptstr. 5", "Berlin", "10115", "DE"))
    rid = deliver(unit / "a", schema, "100010", tip("100010", person_xml=berliner, screen="lukas", location="DE"),
                  file_details("100010", 1, 0))
    assert outcome(rid) == ("FORWARD", "abroad")
    ids = run("reports", "show", str(rid), "--reason", "test")["persons"][0]["identifiers"]
    assert [i["value"] for i in ids if i["kind"] == "phone"] == ["+49 30 1234567"]
    # The number alone, with its calling code beside it, places the person in Germany.
    caller = person(first="Anna", last="Weber", email=None, phone=("+49", "30 7654321"), address=None)
    rid = deliver(unit / "b", schema, "100016", tip("100016", person_xml=caller, screen="aw", location=""),
                  file_details("100016", 1, 1))
    facts = run("explain", str(rid))["recommendation"]["facts"]
    assert (facts["in_jurisdiction"], facts["abroad"], outcome(rid)[0]) == (False, True, "FORWARD")


def test_soliciting_material_is_urgent_even_without_a_file(unit, schema):
    rid = deliver(unit / "a", schema, "100011", tip("100011", platform="Chirp", annotations="<csamSolicitation/>",
                                                    recipients=recipient(14, "target")))
    assert outcome(rid) == ("URGENT", "contact-risk")


def test_an_escalated_report_comes_first(unit, schema):
    rid = deliver(unit / "a", schema, "100012", tip("100012", escalate="Gebruiker kondigt ontmoeting met kind aan"),
                  file_details("100012", 1, 0))
    rec = run("explain", str(rid))["recommendation"]
    assert (rec["outcome"], rec["decided_by"]) == ("URGENT", "escalated") and rec["priority"] >= 120


def test_an_anonymous_proxy_estimate_places_no_one(unit, schema):
    rid = deliver(unit / "a", schema, "100013", tip("100013", location="A1", ip_event="Unknown",
                                                    person_xml=person(first="Tim", last="Mol", email="tim@example.nl")),
                  file_details("100013", 1, 0))
    assert outcome(rid) == ("WARNING", "first-time-download")
    shown = run("reports", "show", str(rid), "--reason", "test")["persons"][0]
    assert shown["estimated_country"] is None and ["estimatedLocation/countryCode", "A1"] in shown["details"]


def test_a_person_who_distributed_in_another_report_is_not_warned_for_keeping_material(unit, schema):
    sent = deliver(unit / "a", schema, "100014", tip("100014", platform="Chirp", recipients=recipient(40)),
                   file_details("100014", 1, 0))
    kept = deliver(unit / "b", schema, "100015", tip("100015", when="2023-06-01T10:00:00Z"),
                   file_details("100015", 1, 1))
    assert outcome(sent) == ("CRIMINAL_CASE", "distributed")
    assert outcome(kept) == ("CRIMINAL_CASE", "distributed-elsewhere")


def test_the_analyst_answers_the_distribution_question_and_the_recommendation_follows(unit, schema, monkeypatch):
    rid = deliver(unit / "a", schema, "100017", tip("100017"), file_details("100017", 1, 0, public=None),
                  file_details("100017", 2, 1, public=None))
    assert outcome(rid) == ("NEEDS_REVIEW", "distribution-undetermined")
    answered = run("distribution", str(rid), "--not-distributed", "--source", "platform",
                   "--note", "Platform: private backup, never shared (ref LE-2023-77)")
    assert (answered["files"], answered["outcome"]) == (2, "WARNING")
    assert outcome(rid) == ("WARNING", "first-time-download")
    events = [e for e in run("audit", "log") if e["action"] == "triage.distribution"]
    assert events and events[-1]["reason"].startswith("Platform: private backup")
    # A later finding replaces the earlier one for the file it names: distributed after all.
    run("distribution", str(rid), "--distributed", "--file", "100017-2", "--source", "investigation",
        "--note", "Seized phone shows it was sent on")
    assert outcome(rid) == ("CRIMINAL_CASE", "distributed")


def test_a_distribution_finding_for_a_file_the_report_lacks_is_refused_in_dutch(unit, schema, monkeypatch):
    rid = deliver(unit / "a", schema, "100018", tip("100018"), file_details("100018", 1, 0, public=None))
    monkeypatch.setenv("TIPTRIAGE_LANG", "nl")
    result = runner.invoke(app, ["distribution", str(rid), "--not-distributed", "--file", "nope", "--source",
                                 "platform", "--note", "x"])
    assert result.exit_code == 2 and "heeft geen bestand nope" in result.output and "100018-1" in result.output
    assert outcome(rid) == ("NEEDS_REVIEW", "distribution-undetermined")
