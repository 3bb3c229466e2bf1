"""Batch relinking with Splink: proposed, shown, applied only on request; DuckDB and Spark."""

from __future__ import annotations

import json
import shutil
from datetime import date

import pytest
from typer.testing import CliRunner

from tiptriage.cli import app
from tiptriage.db import make_engine, session_factory
from tiptriage.subjects import batch, service

from .dbdata import add_report


def _two_subjects_of_one_person(session):
    """One person whose first two reports share nothing, and a third that bridges them."""
    r1, p1 = add_report(session, given="Noor", family="Bakker", dob=date(1990, 5, 6), emails=("noor@x.nl",))
    r2, p2 = add_report(session, given="Lisa", family="Mulder", phones=("0611112222",), uid="4455")
    service.resolve_reports(session, [r1, r2], actor="test")
    r3, p3 = add_report(
        session,
        given="Noor",
        family="Bakker",
        dob=date(1990, 5, 6),
        emails=("noor@x.nl",),
        phones=("0611112222",),
    )
    service.resolve_reports(session, [r3], actor="test")
    session.commit()
    return p1, p2, p3


def test_relink_proposes_without_applying_and_applies_on_request(session):
    p1, p2, p3 = _two_subjects_of_one_person(session)
    before = service.subject_of_persons(session, [p1, p2, p3])
    run = batch.propose_relink(session, actor="analyst")
    session.commit()
    assert service.subject_of_persons(session, [p1, p2, p3]) == before  # nothing applied yet
    assert run.status == "proposed" and run.summary["pairs_scored"] >= 2
    clusters = {int(p): c for p, c in run.clusters.items()}
    assert clusters[p1] == clusters[p3]
    with pytest.raises(service.SubjectError):
        batch.apply_relink(session, run.id, actor="analyst", reason="")
    result = batch.apply_relink(session, run.id, actor="analyst", reason="monthly relink reviewed")
    session.commit()
    after = service.subject_of_persons(session, [p1, p2, p3])
    assert len({after[p1], after[p3]}) == 1
    assert set(result.affected_report_ids) <= set(service.pending_retriage(session))


def test_a_stale_run_is_refused(session):
    p1, p2, p3 = _two_subjects_of_one_person(session)
    run = batch.propose_relink(session, actor="analyst")
    subjects = sorted(set(service.subject_of_persons(session, [p1, p2, p3]).values()))
    if len(subjects) > 1:
        service.merge(session, subjects[0], subjects[1], actor="analyst", reason="known from the case file")
    else:
        service.split(session, subjects[0], [p2], actor="analyst", reason="different people")
    with pytest.raises(service.SubjectError):
        batch.apply_relink(session, run.id, actor="analyst", reason="too late")


def test_relink_keeps_an_analysts_split(session):
    p1, p2, p3 = _two_subjects_of_one_person(session)
    subject = service.subject_of_persons(session, [p1])[p1]
    members = service.members_of(session, [subject])[subject]
    if len(members) < 2:
        pytest.skip("the fast path kept the reports apart: nothing to split")
    service.split(session, subject, [p3], actor="analyst", reason="different people after all")
    session.commit()
    run = batch.propose_relink(session, actor="analyst")
    clusters = {int(p): c for p, c in run.clusters.items()}
    assert clusters[p3] != clusters[p1]


def test_the_cli_shows_a_subject_with_evidence_and_searches_with_a_reason(cli_env):
    engine = make_engine(cli_env)
    with session_factory(engine)() as s:
        p1, _, _ = _two_subjects_of_one_person(s)
        subject = service.subject_of_persons(s, [p1])[p1]
    engine.dispose()
    runner = CliRunner()
    shown = runner.invoke(app, ["subjects", "show", str(subject), "--json"])
    assert shown.exit_code == 0, shown.output
    doc = json.loads(shown.output)
    assert doc["id"] == subject and doc["links"] and "fields" in doc["links"][0]["evidence"]
    assert runner.invoke(app, ["subjects", "search", "noor@x.nl"]).exit_code == 2  # no --reason
    found = runner.invoke(app, ["subjects", "search", "noor@x.nl", "--reason", "case 17", "--json"])
    assert found.exit_code == 0 and subject in json.loads(found.output)["subjects"]
    assert runner.invoke(app, ["subjects", "show", "999999"]).exit_code == 2
    assert runner.invoke(app, ["subjects", "review", "--json"]).exit_code == 0


def _spark_available() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install .[spark])"
    if shutil.which("java") is None:
        return "no java on PATH (Spark needs Java 17)"
    return None


@pytest.mark.slow
def test_relink_on_spark_in_local_mode_finds_the_same_clusters(session):
    why = _spark_available()
    if why:
        pytest.skip(why)
    if session.bind.dialect.name != "sqlite":
        pytest.skip("one database is enough: Spark reads the same records either way")
    p1, p2, p3 = _two_subjects_of_one_person(session)
    duck = batch.propose_relink(session, actor="analyst")
    spark = batch.propose_relink(session, actor="analyst", engine="spark")
    assert spark.engine == "spark"
    assert spark.clusters == duck.clusters
    assert spark.summary["pairs_scored"] == duck.summary["pairs_scored"]
