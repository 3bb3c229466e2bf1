"""NCMEC CyberTipline XML: what the writer writes the reader reads back, and what NCMEC leaves out
is filled in the same way whether file details come inline or as separate documents."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings

from tiptriage.intake import discovery, parsing
from tiptriage.intake.domain import (
    FileHash, Identifier, Parsed, ParsedReport, ReportedPerson,
)
from tiptriage.intake.errors import IntakeError
from tiptriage.intake.formats import cybertip, read_file

from .strategies import reports

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MD5 = "0123456789abcdef0123456789abcdef"


def read_one(data: bytes, path: str = "report.xml"):
    items = list(cybertip.read(path, data))
    assert len(items) == 1
    return items[0]


def parsed(data: bytes) -> ParsedReport:
    item = read_one(data)
    assert isinstance(item, Parsed), getattr(item, "message", item)
    return item.report


def error(data: bytes, path: str = "report.xml") -> IntakeError:
    item = read_one(data, path)
    assert isinstance(item, IntakeError), f"expected a refusal, got {item!r}"
    assert item.path == path and item.message.startswith(path)
    return item


def report_xml(body: str, report_id: str = "4711") -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?><report><reportId>{report_id}</reportId>{body}</report>'.encode()


@SETTINGS
@given(report=reports())
def test_written_reports_read_back_equal(report):
    data, siblings = cybertip.write(report)
    assert siblings == []
    assert parsed(data) == report


@SETTINGS
@given(report=reports())
def test_file_details_as_separate_documents_join_back_to_the_same_report(report):
    data, siblings = cybertip.write(report, inline_files=False)
    assert len(siblings) == len(report.files)
    head = parsed(data)
    assert head.files == ()
    parts = [read_one(doc, f"file-{n}.xml") for n, doc in enumerate(siblings)]
    assert all(isinstance(p, cybertip.SiblingFile) and p.report_id == report.external_id for p in parts)
    joined = cybertip.join_files(head, parts)
    assert joined == replace(report, files=tuple(sorted(report.files, key=lambda f: f.ref)))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(report=reports(max_files=2))
def test_ingest_joins_sibling_documents_from_the_same_folder(report, tmp_path_factory):
    folder = tmp_path_factory.mktemp("tips")
    data, siblings = cybertip.write(report, inline_files=False)
    (folder / "report.xml").write_bytes(data)
    for n, doc in enumerate(siblings):
        (folder / f"report.file-{n}.xml").write_bytes(doc)
    found = list(parsing.candidates(discovery.find_inputs([folder]), limit=10_000_000))
    assert [type(c).__name__ for c in found] == ["Candidate"]
    assert found[0].report == replace(report, files=tuple(sorted(report.files, key=lambda f: f.ref)))
    assert [name for name, _ in found[0].parts][0] == "report.xml"


def test_a_utf16_document_with_byte_order_mark_reads_like_utf8():
    report = ParsedReport(source="NCMEC", external_id="77", format="cybertip-xml", reporter="Platform Ä",
                          persons=(ReportedPerson("p1", given_name="Anouk", family_name="van 't Hof"),))
    data, _ = cybertip.write(report)
    utf16 = data.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    assert utf16.startswith(b"\xff\xfe")
    assert parsed(utf16) == report
    assert next(read_file("r.xml", utf16)).report == report


def test_identifiers_come_out_in_one_order_whatever_the_element_order():
    body = """<personOrUserReported>
        <screenName>anouk_nl</screenName><espIdentifier>99812</espIdentifier><espService>Chat</espService>
        <deviceId><idValue>dev-1</idValue></deviceId>
        <personOrUserReportedPerson><phone verified="false">+31612345678</phone>
          <email verified="TRUE">anouk@example.nl</email></personOrUserReportedPerson>
      </personOrUserReported>"""
    person = parsed(report_xml(body)).persons[0]
    assert person.identifiers == (
        Identifier("email", "anouk@example.nl", True, None), Identifier("phone", "+31612345678", False, None),
        Identifier("screen_name", "anouk_nl", None, "Chat"), Identifier("esp_user_id", "99812", None, "Chat"),
        Identifier("device_id", "dev-1", None, None))


def test_no_action_is_invented_where_the_schema_has_none():
    """NCMEC's schema has no per-file action: intake leaves it unsaid (triage judges distribution
    from recipients, publiclyAvailable and the incident); only tiptriage's <action> sets one."""
    body = """<personOrUserReported><screenName>a</screenName></personOrUserReported>
      <intendedRecipient><screenName>b</screenName></intendedRecipient>
      <intendedRecipient><screenName>c</screenName></intendedRecipient>
      <fileDetails><fileName>1.jpg</fileName><publiclyAvailable>true</publiclyAvailable></fileDetails>
      <fileDetails><fileName>2.jpg</fileName></fileDetails>
      <fileDetails><action>send</action></fileDetails>
      <fileDetails><action>download</action></fileDetails>"""
    files = parsed(report_xml(body)).files
    assert [(f.ref, f.action, f.recipients, f.person_ref) for f in files] == [
        ("f1", None, (), "p1"), ("f2", None, (), "p1"), ("f3", "send", ("r1", "r2"), "p1"),
        ("f4", "download", (), "p1")]


