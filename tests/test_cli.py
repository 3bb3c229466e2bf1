"""The CLI as a user scripts it: exit codes 0/1/2 and one JSON document per --json command."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sqlalchemy import text
from typer.testing import CliRunner

from tiptriage.cli import app
from tiptriage.db import make_engine
from tests_support import as_administrator, make_report, write_reports, write_xml

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_ingest_json_summary_and_exit_codes(cli_env, tmp_path):
    write_reports(tmp_path, 3)
    result = run("ingest", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert {k: doc[k] for k in ("stored", "duplicates", "versions", "rejected", "files", "errors", "matching")} == {
        "stored": 3, "duplicates": 0, "versions": 0, "rejected": 0, "files": 3, "errors": [],
        "matching": {"unrated": 6}}
    assert sum(doc["linking"].values()) == 3  # every reported person was linked or given a subject
    assert sum(doc["triage"].values()) == 3  # and every report got a recommendation
    again = json.loads(run("ingest", str(tmp_path), "--json").stdout)
    assert (again["stored"], again["duplicates"]) == (0, 3)


def test_ingest_with_a_bad_file_exits_1_and_names_it(cli_env, tmp_path):
    write_reports(tmp_path, 2)
    (tmp_path / "broken.xml").write_bytes(b"<report><reportId>42</reportId><incidentSummary>")
    result = run("ingest", str(tmp_path), "--json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["stored"] == 2 and doc["rejected"] == 1
    assert doc["errors"][0]["file"].endswith("broken.xml") and "malformed XML" in doc["errors"][0]["reason"]
    quarantined = json.loads(run("reports", "quarantine", "--json").stdout)
    assert quarantined[0]["file"].endswith("broken.xml") and quarantined[0]["report_id"] is None
    assert "Quarantine" in run("reports", "quarantine").stdout


def test_usage_errors_exit_2(cli_env, tmp_path):
    assert run("ingest", str(tmp_path / "does-not-exist")).exit_code == 2
    assert run("reports", "show", "not-a-number").exit_code == 2
    assert run("no-such-command").exit_code == 2


def test_reports_list_and_show(cli_env, tmp_path):
    write_reports(tmp_path, 3)
    run("ingest", str(tmp_path))
    listing = json.loads(run("reports", "list", "--json").stdout)
    assert listing["total"] == 3 and [r["id"] for r in listing["reports"]] == [3, 2, 1]
    shown = run("reports", "show", "2", "--json", "--reason", "triage")
    doc = json.loads(shown.stdout)
    assert doc["id"] == 2 and doc["persons"][0]["identifiers"][0]["kind"] == "email"
    assert doc["files"][0]["hashes"][0]["hash_type"] == "md5"
    assert doc["files"][0]["match"]["status"] == "unrated"  # no bank knows it, the platform did not classify it
    assert run("reports", "show", "99").exit_code == 1
    human = run("reports", "show", "2")
    assert "de Vries" in human.stdout


def test_reports_raw_writes_the_documents_as_they_arrived_and_audits_it(cli_env, tmp_path):
    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    write_reports(inbox, 2)
    run("ingest", str(inbox))
    result = run("reports", "raw", "2", str(out), "--reason", "court request", "--json")
    assert result.exit_code == 0, result.output
    (written,) = json.loads(result.stdout)
    exported = Path(written["path"])
    originals = {p.name: p.read_bytes() for p in inbox.iterdir()}
    name = exported.name.split("-", 2)[2]
    assert exported.parent == out and exported.read_bytes() == originals[name]
    assert written["sha256"] == hashlib.sha256(originals[name]).hexdigest()
    log = json.loads(run("audit", "log", "--json").stdout)
    read = [e for e in log if e["action"] == "report.raw_read"]
    assert len(read) == 1 and read[0]["reason"] == "court request" and read[0]["entity_ids"] == [2]
    again = run("reports", "raw", "2", str(out))  # an exported document is never overwritten
    assert again.exit_code == 1 and "exists" in again.output
    assert exported.read_bytes() == originals[name]
    assert run("reports", "raw", "99", str(out)).exit_code == 1


def test_reports_raw_gives_a_report_with_its_separate_file_details_documents(cli_env, tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    write_xml(inbox, make_report(5, files=2), inline=False)  # the report and two <fileDetails> documents
    run("ingest", str(inbox))
    written = json.loads(run("reports", "raw", "1", str(tmp_path / "out"), "--json").stdout)
    assert len(written) == 3
    assert sorted(Path(w["path"]).read_bytes() for w in written) == sorted(p.read_bytes() for p in inbox.iterdir())


def test_reports_raw_refuses_documents_altered_in_the_store(cli_env, tmp_path):
    (tmp_path / "in").mkdir()
    write_reports(tmp_path / "in", 1)
    run("ingest", str(tmp_path / "in"))
    with make_engine().begin() as conn:  # what someone with database access might do
        conn.execute(text("UPDATE report_raw SET sha256 = :h"), {"h": "0" * 64})
    result = run("reports", "raw", "1", str(tmp_path / "out"))
    assert result.exit_code == 1 and "SHA-256" in result.output
    assert not (tmp_path / "out").exists()
    with make_engine().connect() as conn:  # the attempt is on record, with why it was refused
        (details,) = conn.execute(text("SELECT details FROM audit_events WHERE action = 'report.raw_read'")).scalars()
    details = json.loads(details) if isinstance(details, str) else details
    assert "does not match" in details["refused"]


def test_dutch_is_the_default_language(cli_env, tmp_path, monkeypatch):
    monkeypatch.delenv("TIPTRIAGE_LANG")
    write_reports(tmp_path, 1)
    assert "Opgeslagen" in run("ingest", str(tmp_path)).stdout


def test_a_report_reads_in_dutch_by_default(cli_env, tmp_path, monkeypatch):
    monkeypatch.delenv("TIPTRIAGE_LANG")
    write_reports(tmp_path, 1)
    run("ingest", str(tmp_path))
    shown = run("reports", "show", "1", "--reason", "test").stdout
    assert "Personen in melding" in shown and "Geboren" in shown and "gemeld" in shown
    assert "DOB" not in shown and " reported " not in shown
    log = run("audit", "log").stdout
    assert "Wanneer" in log and "Reden" in log and "reason" not in log


def test_audit_verify_passes_then_fails_after_tampering(cli_env, tmp_path):
    write_reports(tmp_path, 2)
    run("ingest", str(tmp_path))
    run("reports", "show", "1")
    log = json.loads(run("audit", "log", "--json").stdout)
    assert {e["action"] for e in log} >= {"report.ingest", "report.view"}
    ok = run("audit", "verify", "--json")
    assert ok.exit_code == 0 and json.loads(ok.stdout)["ok"] is True
    engine = make_engine(cli_env)
    with engine.begin() as conn:
        as_administrator(conn)
        conn.execute(text("DELETE FROM audit_events WHERE seq = 1"))
    engine.dispose()
    broken = run("audit", "verify")
    assert broken.exit_code == 1 and "event 1" in broken.output


def test_an_analysts_refused_action_is_said_in_dutch(cli_env, tmp_path, monkeypatch):
    write_reports(tmp_path, 1)
    run("ingest", str(tmp_path))
    monkeypatch.delenv("TIPTRIAGE_LANG")
    itself = runner.invoke(app, ["subjects", "merge", "1", "1", "--reason", "x"])
    assert itself.exit_code == 2 and "een subject kan niet met zichzelf worden samengevoegd" in itself.output
    stray = runner.invoke(app, ["subjects", "split", "1", "--person", "99", "--reason", "x"])
    assert stray.exit_code == 2 and "niet alle van 99 horen bij subject 1" in stray.output
    english = runner.invoke(app, ["--lang", "en", "subjects", "merge", "1", "1", "--reason", "x"])
    assert "a subject cannot be merged with itself" in english.output


def test_the_store_its_index_and_exported_documents_are_the_owners_only(tmp_path, monkeypatch):
    """Whatever the umask: a store made by ingest, the PDQ index and the documents `reports raw`
    writes may be read by the account that runs tiptriage only."""
    import os
    import stat

    import numpy as np

    from tiptriage.media import index as pdq_index
    from tiptriage.media import store as pdq_store

    store, index = tmp_path / "store" / "t.db", tmp_path / "store" / "pdq-index"
    monkeypatch.setenv("TIPTRIAGE_DATABASE_URL", f"sqlite:///{store}")
    monkeypatch.setenv("TIPTRIAGE_PDQ_INDEX_DIR", str(index))
    monkeypatch.setenv("TIPTRIAGE_LANG", "en")
    from tiptriage import config

    config.get_settings.cache_clear()
    old = os.umask(0o022)
    try:
        inbox = tmp_path / "in"
        inbox.mkdir()
        write_reports(inbox, 2)
        assert run("ingest", str(inbox)).exit_code == 0
        assert run("reports", "raw", "1", str(tmp_path / "out"), "--reason", "test").exit_code == 0
        with pdq_store.folder_lock(index):  # the index as a bank import writes it
            pdq_index._save_npy(index / "bank.rows.npy", np.zeros(4, dtype=np.uint64))
            pdq_store.publish(index, {"format": pdq_store.FORMAT})
    finally:
        os.umask(old)
        config.get_settings.cache_clear()
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(store) == 0o600 and mode(store.parent) == 0o700
    assert all(mode(p) == 0o600 for p in (tmp_path / "out").iterdir()) and mode(tmp_path / "out") == 0o700
    assert mode(index) == 0o700 and {p.name for p in index.iterdir()} >= {"lock", "bank.rows.npy"}
    assert all(mode(p) == 0o600 for p in index.iterdir())
