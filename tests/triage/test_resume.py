"""A data path that resumes: `tiptriage ingest` killed (SIGKILL, in a subprocess) while it stores,
matches, links or triages, then run again on the same folder, ends exactly where an uninterrupted
run ends — every report stored once, every file matched, every person linked, every report triaged
with the same recommendation — and the audit chain verifies. A `tiptriage triage` after a killed
run finishes the earlier stages first instead of recommending on an incomplete state."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from tiptriage import pipeline
from tiptriage.accounts.actor import Actor
from tiptriage.audit import service as audit
from tiptriage.db import Base, make_engine, session_factory
from tiptriage.intake import documents
from tiptriage.intake.models import FileRow, Report, ReportedPersonRow
from tiptriage.media.models import FileMatchState
from tiptriage.pipeline import Pending
from tiptriage.subjects.models import SubjectMember
from tiptriage.synth.generator import generate
from tiptriage.triage.models import TriageState

TIPTRIAGE = str(Path(sys.executable).parent / "tiptriage")
REPORTS = 150


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp("resume") / "data"
    generate(out, reports=REPORTS, seed=11)
    return out


def _env(url: str, index: Path, data: Path) -> dict:
    return os.environ | {
        "TIPTRIAGE_DATABASE_URL": url, "TIPTRIAGE_PDQ_INDEX_DIR": str(index), "TIPTRIAGE_LANG": "en",
        "TIPTRIAGE_SERVICES_FILE": str(data / "tables" / "services.csv"),
        "TIPTRIAGE_IP_COUNTRIES_FILE": str(data / "tables" / "ip_countries.csv"),
        # Small transactions, so a kill finds stages half done.
        "TIPTRIAGE_INGEST_BATCH_SIZE": "20", "TIPTRIAGE_MATCH_BATCH_FILES": "25", "TIPTRIAGE_INGEST_WORKERS": "1",
    }


def _cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([TIPTRIAGE, *args], env=env, capture_output=True, text=True, timeout=600)


def _count(engine, table) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(table)).scalar_one()


# When to kill, read from the store while the ingest runs: (stage it is in, condition).
KILL_POINTS = {
    "store": lambda e: _count(e, Report) > 0,
    "match": lambda e: _count(e, FileMatchState) > 0,
    "link": lambda e: _count(e, FileMatchState) == _count(e, FileRow),
    "triage": lambda e: _count(e, SubjectMember) > 0,
}


def _killed_ingest(env: dict, data: Path, url: str, point: str) -> None:
    # The onlooker reads without the write lock our engines take on SQLite (BEGIN IMMEDIATE), so
    # it never holds the ingest up.
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    proc = subprocess.Popen([TIPTRIAGE, "ingest", str(data / "reports")], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                if KILL_POINTS[point](engine):
                    break
            except Exception:  # noqa: BLE001 - tables may not exist yet while the store is made
                pass
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        engine.dispose()


def _outcome(url: str) -> dict:
    """What a user sees of the store: reports once each, file statuses, recommendations, who is one person."""
    engine = make_engine(url)
    with session_factory(engine)() as s:
        reports = dict(s.execute(select(Report.id, Report.external_id)).all())
        states = {reports[r]: (o, p, st) for r, o, p, st in s.execute(
            select(TriageState.report_id, TriageState.outcome, TriageState.priority, TriageState.status))}
        files = sorted((reports[r], status) for r, status in s.execute(
            select(FileMatchState.report_id, FileMatchState.status)))
        members = s.execute(select(ReportedPersonRow.report_id, ReportedPersonRow.ref, SubjectMember.subject_id)
                            .join(SubjectMember, SubjectMember.reported_person_id == ReportedPersonRow.id)
                            .where(SubjectMember.until.is_(None))).all()
        groups: dict[int, set] = {}
        for report_id, ref, subject in members:
            groups.setdefault(subject, set()).add((reports[report_id], ref))
        pending = Pending.read(s)
        verified = audit.verify(s).ok
        stored = s.execute(select(func.count()).select_from(Report)).scalar_one()
    engine.dispose()
    return {"stored": stored, "states": states, "files": files,
            "subjects": sorted(sorted(g) for g in groups.values()),
            "pending": (len(pending.files), len(pending.unlinked), len(pending.untriaged)), "audit": verified}


def _store(kind: str, tmp_path: Path, name: str, request) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / name / 'tiptriage.db'}"
    url = request.getfixturevalue("pg_url")
    _empty(url)
    request.addfinalizer(lambda: _empty(url))  # the worker's database is shared with later tests
    return url


def _empty(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
                          + " RESTART IDENTITY CASCADE"))
    engine.dispose()


def _fresh(env: dict, data: Path) -> None:
    done = _cli(env, "bank", "import", str(data / "banks" / "vics.json"), "--name", "vics", "--format", "vics")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def uninterrupted(data, tmp_path_factory):
    """The outcome of one run that nobody stopped (SQLite; PostgreSQL's is compared to it as well)."""
    tmp = tmp_path_factory.mktemp("whole")
    url = f"sqlite:///{tmp / 'tiptriage.db'}"
    env = _env(url, tmp / "index", data)
    _fresh(env, data)
    assert _cli(env, "ingest", str(data / "reports")).returncode == 0
    outcome = _outcome(url)
    assert outcome["stored"] == REPORTS and outcome["pending"] == (0, 0, 0) and outcome["audit"]
    return outcome


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_an_ingest_killed_then_run_again_ends_as_an_uninterrupted_one(data, uninterrupted, tmp_path, request,
                                                                     kind, point):
    url = _store(kind, tmp_path, "killed", request)
    env = _env(url, tmp_path / "index", data)
    _fresh(env, data)
    _killed_ingest(env, data, url, point)
    left = _outcome(url)
    assert left["stored"] < REPORTS or left["pending"] != (0, 0, 0)  # the kill did stop something
    again = _cli(env, "ingest", str(data / "reports"))
    assert again.returncode == 0, again.stdout + again.stderr
    assert _outcome(url) == uninterrupted


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_triage_after_a_killed_ingest_finishes_the_earlier_stages_first(data, uninterrupted, tmp_path, request,
                                                                        kind):
    url = _store(kind, tmp_path, "killed", request)
    env = _env(url, tmp_path / "index", data)
    _fresh(env, data)
    # What a run killed right after storing leaves: reports stored, nothing matched, linked or triaged.
    engine = make_engine(url)
    with session_factory(engine)() as s:
        pipeline.ingest(s, [data / "reports"], actor=Actor("test"))
    engine.dispose()
    assert _outcome(url)["pending"][2] == REPORTS
    done = _cli(env, "triage")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "First finished what an earlier, stopped run left" in done.stderr
    after = _outcome(url)
    assert after["pending"] == (0, 0, 0) and after["audit"]
    # The reports the killed run never stored come with the next ingest; then all is as uninterrupted.
    assert _cli(env, "ingest", str(data / "reports")).returncode == 0
    assert _outcome(url) == uninterrupted


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_two_ingests_of_one_folder_at_once_store_each_report_once(data, tmp_path, request, kind):
    url = _store(kind, tmp_path, "twice", request)
    env = _env(url, tmp_path / "index", data)
    _fresh(env, data)
    files = [str(f) for f in sorted((data / "reports").rglob("*")) if f.is_file()]
    runs = [subprocess.Popen([TIPTRIAGE, "ingest", *order], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for order in (files, files[::-1])]
    results = [(run.wait(600), *run.communicate()) for run in runs]
    assert [code for code, _, _ in results] == [0, 0], results
    after = _outcome(url)
    assert after["stored"] == REPORTS and after["pending"] == (0, 0, 0) and after["audit"]
    engine = make_engine(url)
    with session_factory(engine)() as s:
        assert documents.view_quarantine(s, actor=Actor("test")) == []
    engine.dispose()
