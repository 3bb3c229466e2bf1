"""The warning registry, escalation and de-confliction on the database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from triage.dbdata import bank, ingest, known, person, report, reported_person

from tests_support import command
from tiptriage.accounts.actor import Actor
from tiptriage.audit.models import AuditEvent
from tiptriage import flows
from tiptriage.registry import service as registry
from tiptriage.registry.models import Alert, WarningEvent
from tiptriage.triage import service as triage
from tiptriage.triage.models import TriageState
from tiptriage.triage.subjectlinks import FixedLinks

LATER = datetime(2024, 2, 1, 10, tzinfo=UTC)


@pytest.fixture
def warned_pair(session, tmp_path):
    """Two reports of one subject: the first ends in a warning, the second came in later."""
    bank(session, tmp_path)
    ids = ingest(session, tmp_path / "in", report("first", known(0)), report("later", known(1), incident=LATER))
    links = FixedLinks({reported_person(session, i): 7 for i in ids})
    triage.triage_reports(session, ids[:1], actor=Actor("analyst"), links=links)
    return ids, links


def test_warning_lifecycle_with_four_eyes(session, warned_pair):
    (first, _), links = warned_pair
    warning = flows.propose_warning(session, first, actor=Actor("anna"), justification="First-time download.", links=links)
    assert (warning.state, session.get(TriageState, first).status) == ("proposed", "awaiting_approval")
    session.commit()  # the commands before this one
    with pytest.raises(registry.RegistryError, match="a second person must approve"), command(session):
        flows.approve_warning(session, warning.id, actor=Actor("anna"))
    session.commit()  # the commands before this one
    with pytest.raises(registry.RegistryError, match="only a approved warning can deliver"), command(session):
        registry.deliver(session, warning.id, actor=Actor("bob"), on=date(2023, 11, 14), officer="x", referral_offered=True)
    flows.approve_warning(session, warning.id, actor=Actor("bob"))
    assert session.get(TriageState, first).status == "decided"
    flows.deliver_warning(session, warning.id, actor=Actor("carla"), on=date(2023, 11, 14), officer="Agent 12",
                          unit="Limburg", referral_offered=True, referral_accepted=True, links=links)
    doc = registry.warning_doc(session, warning, history=True)
    assert (doc["state"], doc["expires_on"], doc["delivered_by"]) == ("delivered", date(2028, 11, 14), "Agent 12")
    assert [e["state"] for e in doc["history"]] == ["proposed", "approved", "delivered"]
    actions = list(session.execute(select(AuditEvent.action).where(AuditEvent.action.like("warning.%"))
                        .order_by(AuditEvent.seq)).scalars())
    assert actions == ["warning.propose", "warning.earlier_search", "warning.distribution_search", "warning.approve",
                       "warning.deliver"]


def test_expiry_is_shown_from_the_end_date(session, warned_pair, monkeypatch):
    (first, _), links = warned_pair
    monkeypatch.setenv("TIPTRIAGE_WARNING_ACTIVE_YEARS", "1")
    from tiptriage import config
    config.get_settings.cache_clear()
    warning = flows.propose_warning(session, first, actor=Actor("anna"), justification="x", links=links)
    flows.approve_warning(session, warning.id, actor=Actor("bob"))
    flows.deliver_warning(session, warning.id, actor=Actor("bob"), on=date(2020, 3, 9), officer="o", referral_offered=False,
                          links=links)
    assert registry.warning_doc(session, warning)["state"] == "expired"
    assert [w.id for w in registry.list_warnings(session, state="expired")] == [warning.id]
    assert registry.list_warnings(session, state="delivered") == []


def warn_then_report_again(session, first: int, later: int, links) -> None:
    """A warning for `first`, approved by a second person and delivered in Rotterdam; then `later` is triaged."""
    warning = flows.propose_warning(session, first, actor=Actor("anna"), justification="x", links=links)
    flows.approve_warning(session, warning.id, actor=Actor("bob"))
    flows.deliver_warning(session, warning.id, actor=Actor("bob"), on=date(2023, 11, 14), officer="o", unit="Rotterdam",
                          referral_offered=True, links=links)
    triage.triage_reports(session, [later], actor=Actor("analyst"), links=links)


def test_a_re_report_after_delivery_escalates_with_aggravation_and_alerts_both_units(session, warned_pair):
    (first, later), links = warned_pair
    warn_then_report_again(session, first, later, links)
    doc = triage.report_triage(session, later, lang="en")["recommendation"]
    assert (doc["outcome"], doc["decided_by"], "aggravation" in doc["flags"]) == (
        "CRIMINAL_CASE", "rereport-after-warning", True)
    assert "(2023-11-14, Rotterdam)" in doc["rules"][0]["text"]
    alerts = {(a.kind, a.unit, a.other_unit) for a in session.execute(select(Alert)).scalars()}
    assert alerts == {("rereport_after_warning", "Limburg", "Rotterdam"),
                      ("rereport_after_warning", "Rotterdam", "Limburg")}
    triage.triage_all(session, actor=Actor("analyst"), links=links)
    assert len(registry.list_alerts(session)) == 2  # raised once
    first_doc = triage.report_triage(session, first, lang="en")["recommendation"]
    assert first_doc["outcome"] == "WARNING"  # the warned report itself stays what it was


def test_a_revoked_warning_no_longer_escalates(session, warned_pair):
    (first, later), links = warned_pair
    warning = flows.propose_warning(session, first, actor=Actor("anna"), justification="x", links=links)
    flows.approve_warning(session, warning.id, actor=Actor("bob"))
    flows.deliver_warning(session, warning.id, actor=Actor("bob"), on=date(2023, 11, 14), officer="o",
                          referral_offered=True, links=links)
    assert triage.report_triage(session, later)["recommendation"]["outcome"] == "CRIMINAL_CASE"
    flows.revoke_warning(session, warning.id, actor=Actor("chief"), reason="Wrong person: a namesake.", links=links)
    assert triage.report_triage(session, later)["recommendation"]["outcome"] == "WARNING"
    with pytest.raises(registry.RegistryError, match="already revoked"):
        registry.revoke(session, warning.id, actor=Actor("chief"), reason="again")


def test_a_pending_warning_can_be_revoked_and_the_decision_reopens(session, warned_pair):
    (first, _), links = warned_pair
    warning = flows.propose_warning(session, first, actor=Actor("anna"), justification="x", links=links)
    flows.revoke_warning(session, warning.id, actor=Actor("bob"), reason="Not yet: await the bank update.", links=links)
    assert session.get(TriageState, first).status == "reopened"
    events = session.execute(select(WarningEvent.state).where(WarningEvent.warning_id == warning.id)
                             .order_by(WarningEvent.id)).scalars()
    assert list(events) == ["proposed", "revoked"]


def test_deconfliction_tells_both_units_and_closing_ends_it(session, warned_pair):
    (first, later), links = warned_pair
    triage.decide(session, first, actor=Actor("anna"), justification="Known searcher.", outcome="CRIMINAL_CASE",
                  unit="Oost-Nederland", links=links)
    doc = triage.report_triage(session, later)["recommendation"]
    assert (doc["outcome"], doc["flags"]) == ("CRIMINAL_CASE", ["deconfliction"])
    units = sorted((a.unit, a.other_unit) for a in registry.list_alerts(session))
    assert units == [("Limburg", "Oost-Nederland"), ("Oost-Nederland", "Limburg")]
    item = registry.list_investigations(session)[0]
    flows.close_investigation(session, item.id, actor=Actor("anna"), reason="Case closed by the prosecutor.", links=links)
    assert triage.report_triage(session, later)["recommendation"]["outcome"] == "WARNING"


def test_acknowledging_an_alert(session, warned_pair):
    (first, _), links = warned_pair
    triage.decide(session, first, actor=Actor("anna"), justification="x", outcome="URGENT", links=links)
    alert = registry.list_alerts(session)[0]
    registry.acknowledge(session, alert.id, actor=Actor("bob"))
    session.commit()
    assert alert not in registry.list_alerts(session)
    assert registry.list_alerts(session, open_only=False)[0].acknowledged_by == "bob"


def test_history_of_a_subject(session, warned_pair):
    (first, later), links = warned_pair
    warning = flows.propose_warning(session, first, actor=Actor("anna"), justification="x", links=links)
    flows.approve_warning(session, warning.id, actor=Actor("bob"))
    flows.deliver_warning(session, warning.id, actor=Actor("bob"), on=date(2023, 11, 14), officer="o",
                          referral_offered=True, links=links)
    doc = flows.subject_history(session, 7, actor=Actor("bob"), links=links)
    assert [(r["report_id"], r["outcome"]) for r in doc["reports"]] == [(first, "WARNING"), (later, "CRIMINAL_CASE")]
    assert [w["state"] for w in doc["warnings"]] == ["delivered"]
    assert {a["kind"] for a in doc["alerts"]} == {"rereport_after_warning"}


def test_a_possible_match_with_a_warned_subject_blocks_the_warning_and_alerts(session, warned_pair):
    (first, later), _ = warned_pair
    one, other = reported_person(session, first), reported_person(session, later)
    unsure = FixedLinks({one: 7, other: 8}, candidates={other: [7]})
    warning = flows.propose_warning(session, first, actor=Actor("anna"), justification="x", links=unsure)
    flows.approve_warning(session, warning.id, actor=Actor("bob"))
    flows.deliver_warning(session, warning.id, actor=Actor("bob"), on=date(2023, 11, 14), officer="o", unit="Limburg",
                          referral_offered=True, links=unsure)
    triage.triage_reports(session, [later], actor=Actor("analyst"), links=unsure)
    doc = triage.report_triage(session, later, lang="en")["recommendation"]
    assert (doc["outcome"], doc["decided_by"], doc["facts"]["possible_warned_subject"]) == (
        "NEEDS_REVIEW", "possible-rereport", 7)
    assert [(a.kind, a.warning_id) for a in registry.list_alerts(session)] == [("possible_rereport", warning.id)]
    sure = FixedLinks({one: 7, other: 7})
    triage.triage_reports(session, [later], actor=Actor("analyst"), links=sure)
    assert triage.report_triage(session, later)["recommendation"]["outcome"] == "CRIMINAL_CASE"


# --- the age check before approval ------------------------------------------------------------------

@pytest.fixture
def ageless(session, tmp_path):
    return propose_for_an_ageless_person(session, tmp_path)


def propose_for_an_ageless_person(session, tmp_path) -> tuple[int, int, FixedLinks]:
    """A first-time download by a person whose reports state no age (WARNING, flag age_unknown),
    with a proposed warning: (report id, warning id, links)."""
    bank(session, tmp_path)
    [report_id] = ingest(session, tmp_path / "in", report("ageless", known(0), who=person(dob=None)))
    links = FixedLinks({reported_person(session, report_id): 9})
    triage.triage_reports(session, [report_id], actor=Actor("analyst"), links=links)
    assert "age_unknown" in triage.report_triage(session, report_id)["recommendation"]["flags"]
    warning = flows.propose_warning(session, report_id, actor=Actor("anna"), justification="First-time download.",
                                    links=links)
    return report_id, warning.id, links


def test_approval_needs_a_known_age_and_is_refused_for_a_minor_by_the_register(session, ageless):
    report_id, warning_id, links = ageless
    session.commit()  # the commands before this one
    with pytest.raises(registry.AgeUnknown, match=f"tiptriage birth-date {report_id} "), command(session):
        flows.approve_warning(session, warning_id, actor=Actor("bob"), links=links)
    triage.record_birth_date(session, report_id, date(2007, 1, 20), source="BRP", actor=Actor("bob"),
                             note="BRP query 2024-0211.", links=links)
    assert triage.report_triage(session, report_id)["recommendation"]["outcome"] == "YOUTH"
    session.commit()  # the commands before this one
    with pytest.raises(registry.YouthTrack, match=f"the person was 16 at the incident of report {report_id}"), command(session):
        flows.approve_warning(session, warning_id, actor=Actor("bob"), links=links)
    triage.record_birth_date(session, report_id, date(1987, 1, 20), source="BRP", actor=Actor("bob"),
                             note="Corrected: the first query found his son.", links=links)
    approval = flows.approve_warning(session, warning_id, actor=Actor("bob"), links=links)
    assert approval.warning.state == "approved"
    actions = session.execute(select(AuditEvent.action).where(AuditEvent.action.in_(
        ("triage.birth_date", "warning.approve"))).order_by(AuditEvent.seq)).scalars().all()
    assert actions == ["triage.birth_date", "triage.birth_date", "warning.approve"]


def test_the_cli_refuses_approval_without_a_register_check_in_dutch_by_default(cli_env, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from tiptriage.cli import app
    from tiptriage.db import make_engine, session_factory

    engine = make_engine(cli_env)
    with session_factory(engine)() as s:
        report_id, warning_id, _ = propose_for_an_ageless_person(s, tmp_path)
        s.commit()
    engine.dispose()
    runner = CliRunner()

    def approve(lang: str):
        monkeypatch.setenv("TIPTRIAGE_LANG", lang)
        return runner.invoke(app, ["warnings", "approve", str(warning_id)], env={"TIPTRIAGE_ACTOR": "bob"})

    dutch = approve("nl")
    text = " ".join(dutch.output.split())
    assert dutch.exit_code == 1 and "de leeftijd bij het incident van melding" in text
    assert f"tiptriage birth-date {report_id} --date JJJJ-MM-DD --source BRP" in text
    assert "the age at the incident" in " ".join(approve("en").output.split())
    checked = runner.invoke(app, ["birth-date", str(report_id), "--date", "1987-01-20", "--source", "BRP",
                                  "--note", "BRP query 2024-0212."], env={"TIPTRIAGE_ACTOR": "bob"})
    assert checked.exit_code == 0, checked.output
    assert approve("en").exit_code == 0


def test_a_warned_report_stays_answered_after_a_re_report_and_its_investigation_and_gets_no_second_warning(
        session, warned_pair):
    """Tried before: after a re-report, closing the investigation it started reopened the warned
    report as WARNING, and a second warning could be proposed for it."""
    (first, later), links = warned_pair
    warn_then_report_again(session, first, later, links)
    triage.decide(session, later, actor=Actor("anna"), justification="Re-report: search.", links=links, unit="Rotterdam")
    assert session.get(TriageState, first).status == "decided"
    item = registry.list_investigations(session)[0]
    flows.close_investigation(session, item.id, actor=Actor("anna"), reason="Prosecutor decided.", links=links)
    state = session.get(TriageState, first)
    assert state.status == "decided" and state.decision_id is not None
    doc = triage.report_triage(session, first)["recommendation"]
    assert "warned_for_report" in doc["flags"]
    open_ids = {row["report_id"] for row in triage.queue(session)}
    assert first not in open_ids
    with pytest.raises(triage.DecisionError):
        flows.propose_warning(session, first, actor=Actor("anna"), justification="again", links=links)
    with pytest.raises(registry.RegistryError, match="already has warning"):
        registry.propose(session, [first], actor=Actor("anna"), unit="Rotterdam", justification="again")
