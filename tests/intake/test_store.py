"""The durable store: each report once, changed copies as new versions, nothing half-written."""

from __future__ import annotations

import hashlib
import os
import zlib
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from tiptriage import pipeline
from tiptriage.accounts.actor import Actor
from tiptriage.db import make_engine, migrate, session_factory
from tiptriage.intake import compression, documents, parsing, storing
from tiptriage.intake.domain import (
    FileHash, Identifier, IpEvent, ParsedReport, ReportedFile, ReportedPerson,
)
from tiptriage.intake.formats import cybertip, tiptriage_json
from tiptriage.intake.models import FileHashRow, FileRow, QuarantineEntry, RawPart, Report, ReportedPersonRow


def make_report(n: int, *, name: str = "Jan", files: int = 2) -> ParsedReport:
    return ParsedReport(
        source="NCMEC", external_id=f"9{n:06d}", format="cybertip-xml", incident_type="Child Pornography",
        incident_at=datetime(2023, 3, 1, 10, n % 60, tzinfo=UTC), reporter="Platform A",
        persons=(ReportedPerson(ref="p1", given_name=name, family_name="de Vries",
                                identifiers=(Identifier("email", f"user{n}@example.nl", True, None),),
                                ip_events=(IpEvent("192.0.2.7", "Login", datetime(2023, 3, 1, 9, tzinfo=UTC)),)),),
        files=tuple(ReportedFile(ref=f"f{k}", person_ref="p1", action="upload",
                                 hashes=(FileHash("md5", hashlib.md5(f"{n}-{k}".encode()).hexdigest()),))
                    for k in range(1, files + 1)),
    )


def write_xml(folder, report: ParsedReport, *, inline: bool = True, name: str | None = None):
    data, siblings = cybertip.write(report, inline_files=inline)
    path = folder / (name or f"{report.external_id}.xml")
    path.write_bytes(data)
    for k, doc in enumerate(siblings):
        (folder / f"{report.external_id}.file-{k}.xml").write_bytes(doc)
    return path


def count(session, model) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_ingest_stores_every_part_of_a_report(session, tmp_path):
    write_xml(tmp_path, make_report(1))
    summary = pipeline.ingest(session, [tmp_path], actor=Actor("analyst-1"))
    assert (summary.stored, summary.rejected) == (1, 0)
    report = session.execute(select(Report)).scalar_one()
    assert (report.source, report.external_id, report.version, report.ingested_by) == ("NCMEC", "9000001", 1, "analyst-1")
    assert [p.given_name for p in report.persons] == ["Jan"]
    assert [i.value for i in report.persons[0].identifiers] == ["user1@example.nl"]
    assert report.persons[0].ip_events[0].at == datetime(2023, 3, 1, 9, tzinfo=UTC)
    assert sorted(h.value for f in report.files for h in f.hashes) == sorted(
        hashlib.md5(f"1-{k}".encode()).hexdigest() for k in (1, 2))


def test_raw_bytes_are_kept_compressed_and_verifiable(session, tmp_path):
    path = write_xml(tmp_path, make_report(2))
    pipeline.ingest(session, [path], actor=Actor("t"))
    report = session.execute(select(Report)).scalar_one()
    part = report.raw_parts[0]
    assert part.compression == "zstd" and len(part.data) < len(path.read_bytes())
    assert compression.decompress(part.compression, part.data) == path.read_bytes()
    assert report.content_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert documents.raw_documents(session, report) == [(path.name, path.read_bytes())]


def test_raw_parts_stored_as_zlib_by_earlier_versions_still_read_and_verify(session, tmp_path):
    path = write_xml(tmp_path, make_report(2))
    pipeline.ingest(session, [path], actor=Actor("t"))
    report = session.execute(select(Report)).scalar_one()
    part = report.raw_parts[0]
    part.compression, part.data = "zlib", zlib.compress(path.read_bytes())
    session.flush()
    assert documents.raw_documents(session, report) == [(path.name, path.read_bytes())]
    part.data = zlib.compress(path.read_bytes() + b" ")  # not the bytes the hash was taken of
    session.flush()
    with pytest.raises(ValueError, match="does not match its SHA-256"):
        documents.raw_documents(session, report)


