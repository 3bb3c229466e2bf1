"""`tiptriage triage`, `queue`, `explain`, `decide`, `risk`, `policy`, `plan` as users script them."""

from __future__ import annotations

import json

import yaml
from typer.testing import CliRunner

from tiptriage import config
from tiptriage.cli import app
from tiptriage.db import open_session

from .dbdata import bank, fresh, ingest, known, report

runner = CliRunner()


def run(*args: str, code: int = 0):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if "--json" in args and code == 0 else result


def stored(tmp_path) -> list[int]:
    with open_session() as s:
        bank(s, tmp_path)
        return ingest(s, tmp_path / "in", report("1", known(0)), report("2", known(1, "upload")), report("3", fresh("n")))


def test_triage_queue_explain_and_decide(cli_env, tmp_path):
    ids = stored(tmp_path)
    summary = run("triage", "--json")
    assert (summary["triaged"], summary["recommended"], summary["by_outcome"]) == (
        3, 3, {"CRIMINAL_CASE": 1, "URGENT": 1, "WARNING": 1})
    assert run("triage", "--json")["triaged"] == 0  # nothing pending any more
    assert run("triage", "--all", "--json")["unchanged"] == 3
    queue = run("queue", "--json")
    assert [q["outcome"] for q in queue] == ["URGENT", "CRIMINAL_CASE", "WARNING"]
    assert run("queue", "--outcome", "WARNING", "--json")[0]["report_id"] == ids[0]
    doc = run("explain", str(ids[1]), "--json")
    assert doc["recommendation"]["rules"][0]["id"] == "distributed"
    decision = run("decide", str(ids[1]), "--confirm", "-j", "Distribution: search.", "--json")
    assert (decision["kind"], decision["outcome"]) == ("confirm", "CRIMINAL_CASE")
    assert run("queue", "--status", "decided", "--json")[0]["report_id"] == ids[1]
    refused = run("decide", str(ids[2]), "--override", "WARNING", "-j", "x", code=1)
    assert "never WARNING when any file is new material" in refused.output
    run("decide", str(ids[2]), "-j", "x", code=2)
    run("queue", "--status", "nonsense", code=2)
    run("triage", "1", "--all", code=2)
    run("explain", "999", code=1)
    audit = {e["action"] for e in run("audit", "log", "--limit", "100", "--json")}
    assert {"triage.recommend", "triage.queue.view", "triage.view", "triage.decide"} <= audit


def test_dutch_output_names_outcomes_in_dutch(cli_env, tmp_path, monkeypatch):
    ids = stored(tmp_path)
    run("triage")
    monkeypatch.setenv("TIPTRIAGE_LANG", "nl")
    result = run("explain", str(ids[0]))
    assert "WAARSCHUWING" in result.output and "Alleen gedownload of opgeslagen" in result.output


def test_risk_items_from_the_cli(cli_env, tmp_path):
    ids = stored(tmp_path)
    run("triage")
    run("risk", "add", str(ids[0]), "prior_sexual_offence", "--note", "Judicial documentation, 2019.", "--json")
    assert run("explain", str(ids[0]), "--json")["recommendation"]["outcome"] == "CRIMINAL_CASE"
    run("risk", "add", str(ids[0]), "shoe_size", "--note", "x", code=2)


def test_a_verified_birth_date_from_the_cli(cli_env, tmp_path):
    ids = stored(tmp_path)
    run("triage")
    doc = run("birth-date", str(ids[0]), "--date", "2008-01-15", "--source", "BRP", "--note",
              "BRP query 2024-0117.", "--json")
    assert (doc["report_id"], doc["date_of_birth"], doc["source"], doc["outcome"]) == (
        ids[0], "2008-01-15", "BRP", "YOUTH")
    shown = run("birth-date", str(ids[0]), "--date", "1980-05-04", "--source", "BRP", "--note", "Corrected.")
    assert f"recorded for report {ids[0]}; recommendation now WARNING" in " ".join(shown.output.split())
    for bad in ("2008-02-30", "15-01-2008"):
        assert f"A date is YYYY-MM-DD, not {bad}" in run("birth-date", str(ids[0]), "--date", bad,
                                                         "--source", "BRP", "--note", "x", code=2).output
    assert "one of BRP, RNI" in run("birth-date", str(ids[0]), "--date", "2008-01-15", "--source",
                                    "Facebook", "--note", "x", code=2).output
    assert "no report with id 999" in run("birth-date", "999", "--date", "2008-01-15", "--source", "BRP",
                                          "--note", "x", code=1).output
    run("birth-date", str(ids[0]), "--date", "2008-01-15", "--source", "BRP", code=2)  # no note
    assert run("triage", str(ids[0]), "--json")["triaged"] == 1  # report ids still work as before
    audit = [e["action"] for e in run("audit", "log", "--action", "triage.birth_date", "--json")]
    assert audit == ["triage.birth_date", "triage.birth_date"]


def test_policy_show_and_check(cli_env, tmp_path):
    shown = run("policy", "show", "--json")
    assert shown["policy"] == "nl-2023" and shown["rules"][0]["id"] == "escalated"
    from importlib import resources

    doc = yaml.safe_load(resources.files("tiptriage.triage").joinpath("policies", "nl-2023.yaml").read_bytes())
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    assert run("policy", "check", str(good), "--json")["ok"] is True
    next(r for r in doc["rules"] if r["id"] == "first-time-download")["when"].pop("contact_risk")
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    refused = runner.invoke(app, ["policy", "check", str(bad), "--json"])
    assert refused.exit_code == 1
    assert json.loads(refused.stdout)["error"].startswith("rule first-time-download: outcome WARNING does not require "
                                                          "contact_risk = false")


def test_a_changed_policy_file_re_triages_with_the_new_version(cli_env, tmp_path, monkeypatch):
    ids = stored(tmp_path)
    run("triage")
    from importlib import resources

    doc = yaml.safe_load(resources.files("tiptriage.triage").joinpath("policies", "nl-2023.yaml").read_bytes())
    doc["version"] = "2024.1"
    next(r for r in doc["rules"] if r["id"] == "distributed")["priority"] = 55
    path = tmp_path / "nl-2024.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    monkeypatch.setenv("TIPTRIAGE_POLICY_FILE", str(path))
    config.get_settings.cache_clear()
    assert run("triage", "--all", "--reason", "policy 2024.1", "--json")["recommended"] == 3
    history = run("explain", str(ids[1]), "--json")["history"]
    assert [(h["policy"], h["priority"]) for h in history] == [("nl-2023@2023.4", 50), ("nl-2023@2024.1", 55)]


def test_plan_and_units(cli_env, tmp_path):
    stored(tmp_path)
    run("triage")
    plans = {p["unit"]: p for p in run("plan", "--json")}
    assert plans["Limburg"]["planned_count"] == 3 and plans["Limburg"]["planned_hours"] == 16 + 12 + 3
    assert plans["Amsterdam"]["planned_count"] == 0
    assert len(run("units", "--json")["units"]) == 11
