"""The hostile corpus (tests/intake/hostile/, small files kept in the repository) and generated
hostile paths (FIFOs, devices, symbolic links, made in tmp): each is refused by name, or read as
the README says, through ingest — never a crash, a hang or a half-stored report."""

from __future__ import annotations

import json
import os
import shutil
import signal
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tiptriage import pipeline
from tiptriage.accounts.actor import Actor
from tiptriage.cli import app
from tiptriage.intake import discovery, parsing
from tiptriage.intake.formats import read_file
from tiptriage.intake.models import QuarantineEntry, Report
from tiptriage.safetext import latin_lookalikes, safe_cell, shown

from intake.test_hostile_input import _all_text, _rows
from intake.test_store import make_report, write_xml

CORPUS = Path(__file__).with_name("hostile")
ACTOR = Actor("test-intake")


@contextmanager
def no_hang(seconds: int = 60):
    """Fails the test instead of hanging it (a FIFO opened for reading blocks until a writer comes)."""
    def stop(*_):
        raise AssertionError(f"ingest did not finish within {seconds} s: it blocked (on a FIFO?)")
    before = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, before)


def quarantine(session) -> dict[str, QuarantineEntry]:
    return {Path(q.path).name: q for q in session.execute(select(QuarantineEntry)).scalars()}


# --- 1. a report and its separate file-details documents: all or nothing ----------------------------

@pytest.mark.parametrize("folder, bad, report_id", [
    ("split-malformed-sibling", "610001.file-8.xml", "610001"),  # cut short: malformed XML
    ("split-bad-value-sibling", "610002.file-2.xml", "610002"),  # 30 February
])
def test_a_report_is_refused_together_with_its_refused_file_details_document(session, tmp_path, folder, bad,
                                                                             report_id):
    source = shutil.copytree(CORPUS / folder, tmp_path / folder)
    documents = sorted(p.name for p in source.iterdir())

    summary = pipeline.ingest(session, [source], actor=ACTOR)

    assert (summary.stored, summary.rejected) == (0, len(documents)), summary.errors
    assert _rows(session)["reports"] == 0 and _rows(session)["files"] == 0  # not stored with 7 of 8 files
    refused = quarantine(session)
    assert sorted(refused) == documents and {q.report_id for q in refused.values()} == {report_id}
    assert f"refused with its file details document {bad}" in refused[f"{report_id}.xml"].reason
    assert "file details of a report that was refused" in refused[sorted(set(documents) - {bad, f"{report_id}.xml"})[0]].reason


def test_the_group_is_refused_together_when_parsed_in_worker_processes(tmp_path, monkeypatch):
    source = shutil.copytree(CORPUS / "split-malformed-sibling", tmp_path / "in")
    monkeypatch.setattr(parsing, "PARALLEL_MIN_FILES", 1)
    items = list(parsing.candidates(discovery.find_inputs([source]), limit=10**6, workers=2, sqlite=True))
    assert len(items) == 9 and all(isinstance(i, parsing.IntakeError) for i in items), items


# --- 2. only regular files inside the named folders ---------------------------------------------------

