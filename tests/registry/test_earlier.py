"""Never a second warning: a warned person whom linkage kept apart (new e-mail, another name) is
flagged when a new warning is proposed, shown and approved, and approval needs an acknowledgement."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from triage.dbdata import ingest, known, person, report
from typer.testing import CliRunner

from registry.scenario import warned_then_reported_again
from tests_support import command
from tiptriage.accounts.actor import Actor
from tiptriage import config
from tiptriage.audit import service as audit
from tiptriage.audit.models import AuditEvent
from tiptriage.cli import app
from tiptriage.db import make_engine, session_factory
from tiptriage.intake.domain import Address, Identifier, IpEvent
from tiptriage import flows
from tiptriage.registry import service as registry
from tiptriage.subjects import linking, membership
from tiptriage.triage import service as triage

JAN = replace(person(), identifiers=(Identifier("email", "jan.devries@example.nl", True, None),
                                     Identifier("phone", "06-12345678", None, None)))
# Another name and a new mailbox, but Jan's phone: linkage holds this apart (a household member?).
ALIAS = replace(person(given="Piet", family="Jansen", dob=None, postcode=None),
                identifiers=(Identifier("email", "pj.1980@example.com", True, None),
                             Identifier("phone", "+31 6 1234 5678", None, None)))
STRANGER = replace(person(given="Karel", family="Bos", email="karel.bos@example.org", dob=date(1975, 1, 2),
                          postcode="1011 AA"), addresses=(Address("Damrak 5", "1011 AA", "Amsterdam", "NL"),))


def _warned_and_again(session, tmp_path, again) -> tuple[int, int]:
    """Jan is warned; then `again` is reported, linked apart: (Jan's warning, the new report)."""
    warning, _, second = warned_then_reported_again(session, tmp_path, JAN, again)
    return warning, second


def test_a_warned_person_with_a_new_email_but_the_same_phone_is_flagged(session, tmp_path):
    earlier, second = _warned_and_again(session, tmp_path, ALIAS)
    warning = flows.propose_warning(session, second, actor=Actor("anna"), justification="Looks like a first time.")
    found = registry_search(session, warning)
    assert [(d["warning_id"], d["state"], d["unit"]) for d in found] == [(earlier, "delivered", "Limburg")]
    assert found[0]["evidence"] == [{"field": "phone", "value": "+31612345678", "earlier_value": "+31612345678"}]


def test_the_same_address_with_another_spelling_is_flagged(session, tmp_path):
    moved_in = replace(ALIAS, identifiers=ALIAS.identifiers[:1],
                       addresses=(Address("Markt 1-A", "6211ab", "Maastricht", "NL"),))
    earlier, second = _warned_and_again(session, tmp_path, moved_in)
    warning = flows.propose_warning(session, second, actor=Actor("anna"), justification="x")
    [found] = registry_search(session, warning)
    assert (found["warning_id"], found["evidence"]) == (earlier, [
        {"field": "address", "value": "6211AB markt 1a", "earlier_value": "6211AB markt 1"}])


def test_an_unrelated_person_is_not_flagged(session, tmp_path):
    _, second = _warned_and_again(session, tmp_path, STRANGER)
    warning = flows.propose_warning(session, second, actor=Actor("anna"), justification="x")
    assert registry_search(session, warning) == []
    assert flows.approve_warning(session, warning.id, actor=Actor("bram")).warning.state == "approved"


def test_approval_is_refused_without_acknowledgement_and_recorded_with_it(session, tmp_path):
    earlier, second = _warned_and_again(session, tmp_path, ALIAS)
    warning = flows.propose_warning(session, second, actor=Actor("anna"), justification="x")
    triage.record_birth_date(session, second, date(1982, 4, 17), source="BRP", actor=Actor("bram"),
                             note="BRP: Piet Jansen, born 1982-04-17.")  # Piet's reports state no age
    session.commit()  # the commands before this one
    with pytest.raises(registry.EarlierWarnings, match=f"earlier warnings {earlier}"), command(session):
        flows.approve_warning(session, warning.id, actor=Actor("bram"))
    assert session.get(type(warning), warning.id).state == "proposed"
    approval = flows.approve_warning(session, warning.id, actor=Actor("bram"),
                                     acknowledgement="Population register: Piet Jansen is Jan's brother.")
    assert approval.warning.state == "approved" and [d["warning_id"] for d in approval.earlier] == [earlier]
    event = _last(session, "warning.approve")
    assert (event.reason, event.details["earlier_warnings"]) == (
        "Population register: Piet Jansen is Jan's brother.", [earlier])
    searches = [e.details["purpose"] for e in _all(session, "warning.earlier_search")]
    assert searches == ["approve", "approve", "approve"]  # Jan's own approval, the refusal, the approval
    assert audit.verify(session).ok


def registry_search(session, warning) -> list[dict]:
    from tiptriage.registry.earlier import possible_earlier_warnings

    return possible_earlier_warnings(session, warning, actor=Actor("test"), purpose="test")


def _all(session, action: str) -> list[AuditEvent]:
    return list(session.execute(select(AuditEvent).where(AuditEvent.action == action)
                                .order_by(AuditEvent.seq)).scalars())


def _last(session, action: str) -> AuditEvent:
    return _all(session, action)[-1]


# --- the CLI ---------------------------------------------------------------------------------------

runner = CliRunner()


def cli(*args: str, actor: str, lang: str = "en"):
    import os

    os.environ["TIPTRIAGE_ACTOR"], os.environ["TIPTRIAGE_LANG"] = actor, lang
    config.get_settings.cache_clear()
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_the_cli_shows_earlier_warnings_and_approval_needs_acknowledgement(cli_env, tmp_path, monkeypatch):
    monkeypatch.setenv("TIPTRIAGE_ACTOR", "anna")
    engine = make_engine(cli_env)
    with session_factory(engine)() as s:
        earlier, second = _warned_and_again(s, tmp_path, ALIAS)
        s.commit()
    engine.dispose()

    proposed = cli("warnings", "propose", str(second), "-j", "First time?", "--json", actor=Actor("anna"))
    assert proposed.exit_code == 0, proposed.output
    doc = json.loads(proposed.stdout)
    assert [(d["warning_id"], d["evidence"][0]["field"]) for d in doc["possible_earlier_warnings"]] == [
        (earlier, "phone")]

    shown = cli("warnings", "show", str(doc["id"]), actor=Actor("bram"), lang="nl")
    assert "Mogelijk eerdere waarschuwingen" in shown.stdout
    assert f"waarschuwing {earlier} (uitgereikt, eenheid Limburg): telefoon +31612345678" in shown.stdout

    checked = cli("birth-date", str(second), "--date", "1982-04-17", "--source", "BRP", "--note",
                  "BRP: Piet Jansen.", actor=Actor("bram"))  # Piet's reports state no age
    assert checked.exit_code == 0, checked.output
    refused = cli("warnings", "approve", str(doc["id"]), actor=Actor("bram"))
    assert refused.exit_code == 1
    assert f"earlier warnings {earlier} may concern the same person" in refused.output
    assert "--acknowledge-earlier" in refused.output

    approved = cli("warnings", "approve", str(doc["id"]), "--acknowledge-earlier", "Brother, checked.", "--json",
                   actor=Actor("bram"))
    assert approved.exit_code == 0, approved.output
    assert json.loads(approved.stdout)["state"] == "approved"
    searches = json.loads(cli("audit", "log", "--action", "warning.earlier_search", "--json", actor=Actor("bram")).stdout)
    assert [(e["actor"], e["reason"]) for e in searches[:4]] == [  # newest first
        ("bram", "approve"), ("bram", "approve"), ("bram", "show"), ("anna", "propose")]
    approvals = json.loads(cli("audit", "log", "--action", "warning.approve", "--json", actor=Actor("bram")).stdout)
    assert approvals[0]["reason"] == "Brother, checked."


def test_a_home_connection_flags_but_an_address_many_people_use_does_not(session, tmp_path):
    """A stranger reported from the warned man's home connection is flagged (a household member,
    or Jan himself); once four different people have used that address it is a NAT or a café, and
    linkage's fan-out guard makes it no evidence here as well."""
    at = datetime(2023, 3, 1, 9, tzinfo=UTC)
    home = (IpEvent("94.210.1.2", "Login", at),)
    _, _, second = warned_then_reported_again(session, tmp_path, replace(JAN, ip_events=home),
                                              replace(STRANGER, ip_events=home))
    warning = flows.propose_warning(session, second, actor=Actor("anna"), justification="x")
    [found] = registry_search(session, warning)
    assert found["evidence"] == [{"field": "ip", "value": "94.210.1.2", "earlier_value": "94.210.1.2"}]
    others = [replace(person(given=g, family="Smit", email=f"{g.lower()}@example.org", dob=date(1990, 1, n + 1),
                             postcode=None), ip_events=home) for n, g in enumerate(("Anna", "Bas", "Cas"))]
    ids = ingest(session, tmp_path / "3", *(report(f"b-{n}", known(2), who=p) for n, p in enumerate(others)))
    linking.resolve_reports(session, ids, actor=Actor("pipeline"))
    session.commit()
    assert registry_search(session, warning) == []


# --- names: what a person approving a warning would notice ------------------------------------------

BARTHOLOMEUS = replace(person(given="Bartholomeus", family="Ponci", email="b.ponci@example.nl", dob=date(1989, 7, 7),
                              postcode=None), ip_events=())
BART = replace(person(given="Bart", family="Ponci", email=None, dob=None, postcode="8024 LP"), ip_events=(),
               identifiers=(Identifier("esp_user_id", "661567157", None, "Platform B"),))


def test_a_rare_family_name_with_a_compatible_given_name_is_flagged_without_a_birth_year(session, tmp_path):
    earlier, _, second = warned_then_reported_again(session, tmp_path, BARTHOLOMEUS, BART)
    warning = flows.propose_warning(session, second, actor=Actor("anna"), justification="x")
    [found] = registry_search(session, warning)
    assert (found["warning_id"], found["evidence"]) == (earlier, [
        {"field": "name", "value": "bart ponci", "earlier_value": "bartholomeus ponci"}])


def test_a_common_family_name_without_a_birth_year_is_not_flagged(session, tmp_path):
    warned, again = (replace(p, family_name="de Vries") for p in (BARTHOLOMEUS, BART))
    _, _, second = warned_then_reported_again(session, tmp_path, warned, again)
    others = [replace(STRANGER, given_name=g, family_name="de Vries", identifiers=(
        Identifier("email", f"{g}@example.org", True, None),)) for g in ("Anna", "Bas", "Cas")]
    ids = ingest(session, tmp_path / "3", *(report(f"v-{n}", known(2), who=p) for n, p in enumerate(others)))
    linking.resolve_reports(session, ids, actor=Actor("pipeline"))
    session.commit()
    warning = flows.propose_warning(session, second, actor=Actor("anna"), justification="x")
    assert registry_search(session, warning) == []


def test_names_and_birth_years_are_compared_per_subject_not_per_report(session, tmp_path):
    """One report of the new subject gives the full name, another of the same account only the given
    name and birth year; the warned man's birth year is known: together they are his."""
    warned = replace(BARTHOLOMEUS, family_name="Oosterhout", given_name="Merijn", date_of_birth=date(1971, 12, 2))
    named = replace(warned, date_of_birth=None, identifiers=(Identifier("esp_user_id", "5337303987", None, "P"),))
    earlier, _, second = warned_then_reported_again(session, tmp_path, warned, named)
    aged = replace(named, family_name=None, date_of_birth=date(1971, 1, 1))
    third = ingest(session, tmp_path / "3", report("m-3", known(2), who=aged))[0]
    linking.resolve_reports(session, [third], actor=Actor("pipeline"))
    session.commit()
    assert triage.facts_now(session, [third])[third]["subject_ids"] == triage.facts_now(session, [second])[second][
        "subject_ids"]
    warning = flows.propose_warning(session, second, actor=Actor("anna"), justification="x")
    [found] = registry_search(session, warning)
    assert [e["field"] for e in found["evidence"]] == ["name"] and found["warning_id"] == earlier


def _distributed_then_reported_again(session, tmp_path, again) -> tuple[int, int]:
    """Jan distributed (a file uploaded to someone) in one report; then `again` is reported, linked
    apart and recommended a WARNING: (the report that distributed, the new one)."""
    from registry.scenario import LATER
    from triage.dbdata import bank

    bank(session, tmp_path)
    first = ingest(session, tmp_path / "1", report("d-1", known(0, "upload"), who=JAN))[0]
    second = ingest(session, tmp_path / "2", report("d-2", known(1), who=again, incident=LATER))[0]
    linking.resolve_reports(session, [first, second], actor=Actor("pipeline"))
    session.commit()
    triage.triage_pending(session, actor=Actor("pipeline"))
    assert triage.report_triage(session, first)["recommendation"]["facts"]["distributed"]
    assert triage.report_triage(session, second)["recommendation"]["outcome"] == "WARNING"
    return first, second


def test_a_person_who_may_have_distributed_in_a_report_linkage_kept_apart_is_not_warned_unasked(session, tmp_path):
    first, second = _distributed_then_reported_again(session, tmp_path, ALIAS)
    triage.record_birth_date(session, second, date(1982, 4, 17), source="BRP", actor=Actor("bram"),
                             note="BRP: Piet Jansen, born 1982-04-17.")
    warning = flows.propose_warning(session, second, actor=Actor("anna"), justification="x")
    session.commit()
    distributor = membership.subject_of_persons(session, [_person(session, first)])[_person(session, first)]
    session.commit()  # the commands before this one
    with pytest.raises(registry.PossibleDistribution, match=f"subjects {distributor} distributed"), command(session):
        flows.approve_warning(session, warning.id, actor=Actor("bram"))
    assert session.get(type(warning), warning.id).state == "proposed"
    searched = session.execute(select(AuditEvent.details).where(
        AuditEvent.action == "warning.distribution_search")).scalars().all()
    assert searched and searched[-1]["found"] == [distributor]
    approval = flows.approve_warning(session, warning.id, actor=Actor("bram"),
                                     acknowledgement="BRP: Piet Jansen is not Jan de Vries.")
    assert approval.warning.state == "approved"
    assert approval.distribution[0]["evidence"] == [
        {"field": "phone", "value": "+31612345678", "earlier_value": "+31612345678"}]


def test_a_stranger_is_not_held_for_someone_elses_distribution(session, tmp_path):
    _, second = _distributed_then_reported_again(session, tmp_path, STRANGER)
    warning = flows.propose_warning(session, second, actor=Actor("anna"), justification="x")
    assert flows.approve_warning(session, warning.id, actor=Actor("bram")).distribution == []


def _person(session, report_id: int) -> int:
    from tiptriage.intake.models import ReportedPersonRow

    return session.execute(select(ReportedPersonRow.id).where(ReportedPersonRow.report_id == report_id,
                                                              ReportedPersonRow.role == "reported")).scalar_one()