def test_ingesting_the_same_folder_twice_stores_nothing_new(session, tmp_path):
    for n in range(5):
        write_xml(tmp_path, make_report(n))
    first = pipeline.ingest(session, [tmp_path], actor=Actor("t"))
    second = pipeline.ingest(session, [tmp_path], actor=Actor("t"))
    assert (first.stored, first.duplicates) == (5, 0)
    assert (second.stored, second.duplicates, second.versions) == (0, 5, 0)
    assert count(session, Report) == 5 and count(session, FileRow) == 10


def test_a_modified_copy_becomes_a_new_version_and_the_old_one_stays(session, tmp_path):
    write_xml(tmp_path, make_report(7))
    pipeline.ingest(session, [tmp_path], actor=Actor("t"))
    changed = tmp_path / "changed"
    changed.mkdir()
    write_xml(changed, make_report(7, name="Johannes"))
    summary = pipeline.ingest(session, [changed], actor=Actor("t"))
    assert (summary.stored, summary.versions) == (1, 1)
    versions = session.execute(select(Report).order_by(Report.version)).scalars().all()
    assert [(r.external_id, r.version) for r in versions] == [("9000007", 1), ("9000007", 2)]
    assert [r.persons[0].given_name for r in versions] == ["Jan", "Johannes"]
    # re-ingesting either copy is a duplicate now
    assert pipeline.ingest(session, [tmp_path, changed], actor=Actor("t")).duplicates == 2


def test_duplicates_inside_one_batch_are_stored_once(session, tmp_path):
    data, _ = cybertip.write(make_report(3))
    (tmp_path / "a.xml").write_bytes(data)
    (tmp_path / "b.xml").write_bytes(data)
    summary = pipeline.ingest(session, [tmp_path], actor=Actor("t"))
    assert (summary.stored, summary.duplicates) == (1, 1)


def test_sibling_file_details_are_joined_to_their_report(session, tmp_path):
    write_xml(tmp_path, make_report(4, files=3), inline=False)
    summary = pipeline.ingest(session, [tmp_path], actor=Actor("t"))
    assert (summary.stored, summary.rejected) == (1, 0)
    report = session.execute(select(Report)).scalar_one()
    assert [f.ref for f in report.files] == ["f1", "f2", "f3"]
    assert all(f.person_ref == "p1" for f in report.files)
    assert len(report.raw_parts) == 4
    # the same bundle again is a duplicate: the content hash does not depend on file order
    assert pipeline.ingest(session, [tmp_path], actor=Actor("t")).duplicates == 1


def test_file_details_without_their_report_are_refused(session, tmp_path):
    _, siblings = cybertip.write(make_report(5), inline_files=False)
    (tmp_path / "orphan.xml").write_bytes(siblings[0])
    summary = pipeline.ingest(session, [tmp_path], actor=Actor("t"))
    assert summary.rejected == 1 and summary.errors[0]["report_id"] == "9000005"
    assert "not in the same folder" in summary.errors[0]["reason"]


def test_bad_report_is_quarantined_and_the_rest_goes_in(session, tmp_path):
    for n in range(3):
        write_xml(tmp_path, make_report(n))
    bad = cybertip.write(make_report(99))[0].replace(b"<fileId>f1</fileId>", b"<fileId>f1</fileId><fileViewedByEsp>perhaps</fileViewedByEsp>", 1)
    (tmp_path / "bad.xml").write_bytes(bad)
    summary = pipeline.ingest(session, [tmp_path], actor=Actor("t"))
    assert (summary.stored, summary.rejected) == (3, 1)
    entry = session.execute(select(QuarantineEntry)).scalar_one()
    assert entry.report_id == "9000099" and entry.field == "fileDetails[1]/fileViewedByEsp"
    assert entry.raw_sha256 == hashlib.sha256(bad).hexdigest() and entry.path.endswith("bad.xml")
    assert session.execute(select(Report).where(Report.external_id == "9000099")).first() is None
    assert count(session, FileRow) == 6 and count(session, FileHashRow) == 6