def test_sibling_documents_are_completed_as_inline_file_details():
    inline = report_xml("""<personOrUserReported><screenName>a</screenName></personOrUserReported>
      <intendedRecipient><screenName>b</screenName></intendedRecipient>
      <fileDetails><fileId>x1</fileId><action>send</action><originalFileHash hashType="MD5">{md5}</originalFileHash>
      </fileDetails>
      <fileDetails><originalFileHash hashType="MD5">{md5}</originalFileHash></fileDetails>""".format(md5=MD5))
    head = report_xml("""<personOrUserReported><screenName>a</screenName></personOrUserReported>
      <intendedRecipient><screenName>b</screenName></intendedRecipient>""")
    siblings = [read_one(f'<fileDetails><reportId>4711</reportId>{fid}'
                         f'<originalFileHash hashType="MD5">{MD5}</originalFileHash></fileDetails>'.encode())
                for fid in ("<fileId>x1</fileId><action>send</action>", "")]
    expected = parsed(inline).files
    assert [(f.ref, f.action, f.recipients, f.person_ref) for f in expected] == [
        ("x1", "send", ("r1",), "p1"), ("f2", None, (), "p1")]
    assert cybertip.join_files(parsed(head), siblings).files == expected


def test_a_sibling_for_another_report_is_not_joined():
    head = parsed(report_xml(""))
    other = read_one(f'<fileDetails><reportId>999</reportId><fileId>a</fileId></fileDetails>'.encode())
    with pytest.raises(ValueError, match="999"):
        cybertip.join_files(head, [other])


def test_annotations_set_to_false_are_not_flags():
    body = """<incidentSummary><reportAnnotations><sextortion/><infant>false</infant><enticement>true</enticement>
      </reportAnnotations></incidentSummary>
      <fileDetails><fileAnnotations><generativeAi> FALSE </generativeAi><physicalHarm/></fileAnnotations>
      </fileDetails>"""
    report = parsed(report_xml(body))
    assert report.annotations == ("enticement", "sextortion")
    assert report.files[0].annotations == ("physicalHarm",)


def test_hash_types_are_read_in_any_spelling():
    body = f"""<fileDetails><originalFileHash hashType="Md5"> {MD5.upper()} </originalFileHash>
      <originalFileHash hashType="SHA-1">{"ab" * 20}</originalFileHash></fileDetails>"""
    assert parsed(report_xml(body)).files[0].hashes == (FileHash("md5", MD5), FileHash("sha1", "ab" * 20))


def test_a_file_that_names_a_person_not_in_the_report_is_refused():
    body = "<personOrUserReported><screenName>a</screenName></personOrUserReported>" \
           "<fileDetails><personRef>p7</personRef></fileDetails>"
    err = error(report_xml(body))
    assert (err.report_id, err.field) == ("4711", "fileDetails[1]/personRef")
    assert "p7" in err.reason


@pytest.mark.parametrize("body, field", [
    ("", "report/reportId"),
    ("<fileDetails><fileId>{long}</fileId></fileDetails>", "fileDetails[1]/fileId"),
    ("<personOrUserReported><personOrUserReportedPerson><address><zipCode>{long}</zipCode></address>"
     "</personOrUserReportedPerson></personOrUserReported>",
     "personOrUserReported[1]/personOrUserReportedPerson/address[1]/zipCode"),
    ("<personOrUserReported><priorCTReports>{huge}</priorCTReports></personOrUserReported>",
     "personOrUserReported[1]/priorCTReports[1]"),
])
def test_values_longer_than_their_column_are_refused_with_the_field_named(body, field):
    report_id = "9" * 201 if field == "report/reportId" else "4711"
    err = error(report_xml(body.format(long="x" * 201, huge="1" * 5000), report_id=report_id))
    assert err.field == field and "longer than" in err.reason


def test_dates_come_out_utc_aware_whatever_offset_they_were_given_in():
    body = """<incidentSummary><incidentDateTime>2023-03-01T12:00:00+01:00</incidentDateTime></incidentSummary>
      <reportedAt>2023-03-02T08:00:00</reportedAt>"""
    report = parsed(report_xml(body))
    assert report.incident_at == datetime(2023, 3, 1, 11, tzinfo=UTC)
    assert report.reported_at == datetime(2023, 3, 2, 8, tzinfo=UTC)


def test_a_document_that_is_neither_report_nor_file_details_is_refused():
    err = error(b"<rss><channel/></rss>")
    assert "<rss>" in err.reason

