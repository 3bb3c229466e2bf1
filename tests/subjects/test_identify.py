"""Identification: the answer to NEEDS_IDENTIFICATION, and what linkage and triage make of it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from subjects import strategies as gen
from triage.dbdata import bank, ingest, known, person, report, reported_person

from tests_support import command
from tiptriage.accounts.actor import Actor
from tiptriage.audit.models import AuditEvent
from tiptriage.intake.domain import IpEvent
from tiptriage import flows
from tiptriage.registry import service as registry
from tiptriage.subjects import features
from tiptriage.subjects import actions, documents, linking, models
from tiptriage.subjects.identifiers import normalise_person
from tiptriage.subjects.identity import Identity
from tiptriage.subjects.models import Identification
from tiptriage.triage import service as triage

LATER = datetime(2024, 2, 1, 10, tzinfo=UTC)
JAN = Identity("Jan", "de Vries", date(1980, 5, 4), "Markt 1", "6211 AB", "Maastricht")


def ip_only(ip: str = "198.51.100.23") -> object:
    """A reported person the platform knew only by an IP address (no name, account or address)."""
    return replace(person(), given_name=None, family_name=None, date_of_birth=None, identifiers=(), addresses=(),
                   ip_events=(IpEvent(ip, "Upload", LATER),))


def arrive(session, folder, parsed) -> int:
    rid = ingest(session, folder, parsed)[0]
    linking.resolve_reports(session, [rid], actor=Actor("pipeline"))
    session.commit()
    triage.triage_pending(session, actor=Actor("pipeline"))
    return rid


def outcome(session, rid: int) -> dict:
    return triage.report_triage(session, rid, lang="en")["recommendation"]


def identify(session, rid: int, who: Identity = JAN, **kw):
    args = {"source": "provider", "reference": "126na-2024-0042", "note": "Subscriber data, then BRP.",
            "actor": Actor("analyst-eva")} | kw
    return triage.record_identification(session, rid, who, **args)


@pytest.fixture
def warned(session, tmp_path):
    """Jan de Vries got a warning (delivered 2023-11-14); then a report with only an IP address came in."""
    bank(session, tmp_path)
    first = arrive(session, tmp_path / "1", report("w-1", known(0)))
    warning = flows.propose_warning(session, first, actor=Actor("anna"), justification="First-time download.")
    flows.approve_warning(session, warning.id, actor=Actor("bram"))
    flows.deliver_warning(session, warning.id, actor=Actor("cor"), on=date(2023, 11, 14), officer="Agent 0412",
                          unit="Limburg", referral_offered=True)
    second = arrive(session, tmp_path / "2", report("w-2", known(1), who=ip_only(), incident=LATER))
    return first, second


def test_an_ip_only_report_waits_for_identification(session, warned):
    _, second = warned
    rec = outcome(session, second)
    assert (rec["outcome"], rec["facts"]["identified"]) == ("NEEDS_IDENTIFICATION", False)


def test_identifying_a_warned_person_behind_an_ip_only_report_escalates_it(session, warned):
    first, second = warned
    first_subject = outcome(session, first)["subject_ids"][0]
    own_subject = outcome(session, second)["subject_ids"][0]
    result = identify(session, second)
    assert (result.decision, result.subject_id, result.fused) == ("linked", first_subject, (own_subject,))
    rec = outcome(session, second)
    assert (rec["outcome"], rec["flags"], rec["facts"]["identified"], rec["trigger"]) == (
        "CRIMINAL_CASE", ["aggravation"], True, "identified")
    assert rec["rules"][0]["text"].startswith("Re-report after official warning (2023-11-14, Limburg)")
    assert [(a.kind, a.report_id) for a in registry.list_alerts(session)] == [("rereport_after_warning", second)]
    # Explained and undoable: the subject's history names the identification, a split restores.
    doc = documents.subject_document(session, first_subject, actor=Actor("analyst-eva"), reason="check")
    identify_ops = [op for op in doc["operations"] if op["kind"] == "identify"]
    assert identify_ops and "126na-2024-0042" in identify_ops[-1]["reason"]
    assert doc["links"][-1]["decision"] == "linked" and doc["links"][-1]["evidence"]["fields"]


def test_the_identification_is_audited_and_kept_with_the_report(session, warned):
    _, second = warned
    result = identify(session, second)
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "subjects.identification")).scalar_one()
    assert (event.actor, event.entity_ids, event.reason) == ("analyst-eva", [second], "Subscriber data, then BRP.")
    assert event.details["identification_id"] == result.identification_id
    assert event.details["decision"] == "linked"
    records = triage.analyst_records(session, second)
    assert [(r["kind"], r["name"], r["source"], r["reference"]) for r in records] == [
        ("identification", "Jan de Vries", "provider", "126na-2024-0042")]


def test_an_identified_stranger_stays_a_subject_of_their_own_and_gets_triaged_as_named(session, tmp_path):
    bank(session, tmp_path)
    rid = arrive(session, tmp_path / "1", report("s-1", known(0), who=ip_only()))
    assert outcome(session, rid)["outcome"] == "NEEDS_IDENTIFICATION"
    result = identify(session, rid, Identity("Fatima", "El Amrani", date(1990, 1, 2), "Kerkstraat 4", "1017 GC",
                                             "Amsterdam"), source="BRP")
    assert (result.decision, result.fused, result.review_ids) == ("new", (), ())
    rec = outcome(session, rid)
    assert (rec["outcome"], rec["facts"]["age_source"], rec["facts"]["in_jurisdiction"]) == (
        "WARNING", "register", True)


def test_a_provider_identification_s_date_of_birth_is_not_a_register_check(session, tmp_path):
    bank(session, tmp_path)
    rid = arrive(session, tmp_path / "1", report("s-1", known(0), who=ip_only()))
    identify(session, rid, Identity("Fatima", "El Amrani", date(1990, 1, 2)))
    assert outcome(session, rid)["facts"]["age_source"] == "reported"


def test_a_later_identification_counts_and_the_first_stays(session, tmp_path):
    bank(session, tmp_path)
    rid = arrive(session, tmp_path / "1", report("s-1", known(0), who=ip_only()))
    identify(session, rid, Identity("Fatima", "El Amrani", date(2009, 1, 2)), source="BRP")
    assert outcome(session, rid)["outcome"] == "YOUTH"
    identify(session, rid, Identity("Samira", "El Amrani", date(1975, 3, 3)), source="BRP",
             note="Correction: the mother uses the connection, not the daughter.")
    assert outcome(session, rid)["outcome"] == "WARNING"
    names = session.execute(select(Identification.given_name).order_by(Identification.id)).scalars().all()
    assert names == ["Fatima", "Samira"]


def test_across_a_subject_an_analyst_shaped_the_identification_asks_instead(session, warned, tmp_path):
    first, second = warned
    first_subject = outcome(session, first)["subject_ids"][0]
    # An analyst merged another report into the warned subject: nothing joins it without a look.
    hans = person(given="Johannes", family="Vries", email="hansje@example.org", dob=None, postcode="6222 CD")
    other = arrive(session, tmp_path / "3", report("w-3", known(2), who=hans))
    other_subject = outcome(session, other)["subject_ids"][0]
    assert other_subject != first_subject
    actions.merge(session, first_subject, other_subject, actor=Actor("dirk"), reason="Same man: the register says so.")
    session.commit()
    result = identify(session, second)
    assert (result.decision, result.fused, len(result.review_ids)) == ("review", (), 1)
    review = session.get(models.SubjectReview, result.review_ids[0])
    assert (review.kind, review.candidate_subject_id) == ("possible_same_subject", first_subject)
    rec = outcome(session, second)
    assert (rec["outcome"], rec["facts"]["possible_rereport_after_warning"]) == ("NEEDS_REVIEW", True)


@pytest.mark.parametrize(("change", "message"), [
    ({"who": Identity(" ", "de Vries")}, "given name is empty"),
    ({"who": Identity("Jan", "")}, "family name is empty"),
    ({"who": Identity("Jan", "de Vries", date(2999, 1, 1))}, "between 1900-01-01 and today"),
    ({"who": Identity("Jan", "de Vries", country="Nederland")}, "two-letter code"),
    ({"source": "Facebook"}, "provider, BRP, RNI, investigation"),
    ({"reference": " "}, "reference"),
    ({"note": ""}, "how the person was identified"),
])
def test_an_identification_is_refused_with_a_reason_and_nothing_is_stored(session, warned, change, message):
    _, second = warned
    change = dict(change)
    who = change.pop("who", JAN)
    session.commit()  # the commands before this one
    with pytest.raises(ValueError, match=message), command(session):
        identify(session, second, who, **change)
    assert session.execute(select(func.count()).select_from(Identification)).scalar_one() == 0
    assert outcome(session, second)["outcome"] == "NEEDS_IDENTIFICATION"


def test_an_unknown_report_and_an_ambiguous_one_are_refused(session, tmp_path):
    with pytest.raises(LookupError, match="no report with id 999"):
        identify(session, 999)
    bank(session, tmp_path)
    two = replace(ip_only("198.51.100.99"), ref="p2")
    rid = arrive(session, tmp_path / "1", report("two", known(0), who=ip_only(), extra=(two,)))
    session.commit()  # the commands before this one
    with pytest.raises(ValueError, match=r"names 2 reported persons \(p1, p2\): say which with --person"), command(session):
        identify(session, rid)
    assert identify(session, rid, person_ref="p2").person_id != reported_person(session, rid)


# --- the identified record: a property of any reported person and any identity ------------------------

identities = st.builds(Identity, gen.given_names, gen.family_names, st.none() | gen.birth_dates,
                       st.none() | st.just("Markt 1"), st.none() | st.just("6211 AB"), st.none() | st.just("Maastricht"))


@settings(max_examples=200, deadline=None)
@given(gen.reported_persons(), identities)
def test_an_identified_person_keeps_what_was_seen_and_takes_the_register_s_name(seen, who):
    person = features.identified(seen, who)
    assert (person.identifiers, person.ip_events, person.ref, person.role) == (
        seen.identifiers, seen.ip_events, seen.ref, seen.role)
    assert (person.given_name, person.family_name) == (who.given_name, who.family_name)
    assert person.date_of_birth == (who.date_of_birth or seen.date_of_birth)
    assert person.addresses[:len(seen.addresses)] == seen.addresses  # the report's addresses stay
    rec = features.record(1, normalise_person(person))
    # Everything the report let linkage find the person by is still a key of the identified record.
    before = features.record(1, normalise_person(seen))
    lost = {k for k in before["keys"] or () if k.startswith(("email:", "phone:", "uid:", "sn:", "dev:"))}
    assert lost <= set(rec["keys"] or ())


def test_a_warning_for_a_person_nobody_named_waits_for_the_identification(session, tmp_path):
    """A mailbox and a date of birth make a report triageable, but a warning is delivered to a person."""
    bank(session, tmp_path)
    mailbox = replace(person(), given_name=None, family_name=None, addresses=())
    rid = arrive(session, tmp_path / "1", report("u-1", known(0), who=mailbox))
    assert (outcome(session, rid)["outcome"], outcome(session, rid)["facts"]["named"]) == ("WARNING", False)
    warning = flows.propose_warning(session, rid, actor=Actor("anna"), justification="First-time download.")
    session.commit()  # the commands before this one
    with pytest.raises(registry.Unnamed, match=rf"no name is known .*tiptriage identify {rid} "), command(session):
        flows.approve_warning(session, warning.id, actor=Actor("bram"))
    identify(session, rid, Identity("Jan", "de Vries", date(1980, 5, 4)), source="provider")
    assert outcome(session, rid)["facts"]["named"] is True
    assert flows.approve_warning(session, warning.id, actor=Actor("bram")).warning.state == "approved"


def test_the_cli_refuses_an_identification_in_dutch_by_default(cli_env, monkeypatch):
    from typer.testing import CliRunner

    from tiptriage.cli import app

    monkeypatch.setenv("TIPTRIAGE_LANG", "nl")
    args = ["--family-name", "de Vries", "--source", "BRP", "--reference", "r", "--note", "n"]
    unknown = CliRunner().invoke(app, ["identify", "999", "--given-name", "Jan", *args])
    assert (unknown.exit_code, unknown.output.strip()) == (1, "geen melding met nummer 999")
    monkeypatch.setenv("TIPTRIAGE_LANG", "en")
    unknown = CliRunner().invoke(app, ["identify", "999", "--given-name", "Jan", *args])
    assert unknown.output.strip() == "no report with id 999"