def test_oversized_file_is_refused_before_parsing(session, tmp_path, monkeypatch):
    monkeypatch.setenv("TIPTRIAGE_MAX_FILE_BYTES", "1000")
    path = write_xml(tmp_path, make_report(1, files=20))
    summary = pipeline.ingest(session, [path], actor=Actor("t"))
    assert summary.rejected == 1 and "over the limit" in summary.errors[0]["reason"]
    assert count(session, Report) == 0


def test_a_file_that_cannot_be_read_is_named_and_the_others_are_stored(session, tmp_path):
    good = write_xml(tmp_path, make_report(1))
    gone = tmp_path / "gone.xml"
    gone.symlink_to(tmp_path / "nowhere.xml")  # listed, then unreadable: as a file deleted meanwhile
    summary = pipeline.ingest(session, [gone, good], actor=Actor("t"))
    assert (summary.stored, summary.rejected) == (1, 1)
    error = summary.errors[0]
    assert error["file"] == str(gone) and "cannot read: No such file or directory" in error["reason"]


def test_a_file_larger_than_its_size_when_listed_is_read_whole(session, tmp_path, monkeypatch):
    path = write_xml(tmp_path, make_report(3))
    real_fstat = os.fstat

    def stale_fstat(fd):  # the size seen before the file was written in full
        result = real_fstat(fd)
        return os.stat_result((*result[:6], 10, *result[7:]))

    monkeypatch.setattr(parsing.os, "fstat", stale_fstat)
    summary = pipeline.ingest(session, [path], actor=Actor("t"))
    assert summary.stored == 1
    report = session.execute(select(Report)).scalar_one()
    assert documents.raw_documents(session, report) == [(path.name, path.read_bytes())]


def refusing(external_id: str):
    """storing._insert_reports as a database that refuses every batch holding this report."""
    real = storing._insert_reports

    def insert(session_, new, actor, now):
        if any(c.external_id == external_id for c, _, _ in new):
            from sqlalchemy.exc import IntegrityError  # what a constraint violation raises
            raise IntegrityError("insert", {}, Exception("simulated constraint violation"))
        return real(session_, new, actor, now)

    return insert


def test_a_batch_the_database_refuses_is_retried_report_by_report(session, tmp_path, monkeypatch):
    """One report that cannot be stored (here: a name over the column size on any database is
    simulated by failing its insert) must not take the rest of its batch down with it."""
    for n in range(4):
        write_xml(tmp_path, make_report(n))
    monkeypatch.setattr(storing, "_insert_reports", refusing("9000002"))
    summary = pipeline.ingest(session, [tmp_path], actor=Actor("t"), batch_size=10)
    assert (summary.stored, summary.rejected) == (3, 1)
    assert summary.errors[0]["report_id"] == "9000002"
    assert sorted(r.external_id for r in session.execute(select(Report)).scalars()) == ["9000000", "9000001", "9000003"]
    assert count(session, ReportedPersonRow) == 3 and count(session, RawPart) == 3


def test_storing_leaves_every_commit_to_its_caller(session, tmp_path, monkeypatch):
    """Intake owns no transaction: it calls the caller's checkpoint once per unit (each batch, each
    report of a refused batch stored alone, each refusal quarantined), and what the caller rolls
    back is gone."""
    for n in range(5):
        write_xml(tmp_path, make_report(n))
    (tmp_path / "bad.xml").write_bytes(b"<report>")
    monkeypatch.setattr(storing, "_insert_reports", refusing("9000002"))
    monkeypatch.setattr(session, "commit", lambda: pytest.fail("intake committed"))
    summary = storing.IngestSummary()
    units = []
    storing.store(session, [tmp_path], summary, checkpoint=lambda: units.append(1), actor=Actor("t"), batch_size=2)
    # Batches [0, 1], [2, 3] (refused: 2 quarantined, 3 alone) and [4], and the unreadable file.
    assert (len(units), summary.stored, summary.rejected) == (5, 4, 2)
    assert count(session, Report) == 4
    session.rollback()
    assert count(session, Report) == 0 and count(session, QuarantineEntry) == 0