def test_fifos_devices_and_links_that_leave_the_folder_are_refused_by_name_and_never_read(session, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    elsewhere = write_xml(outside, make_report(2))
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    inside = write_xml(folder, make_report(1))
    os.mkfifo(folder / "pipe.xml")  # opened for reading, it would block until a writer comes
    (folder / "passwd.xml").symlink_to("/etc/passwd")
    (folder / "other-report.xml").symlink_to(elsewhere)
    (folder / "sub" / "same-report.xml").symlink_to(inside)  # inside the folder: followed
    (folder / "gone.json").symlink_to(folder / "nothing-here.json")
    (folder / "linked-folder").symlink_to(outside, target_is_directory=True)  # never walked into
    os.mkfifo(tmp_path / "named.json")

    with no_hang():
        summary = pipeline.ingest(session, [folder, tmp_path / "named.json", Path("/dev/null")], actor=ACTOR)

    assert (summary.stored, summary.duplicates) == (1, 1), summary.errors
    refused = quarantine(session)
    assert sorted(refused) == ["gone.json", "named.json", "null", "other-report.xml", "passwd.xml", "pipe.xml"]
    assert "not a regular file (FIFO)" in refused["pipe.xml"].reason
    assert "not a regular file (FIFO)" in refused["named.json"].reason
    assert "not a regular file (character device)" in refused["null"].reason
    for name in ("passwd.xml", "other-report.xml"):
        assert f"a symbolic link that leaves the folder {folder}" in refused[name].reason
    assert "a symbolic link to nothing" in refused["gone.json"].reason
    assert all(q.raw_sha256 is None for q in refused.values())  # nothing of them was read
    assert "root:" not in _all_text(session)
    assert session.execute(select(Report.external_id)).scalars().all() == [make_report(1).external_id]


def test_a_file_swapped_for_a_fifo_after_discovery_is_refused_not_opened(tmp_path):
    path = write_xml(tmp_path, make_report(3))
    files = discovery.find_inputs([tmp_path])
    path.unlink()
    os.mkfifo(path)
    with no_hang():
        items = list(parsing.candidates(files, limit=10**6))
    assert [(i.path, i.reason) for i in items] == [(str(path), "not a regular file (FIFO): not read")]


# --- 3. XInclude, duplicate JSON keys ------------------------------------------------------------------

def test_xinclude_and_duplicate_keys_are_refused_naming_file_record_and_field(session, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("xinclude.xml", "duplicate-keys.json"):
        shutil.copy(CORPUS / name, folder / name)

    summary = pipeline.ingest(session, [folder], actor=ACTOR)

    assert (summary.stored, summary.rejected) == (1, 3), summary.errors
    errors = sorted((Path(e["file"]).name, e["record"], e["report_id"], e["field"], e["reason"]) for e in summary.errors)
    duplicate = "appears twice in one object: which value is meant cannot be known"
    assert errors == [
        ("duplicate-keys.json", 1, "DK-1", "source", f"the key 'source' {duplicate}"),
        ("duplicate-keys.json", 2, "DK-2", "persons/0/ref", f"the key 'ref' {duplicate}"),
        ("xinclude.xml", None, None, None,
         "document uses XInclude (line 2): included content is never loaded; reports carry none")]
    assert "root:" not in _all_text(session)


# --- 4. look-alike letters of another script -----------------------------------------------------------

def test_lookalike_letters_are_read_as_latin_and_flagged_for_the_analyst(session, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(CORPUS / "lookalike-latin.json", folder / "a.json")
    shutil.copy(CORPUS / "lookalike-source.json", folder / "b.json")

    summary = pipeline.ingest(session, [folder], actor=ACTOR)

    assert (summary.stored, summary.versions, summary.rejected) == (2, 1, 0), summary.errors
    rows = session.execute(select(Report.source, Report.external_id, Report.version, Report.reporter,
                                  Report.intake_flags).order_by(Report.version)).all()
    assert [tuple(r[:4]) for r in rows] == [("BKA", "AB-7", 1, "plain"), ("BKA", "AB-7", 2, "lookalike")]
    assert rows[0].intake_flags == [] and rows[1].intake_flags == [
        ["lookalike", "source", "B\u041aA", "BKA"], ["lookalike", "external_id", "\u0410B-7", "AB-7"],
        ["lookalike", "identifier", "p1 screen_name \u0440\u0430\u0443\u0440\u0430l", "paypal"]]
    person = session.execute(select(Report).where(Report.version == 2)).scalar_one().persons[0]
    assert person.identifiers[0].value == "\u0440\u0430\u0443\u0440\u0430l"  # an identifier is kept as received


def test_reports_show_tells_the_analyst_of_lookalikes_in_dutch(cli_env, tmp_path, monkeypatch):
    monkeypatch.setenv("TIPTRIAGE_LANG", "nl")
    shutil.copy(CORPUS / "lookalike-source.json", tmp_path / "b.json")
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(tmp_path), "--json"]).exit_code == 0
    out = runner.invoke(app, ["reports", "show", "1"], catch_exceptions=False).stdout
    assert "de bron B\u041aA bevat gelijkende letters uit een ander schrift; gelezen als BKA" in out
    assert "de identificatie p1 screen_name \u0440\u0430\u0443\u0440\u0430l bevat gelijkende letters" in out


@pytest.mark.parametrize("text, read", [
    ("B\u041aA", "BKA"), ("\uff22\uff2b\uff21", "BKA"), ("NCM\u0415C-12", "NCMEC-12"),
    ("BKA", None), ("Москва", None), ("Ivan Иванов", None), ("Jan de Vriés", None), ("Ελλάδα", None)])
def test_what_counts_as_a_lookalike(text, read):
    assert latin_lookalikes(text) == read


# --- 5. bidi controls, line breaks and formulas ----------------------------------------------------------

def test_names_with_bidi_controls_and_line_breaks_are_shown_neutralised_and_kept_as_received(cli_env, tmp_path):
    runner = CliRunner()
    shutil.copy(CORPUS / "rtl-name.json", tmp_path / "rtl-name.json")
    assert runner.invoke(app, ["ingest", str(tmp_path), "--json"]).exit_code == 0
    shown_report = runner.invoke(app, ["reports", "show", "1"], catch_exceptions=False).stdout
    assert "\u202e" not in shown_report and "\u2066" not in shown_report and "\r" not in shown_report
    assert "Jan⟨U+202E⟩gpj.exe" in shown_report and "de⟨CR⟩⟨LF⟩Vries" in shown_report
    assert "sam⟨U+2066⟩x⟨U+2069⟩" in shown_report
    as_json = json.loads(runner.invoke(app, ["reports", "show", "1", "--json"]).stdout)
    assert as_json["persons"][0]["given_name"] == "Jan\u202egpj.exe"  # the data as received
    out = tmp_path / "raw"
    assert runner.invoke(app, ["reports", "raw", "1", str(out)]).exit_code == 0
    assert "Jan\u202egpj.exe".encode() in (out / "1-0-rtl-name.json").read_bytes()


def test_formula_strings_are_stored_as_received_and_neutralised_in_a_csv_export():
    [item] = read_file("formula.csv", (CORPUS / "formula.csv").read_bytes())
    person = item.report.persons[0]
    assert (person.given_name, person.family_name) == ('=HYPERLINK("http://x.example/","klik")', "@SUM(A1)")
    assert [safe_cell(x) for x in (person.given_name, person.family_name, "-1", "+31", "Jan", None)] == [
        '\'=HYPERLINK("http://x.example/","klik")', "'@SUM(A1)", "'-1", "'+31", "Jan", ""]


def test_shown_makes_every_unsafe_character_visible():
    assert shown("a\u202eb\u200fc\nd\re\tf\x7fg\u2028h\u200bi") == (
        "a⟨U+202E⟩b⟨U+200F⟩c⟨LF⟩d⟨CR⟩e⟨TAB⟩f⟨U+007F⟩g⟨U+2028⟩h⟨U+200B⟩i")
    assert shown("Jan de Vriés") == "Jan de Vriés" and shown(None) == ""


# --- refusals in the reader's language ------------------------------------------------------------------

def test_a_fifo_is_refused_in_dutch_by_default(cli_env, tmp_path, monkeypatch):
    monkeypatch.setenv("TIPTRIAGE_LANG", "nl")
    write_xml(tmp_path, make_report(4))
    os.mkfifo(tmp_path / "pipe.xml")
    with no_hang():
        result = CliRunner().invoke(app, ["ingest", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 1
    assert "pipe.xml" in result.stdout and "geen gewoon bestand (FIFO): niet gelezen" in result.stdout
    later = CliRunner().invoke(app, ["reports", "quarantine"], catch_exceptions=False).stdout
    assert "geen gewoon bestand (FIFO): niet gelezen" in later  # recorded in English, said in Dutch
    recorded = json.loads(CliRunner().invoke(app, ["reports", "quarantine", "--json"]).stdout)
    assert recorded[0]["reason"] == "not a regular file (FIFO): not read"


def test_recorded_refusals_are_said_again_in_the_readers_language():
    from tiptriage.i18n import language
    from tiptriage.intake.documents import _worded
    from tiptriage.intake.errors import said_again

    with language("nl"):
        assert said_again("the key 'ref' appears twice in one object: which value is meant cannot be known",
                          _worded()) == "de sleutel 'ref' komt twee keer voor in één object: welke waarde bedoeld is, valt niet te weten"
        assert said_again("refused with its file details document 1.file-8.xml", _worded()) == (
            "geweigerd samen met zijn bestandsgegevensdocument 1.file-8.xml")
        assert said_again("malformed XML (line 1): x", _worded()) == "malformed XML (line 1): x"  # not yet worded
