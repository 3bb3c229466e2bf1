"""Triage on the database: recommendations, re-triage, history, queue, decisions, risk items and
verified dates of birth."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tiptriage.accounts.actor import Actor
from tiptriage.audit.models import AuditEvent
from tiptriage.media import service as media
from tiptriage.triage import service
from tiptriage.triage.models import Decision, Recommendation, TriageState, VerifiedBirthDate
from tiptriage.triage.subjectlinks import FixedLinks

from .dbdata import bank, fresh, ids_of, ingest, known, person, report, reported_person


@pytest.fixture
def four(session, tmp_path):
    bank(session, tmp_path)
    return ingest(session, tmp_path / "in", report("1", known(0), known(1)), report("2", known(0, "upload")),
                  report("3", fresh("x")), report("4", fresh("y", None), known(2)))


def outcomes(session) -> dict[int, str]:
    return dict(session.execute(select(TriageState.report_id, TriageState.outcome)).all())


def test_each_report_gets_a_recommendation_with_facts_rules_and_policy(session, four):
    summary = service.triage_reports(session, four, actor=Actor("analyst"))
    assert (summary.triaged, summary.recommended, summary.unchanged) == (4, 4, 0)
    assert outcomes(session) == dict(zip(four, ("WARNING", "CRIMINAL_CASE", "URGENT", "NEEDS_REVIEW"), strict=True))
    rec = session.execute(select(Recommendation).where(Recommendation.report_id == four[1])).scalar_one()
    assert (rec.seq, rec.policy_id, rec.decided_by, rec.unit, rec.facts["distributed"]) == (
        1, "nl-2023", "distributed", "Limburg", True)
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "triage.recommend")).scalar_one()
    assert sorted(event.entity_ids) == sorted(four)


def test_triaging_again_without_change_stores_nothing(session, four):
    service.triage_reports(session, four, actor=Actor("analyst"))
    again = service.triage_reports(session, four, actor=Actor("analyst"))
    assert (again.recommended, again.unchanged) == (0, 4)
    assert session.execute(select(func.count()).select_from(Recommendation)).scalar_one() == 4


def test_recommendations_are_immutable(session, four):
    service.triage_reports(session, four, actor=Actor("analyst"))
    rec = session.execute(select(Recommendation).limit(1)).scalar_one()
    rec.outcome = "NO_ACTION"
    with pytest.raises(RuntimeError, match="immutable"):
        session.flush()
    session.rollback()


def test_a_bank_update_queues_and_re_triage_adds_a_recommendation_keeping_history(session, four, tmp_path):
    service.triage_reports(session, four, actor=Actor("analyst"))
    bank(session, tmp_path, [service_md5 for service_md5 in _unrated_hash()], name="late")
    assert four[3] in media.pending_retriage(session)
    summary = service.triage_pending(session, actor=Actor("analyst"))
    assert summary.report_ids == [four[3]]
    doc = service.report_triage(session, four[3], lang="en")
    assert [h["outcome"] for h in doc["history"]] == ["NEEDS_REVIEW", "WARNING"]
    assert doc["history"][1]["trigger"] == "manual"
    assert media.pending_retriage(session) == []


def _unrated_hash() -> list[str]:
    from .dbdata import md5

    return [md5("y")]


def test_explanation_uses_the_stored_policy_text_in_the_chosen_language(session, four):
    service.triage_reports(session, four, actor=Actor("analyst"))
    nl = service.report_triage(session, four[1], lang="nl")["recommendation"]
    en = service.report_triage(session, four[1], lang="en")["recommendation"]
    assert nl["rules"][0]["text"].startswith("Verspreid (1 bestand(en)")
    assert en["rules"][0]["text"].startswith("Distributed (1 file(s)")
    assert en["rules"][0]["basis"].startswith("Art. 240b")


def test_queue_orders_by_outcome_class_then_priority_then_age(session, tmp_path):
    bank(session, tmp_path)
    ids = ingest(session, tmp_path / "in", report("a", known(0)), report("b", known(0, "upload")),
                 report("c", known(0, "upload"), fresh("z", "A1", "upload")),
                 report("d", known(0, "upload"), known(1, "download", classification="A1")))
    service.triage_reports(session, ids, actor=Actor("analyst"))
    order = [r["external_id"] for r in service.queue(session)]
    assert order == ["c", "d", "b", "a"]
    assert [r["external_id"] for r in service.queue(session, outcome="WARNING")] == ["a"]
    assert service.queue(session, unit="Amsterdam") == []
    # Pages of any size, across the outcome classes' boundaries, are the queue in order.
    for size in (1, 2, 3):
        pages = [service.queue(session, limit=size, offset=start) for start in range(0, 5, size)]
        assert [r["external_id"] for page in pages for r in page] == order


def test_a_confirmed_case_opens_an_investigation_that_the_subjects_other_reports_show(session, tmp_path):
    bank(session, tmp_path)
    ids = ingest(session, tmp_path / "in", report("a", known(0, "upload")), report("b", known(1)))
    links = FixedLinks({reported_person(session, ids[0]): 1, reported_person(session, ids[1]): 1})
    service.triage_reports(session, ids, actor=Actor("analyst"), links=links)
    # The person uploaded in report a: report b, a download, is no warning but part of that case.
    assert outcomes(session)[ids[1]] == "CRIMINAL_CASE"
    assert service.report_triage(session, ids[1])["recommendation"]["decided_by"] == "distributed-elsewhere"
    decision = service.decide(session, ids[0], actor=Actor("analyst"), justification="Search warranted.", links=links,
                              unit="Rotterdam")
    assert (decision.kind, decision.outcome) == ("confirm", "CRIMINAL_CASE")
    assert outcomes(session)[ids[1]] == "CRIMINAL_CASE"
    doc = service.report_triage(session, ids[1], lang="en")
    assert doc["recommendation"]["decided_by"] == "under-investigation"
    assert "Rotterdam" in doc["recommendation"]["rules"][0]["text"]


def test_decisions_need_a_justification_and_respect_the_hard_rules(session, four):
    service.triage_reports(session, four, actor=Actor("analyst"))
    with pytest.raises(service.DecisionError, match="justification"):
        service.decide(session, four[0], actor=Actor("analyst"), justification="  ")
    with pytest.raises(service.DecisionError, match="never WARNING when anything was distributed"):
        service.decide(session, four[1], actor=Actor("analyst"), justification="x", outcome="WARNING")
    override = service.decide(session, four[1], actor=Actor("analyst"), justification="Only one file, a meme.",
                              outcome="NEEDS_REVIEW")
    assert (override.kind, override.outcome) == ("override", "NEEDS_REVIEW")
    state = session.get(TriageState, four[1])
    assert (state.status, state.decision_id) == ("decided", override.id)


def test_a_changed_outcome_reopens_a_decided_report(session, four, tmp_path):
    service.triage_reports(session, four, actor=Actor("analyst"))
    service.decide(session, four[3], actor=Actor("analyst"), justification="Review later.")
    bank(session, tmp_path, _unrated_hash(), name="late")
    service.triage_pending(session, actor=Actor("analyst"))
    assert session.get(TriageState, four[3]).status == "reopened"
    assert session.execute(select(func.count()).select_from(Decision)).scalar_one() == 1


def test_a_risk_item_re_triages_the_subjects_reports(session, four):
    service.triage_reports(session, four, actor=Actor("analyst"))
    service.record_risk_item(session, four[0], "access_to_children", True, actor=Actor("analyst"),
                             note="Works at a primary school (employer register).")
    doc = service.report_triage(session, four[0], lang="en")
    assert [h["outcome"] for h in doc["history"]] == ["WARNING", "CRIMINAL_CASE"]
    assert doc["history"][1]["trigger"] == "risk_item"
    assert doc["recommendation"]["facts"]["access_to_children"] is True


def test_a_minors_verified_birth_date_turns_the_warning_into_youth_and_keeps_the_history(session, tmp_path):
    bank(session, tmp_path)
    ids = ingest(session, tmp_path / "in", report("1", known(0), who=person(dob=None)),
                 report("2", known(1), who=person(dob=None, email="jan.devries@example.nl")))
    links = FixedLinks({reported_person(session, i): 7 for i in ids})  # one subject, no age anywhere
    service.triage_reports(session, ids, actor=Actor("analyst"), links=links)
    first = service.report_triage(session, ids[0])["recommendation"]
    assert (first["outcome"], "age_unknown" in first["flags"], first["facts"]["age_source"]) == ("WARNING", True, None)
    row = service.record_birth_date(session, ids[1], date(2007, 9, 30), source="BRP", actor=Actor("analyst"),
                                    note="BRP query 2024-0117.", links=links)
    assert row.person_id == reported_person(session, ids[1])
    for rid in ids:  # checked on the second report: it is the subject's age, so both reports follow
        doc = service.report_triage(session, rid, lang="en")
        assert [(h["outcome"], h["trigger"]) for h in doc["history"]] == [("WARNING", "ingest"), ("YOUTH", "birth_date")]
        assert (doc["recommendation"]["facts"]["age"], doc["recommendation"]["facts"]["age_source"]) == (15, "register")
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "triage.birth_date")).scalar_one()
    assert (event.entity_ids, event.reason, event.details["date_of_birth"], event.details["source"]) == (
        [ids[1]], "BRP query 2024-0117.", "2007-09-30", "BRP")


def test_a_later_register_check_adds_a_row_and_counts(session, four):
    service.triage_reports(session, four[:1], actor=Actor("analyst"))
    service.record_birth_date(session, four[0], date(2007, 9, 30), source="BRP", actor=Actor("analyst"), note="First look.")
    service.record_birth_date(session, four[0], date(1987, 9, 30), source="BRP", actor=Actor("analyst"),
                              note="Corrected: the first look was his son.")
    rows = session.execute(select(VerifiedBirthDate.date_of_birth).order_by(VerifiedBirthDate.id)).scalars().all()
    assert rows == [date(2007, 9, 30), date(1987, 9, 30)]
    assert [h["outcome"] for h in service.report_triage(session, four[0])["history"]] == ["WARNING", "YOUTH", "WARNING"]
    service.record_risk_item(session, four[0], "prior_record", True, actor=Actor("bram"), note="HKS 2019.")
    records = service.report_triage(session, four[0])["analyst_records"]  # what `reports show` lists
    assert [(r["kind"], r.get("date_of_birth") or r.get("item"), r["actor"], r["note"]) for r in records] == [
        ("birth_date", "2007-09-30", "analyst", "First look."),
        ("birth_date", "1987-09-30", "analyst", "Corrected: the first look was his son."),
        ("risk_item", "prior_record", "bram", "HKS 2019."),
    ]


def test_a_register_check_is_refused_with_a_reason(session, four):
    refusals = [({"born": date(2999, 1, 1)}, ValueError, "between 1900-01-01 and today"),
                ({"source": "Facebook"}, ValueError, "one of BRP, RNI"),
                ({"note": " "}, ValueError, "a note"),
                ({"report_id": 999}, LookupError, "no report with id 999")]
    for change, error, message in refusals:
        args = {"report_id": four[0], "born": date(1990, 1, 1), "source": "BRP", "note": "x"} | change
        with pytest.raises(error, match=message):
            service.record_birth_date(session, args.pop("report_id"), args.pop("born"), actor=Actor("analyst"), **args)
    assert session.execute(select(func.count()).select_from(VerifiedBirthDate)).scalar_one() == 0


def test_a_youth_and_an_unidentified_and_a_foreign_report(session, tmp_path):
    bank(session, tmp_path)
    ids = ingest(session, tmp_path / "in",
                 report("y", known(0), who=person(dob=date(2008, 2, 1))),
                 report("u", known(0), who=person(given=None, family=None, email=None, postcode=None, dob=None)),
                 report("f", known(0), who=person(postcode="1000", country="BE")))
    service.triage_reports(session, ids, actor=Actor("analyst"))
    states = {s.report_id: s for s in session.execute(select(TriageState)).scalars()}
    assert [states[i].outcome for i in ids] == ["YOUTH", "NEEDS_IDENTIFICATION", "FORWARD"]
    assert [states[i].unit for i in ids] == ["Limburg", "Landelijke Eenheid", "Landelijke Eenheid"]


def test_a_new_version_of_a_report_supersedes_the_old_one_in_the_queue(session, tmp_path):
    bank(session, tmp_path)
    first = ingest(session, tmp_path / "v1", report("r", known(0)))
    service.triage_reports(session, first, actor=Actor("analyst"))
    second = ingest(session, tmp_path / "v2", report("r", known(0), known(1, "upload")))
    assert second != first
    service.triage_reports(session, second, actor=Actor("analyst"))
    assert session.get(TriageState, first[0]).status == "superseded"
    assert [r["report_id"] for r in service.queue(session)] == second
    assert ids_of(session, "r") == second


def test_no_warning_while_an_open_review_holds_a_distributor_as_possibly_the_same_person(session, tmp_path):
    bank(session, tmp_path)
    ids = ingest(session, tmp_path / "in", report("sent", known(0, "send")), report("kept", known(1)))
    sender, keeper = reported_person(session, ids[0]), reported_person(session, ids[1])
    links = FixedLinks({sender: 1, keeper: 2}, candidates={keeper: [1]})
    service.triage_reports(session, ids, actor=Actor("analyst"), links=links)
    doc = service.report_triage(session, ids[1], lang="en")["recommendation"]
    assert (doc["outcome"], doc["decided_by"]) == ("NEEDS_REVIEW", "possible-distributor")
    assert "subject 1" in doc["rules"][0]["text"]
    apart = FixedLinks({sender: 1, keeper: 2})  # the analyst rejected the match
    service.triage_reports(session, [ids[1]], actor=Actor("analyst"), links=apart)
    assert service.report_triage(session, ids[1])["recommendation"]["outcome"] == "WARNING"