def test_json_and_xml_of_one_report_store_the_same_content(session, tmp_path):
    r = make_report(11)
    (tmp_path / "x").mkdir()
    (tmp_path / "j").mkdir()
    write_xml(tmp_path / "x", r)
    (tmp_path / "j" / "r.json").write_bytes(tiptriage_json.write(
        ParsedReport(**{**{f: getattr(r, f) for f in r.__dataclass_fields__}, "source": "EOKM"})))
    pipeline.ingest(session, [tmp_path], actor=Actor("t"))
    docs = [documents.report_document(session, rid, actor=Actor("t")) for rid in (1, 2)]
    strip = lambda d: ({k: v for k, v in p.items() if k != "id"} for p in d["persons"])  # noqa: E731
    assert list(strip(docs[0])) == list(strip(docs[1]))
    assert [f["hashes"] for f in docs[0]["files"]] == [f["hashes"] for f in docs[1]["files"]]


def test_report_document_is_audited_as_an_access(session, tmp_path):
    from tiptriage.audit.models import AuditEvent

    write_xml(tmp_path, make_report(1))
    pipeline.ingest(session, [tmp_path], actor=Actor("t"))
    doc = documents.report_document(session, 1, actor=Actor("analyst-2"), reason="case 2023-17")
    assert doc["external_id"] == "9000001" and doc["versions"][0]["version"] == 1
    views = session.execute(select(AuditEvent).where(AuditEvent.action == "report.view")).scalars().all()
    assert [(e.actor, e.entity_ids, e.reason) for e in views] == [("analyst-2", [1], "case 2023-17")]
    assert documents.report_document(session, 999, actor=Actor("t")) is None


@pytest.mark.parametrize("batch_size", [1, 3, 500])
def test_batch_size_does_not_change_the_outcome(session, tmp_path, batch_size):
    for n in range(7):
        write_xml(tmp_path, make_report(n))
    summary = pipeline.ingest(session, [tmp_path], actor=Actor("t"), batch_size=batch_size)
    assert summary.stored == 7 and count(session, Report) == 7
    assert [r.id for r in documents.list_reports(session, limit=3)] == [7, 6, 5]


def test_parallel_parsing_gives_the_same_outcome(session, tmp_path, monkeypatch):
    """Worker processes parse while the main process stores: same reports, same named errors."""
    monkeypatch.setattr(parsing, "PARALLEL_MIN_FILES", 0)
    monkeypatch.setattr(parsing, "PARALLEL_CHUNK", 2)
    monkeypatch.setenv("TIPTRIAGE_INGEST_WORKERS", "2")
    for n in range(9):
        write_xml(tmp_path, make_report(n), inline=n % 3 != 0)
    (tmp_path / "zz-bad.xml").write_bytes(b"<report><reportId>77</reportId><incidentSummary>")
    summary = pipeline.ingest(session, [tmp_path], actor=Actor("t"), batch_size=4)
    assert (summary.stored, summary.rejected) == (9, 1)
    assert summary.errors[0]["file"].endswith("zz-bad.xml") and "malformed XML" in summary.errors[0]["reason"]
    stored = session.execute(select(Report).order_by(Report.external_id)).scalars().all()
    assert [r.external_id for r in stored] == [f"9{n:06d}" for n in range(9)]
    assert all(len(r.files) == 2 for r in stored)


