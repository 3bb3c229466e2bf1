"""End to end, as units use it: ingest → warning proposed → approved by a second person → delivered →
a new report on the same person (another e-mail address, a typo in the name) → alert, CRIMINAL_CASE
with aggravation, in `tiptriage alerts --json` and in the subject's history."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime

from triage.dbdata import KNOWN, ids_of, known, person, report
from typer.testing import CliRunner

from tiptriage.accounts.actor import Actor
from tiptriage import config
from tiptriage.cli import app
from tiptriage.db import open_session
from tiptriage.intake.domain import Identifier
from tiptriage.intake.formats import cybertip
from tiptriage.subjects import actions, linking

runner = CliRunner()


def run(*args: str, actor: str = "analyst-anna") -> dict | list:
    import os

    os.environ["TIPTRIAGE_ACTOR"] = actor
    config.get_settings.cache_clear()
    result = runner.invoke(app, [*args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def arrive(folder, parsed) -> int:
    """A report file arrives: ingest (store + match), link its person, triage what is pending."""
    folder.mkdir(parents=True)
    data, _ = cybertip.write(parsed, inline_files=True)
    (folder / f"{parsed.external_id}.xml").write_bytes(data)
    run("ingest", str(folder))
    with open_session() as s:
        report_id = ids_of(s, parsed.external_id)[0]
        linking.resolve_reports(s, [report_id], actor=Actor("pipeline"))
        s.commit()
    run("triage")
    return report_id


def test_a_warned_person_reported_again_is_caught(cli_env, tmp_path, monkeypatch):
    monkeypatch.setenv("TIPTRIAGE_ACTOR", "analyst-anna")
    (tmp_path / "known.csv").write_text("hash_type,hash,category\n" + "".join(f"md5,{h},child_abuse\n" for h in KNOWN))
    run("bank", "import", str(tmp_path / "known.csv"), "--name", "known", "--format", "csv")
    jan = replace(person(), identifiers=(Identifier("email", "jan.devries@example.nl", True, None),
                                         Identifier("esp_user_id", "884512", None, "Platform A"),
                                         Identifier("screen_name", "jdv_1980", None, "Platform A")))
    first = arrive(tmp_path / "1", report("120000001", known(0), known(1), who=jan))
    assert run("explain", str(first))["recommendation"]["outcome"] == "WARNING"

    warning = run("warnings", "propose", str(first), "-j", "First-time download of known material only.")
    refused = runner.invoke(app, ["warnings", "approve", str(warning["id"])])
    assert refused.exit_code == 1 and "second person" in refused.output
    assert run("warnings", "approve", str(warning["id"]), actor=Actor("teamlead-bram"))["state"] == "approved"
    delivered = run("warnings", "deliver", str(warning["id"]), "--date", "2023-11-14", "--officer", "Agent 0412",
                    "--unit", "Limburg", "--referral-accepted", actor=Actor("officer-cor"))
    assert (delivered["state"], delivered["expires_on"]) == ("delivered", "2028-11-14")

    again = replace(jan, given_name="Jna", identifiers=(
        Identifier("email", "j.de.vries1980@example.com", True, None),
        Identifier("esp_user_id", "884512", None, "Platform A")))
    second = arrive(tmp_path / "2", report("120000777", known(2), who=again,
                                           incident=datetime(2024, 2, 1, 10, tzinfo=UTC)))

    rec = run("explain", str(second))["recommendation"]
    assert (rec["outcome"], rec["decided_by"], "aggravation" in rec["flags"]) == (
        "CRIMINAL_CASE", "rereport-after-warning", True)
    assert rec["rules"][0]["text"].startswith("Re-report after official warning (2023-11-14, Limburg)")
    alerts = run("alerts")
    assert [(a["kind"], a["report_id"], a["unit"], a["external_id"], a["details"]["aggravation"]) for a in alerts] == [
        ("rereport_after_warning", second, "Limburg", "120000777", True)]
    subject_id = rec["subject_ids"][0]
    history = run("history", str(subject_id))
    assert [(r["report_id"], r["outcome"]) for r in history["reports"]] == [(first, "WARNING"), (second, "CRIMINAL_CASE")]
    assert [(w["id"], w["state"], w["delivered_on"]) for w in history["warnings"]] == [
        (warning["id"], "delivered", date(2023, 11, 14).isoformat())]
    assert history["alerts"][0]["report_id"] == second


def test_a_merge_that_joins_a_new_report_to_a_warned_subject_escalates(session, tmp_path):
    """Linkage kept them apart (nothing shared); an analyst merges: the queue takes it up."""
    from registry.scenario import warned_then_reported_again
    from tiptriage.registry import service as registry
    from tiptriage.triage import service as triage

    other = person(given="Johannes", family="Vries", email="hansje@example.org", dob=None, postcode="6222 CD")
    _, first, second = warned_then_reported_again(session, tmp_path, person(), other)
    a, b = (triage.report_triage(session, r)["recommendation"]["subject_ids"][0] for r in (first, second))
    assert a != b
    actions.merge(session, a, b, actor=Actor("analyst-dirk"), reason="Same person: the address register says so.")
    session.commit()
    summary = triage.triage_pending(session, actor=Actor("pipeline"))
    assert second in summary.report_ids
    rec = triage.report_triage(session, second)["recommendation"]
    assert (rec["outcome"], rec["flags"]) == ("CRIMINAL_CASE", ["aggravation"])
    assert [(x.kind, x.report_id) for x in registry.list_alerts(session)] == [("rereport_after_warning", second)]


def test_a_warned_person_behind_a_bare_ip_address_is_caught_once_identified(cli_env, tmp_path, monkeypatch):
    """The platform knew only an IP address; the subscriber request and the register name him."""
    from tiptriage.intake.domain import IpEvent

    monkeypatch.setenv("TIPTRIAGE_ACTOR", "analyst-anna")
    (tmp_path / "known.csv").write_text("hash_type,hash,category\n" + "".join(f"md5,{h},child_abuse\n" for h in KNOWN))
    run("bank", "import", str(tmp_path / "known.csv"), "--name", "known", "--format", "csv")
    first = arrive(tmp_path / "1", report("120000001", known(0), who=person()))
    warning = run("warnings", "propose", str(first), "-j", "First-time download of known material only.")
    run("warnings", "approve", str(warning["id"]), actor=Actor("teamlead-bram"))
    run("warnings", "deliver", str(warning["id"]), "--date", "2023-11-14", "--officer", "Agent 0412",
        "--unit", "Limburg", actor=Actor("officer-cor"))
    later = datetime(2024, 2, 1, 10, tzinfo=UTC)
    bare = replace(person(), given_name=None, family_name=None, date_of_birth=None, identifiers=(), addresses=(),
                   ip_events=(IpEvent("198.51.100.23", "Upload", later),))
    second = arrive(tmp_path / "2", report("120000888", known(2), who=bare, incident=later))
    assert run("explain", str(second))["recommendation"]["outcome"] == "NEEDS_IDENTIFICATION"

    unknown = runner.invoke(app, ["identify", "999", "--given-name", "Jan", "--family-name", "de Vries",
                                  "--source", "BRP", "--reference", "x", "--note", "y"])
    assert (unknown.exit_code, "no report with id 999" in unknown.output) == (1, True)
    empty = runner.invoke(app, ["identify", str(second), "--given-name", "", "--family-name", "de Vries",
                                "--source", "BRP", "--reference", "x", "--note", "y"])
    assert (empty.exit_code, "given name is empty" in empty.output) == (2, True)

    doc = run("identify", str(second), "--given-name", "Jan", "--family-name", "de Vries", "--birth-date",
              "1980-05-04", "--street", "Markt 1", "--postcode", "6211 AB", "--city", "Maastricht",
              "--source", "provider", "--reference", "126na-2024-0042", "--note", "Subscriber data, then BRP.",
              actor=Actor("analyst-eva"))
    assert (doc["linkage"], doc["outcome"], second in doc["retriaged"]) == ("linked", "CRIMINAL_CASE", True)
    alerts = run("alerts")
    assert [(a["kind"], a["report_id"], a["unit"]) for a in alerts] == [("rereport_after_warning", second, "Limburg")]
    shown = run("reports", "show", str(second))
    assert [(r["kind"], r["reference"]) for r in shown["triage"]["analyst_records"]] == [
        ("identification", "126na-2024-0042")]