def test_parallel_joining_gives_the_same_outcome_when_a_report_id_comes_twice(session, tmp_path, monkeypatch):
    """Workers join file details to their report; as in-process, the first document with that report
    id takes them, a second one is stored without them (a new version), and a refused one refuses them."""
    write_xml(tmp_path, make_report(31, files=2), inline=False)
    write_xml(tmp_path, make_report(31, name="Piet", files=1), name="9000031.again.xml")
    write_xml(tmp_path, make_report(32, files=2), inline=False)
    bad = tmp_path / "9000032.xml"
    bad.write_bytes(bad.read_bytes().replace(b"<incidentDateTime>2023", b"<incidentDateTime>2999"))
    write_xml(tmp_path, make_report(33, files=3), inline=False)

    def outcome(store) -> tuple:
        summary = pipeline.ingest(store, [tmp_path], actor=Actor("t"))
        reports = store.execute(select(Report).order_by(Report.id)).scalars()
        return ((summary.stored, summary.versions, summary.rejected),
                [(e["file"].rsplit("/", 1)[1], e["reason"]) for e in summary.errors],
                [(r.external_id, r.content_sha256, [(f.ref, f.action) for f in r.files]) for r in reports])

    engine = make_engine(f"sqlite:///{tmp_path / 'reference.db'}")  # in-process, into a store of its own
    migrate(engine)
    with session_factory(engine)() as reference:
        in_process = outcome(reference)
    engine.dispose()
    monkeypatch.setattr(parsing, "PARALLEL_MIN_FILES", 0)
    monkeypatch.setattr(parsing, "PARALLEL_CHUNK", 1)
    monkeypatch.setenv("TIPTRIAGE_INGEST_WORKERS", "2")
    assert outcome(session) == in_process
    assert in_process[0] == (3, 1, 3)
    # 9000031.again.xml comes first in file order: its one file and the two file details; then 9000031.xml alone.
    assert [len(files) for _, _, files in in_process[2]] == [3, 0, 3]


def test_file_details_with_a_byte_order_mark_or_comment_are_still_joined(session, tmp_path):
    write_xml(tmp_path, make_report(21, files=2), inline=False)
    first, second = sorted(tmp_path.glob("*.file-*.xml"))
    first.write_bytes(b"\xef\xbb\xbf" + first.read_bytes())
    second.write_bytes(second.read_bytes().replace(b"?>", b"?>\n<!-- exported by the platform -->", 1))
    summary = pipeline.ingest(session, [tmp_path], actor=Actor("t"))
    assert (summary.stored, summary.rejected) == (1, 0)
    assert len(session.execute(select(Report)).scalar_one().files) == 2


def test_a_report_and_its_file_details_are_refused_together(session, tmp_path):
    """A sibling naming a person the report lacks refuses the whole report, not just that file."""
    write_xml(tmp_path, make_report(22, files=2), inline=False)
    sibling = sorted(tmp_path.glob("*.file-*.xml"))[0]
    sibling.write_bytes(sibling.read_bytes().replace(b"<personRef>p1</personRef>", b"<personRef>p9</personRef>"))
    summary = pipeline.ingest(session, [tmp_path], actor=Actor("t"))
    assert (summary.stored, summary.rejected) == (0, 3)
    reasons = " | ".join(e["reason"] for e in summary.errors)
    assert "p9" in reasons and "refused with its file details" in reasons and "report that was refused" in reasons
    assert count(session, Report) == 0 and count(session, FileRow) == 0


def test_file_details_of_a_refused_report_say_so(session, tmp_path):
    path = write_xml(tmp_path, make_report(23, files=1), inline=False)
    path.write_bytes(path.read_bytes().replace(b"<incidentDateTime>2023", b"<incidentDateTime>2999"))
    summary = pipeline.ingest(session, [tmp_path], actor=Actor("t"))
    assert summary.rejected == 2
    assert any("report that was refused" in e["reason"] for e in summary.errors)
    assert not any("not in the same folder" in e["reason"] for e in summary.errors)


def test_a_driver_error_from_the_bulk_path_refuses_only_that_report(session, tmp_path, monkeypatch):
    """PostgreSQL's COPY raises psycopg's own errors; they must be handled like SQLAlchemy's."""
    import psycopg

    for n in range(3):
        write_xml(tmp_path, make_report(n))
    real = storing._insert_reports

    def failing(session_, new, actor, now):
        if any(c.external_id == "9000001" for c, _, _ in new):
            raise psycopg.errors.StringDataRightTruncation("value too long for type character varying(200)")
        return real(session_, new, actor, now)

    monkeypatch.setattr(storing, "_insert_reports", failing)
    summary = pipeline.ingest(session, [tmp_path], actor=Actor("t"))
    assert (summary.stored, summary.rejected) == (2, 1)
    assert "value too long" in summary.errors[0]["reason"]
