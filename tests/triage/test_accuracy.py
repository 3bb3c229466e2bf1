"""Triage against the ground truth of a generated data set, through the whole path (store, match,
link, register the truth's warnings, triage).

Every report whose outcome differs from the truth must have one of the known causes that lie
outside triage: the true age of a minor that no report (nor a linked one) states, a date of birth
reported wrongly, a re-report linkage did not (or only possibly) join to the warned subject, or
two people linkage joined.
bench/triage.py runs the same at 20,000+ reports and prints the figures.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tiptriage.accounts.actor import Actor
from tiptriage.db import make_engine, migrate, session_factory
from tiptriage.intake.models import ReportedPersonRow
from tiptriage.subjects import membership
from tiptriage.synth.generator import generate
from tiptriage.triage import service

from . import synthset

REPORTS, SEED = 500, 23


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("accuracy")
    generate(folder / "set", reports=REPORTS, seed=SEED)
    truth = synthset.load_truth(folder / "set")
    patch = pytest.MonkeyPatch()
    for name, value in synthset.environment(truth, folder).items():  # the IP and services tables
        patch.setenv(name, value)
    patch.setenv("TIPTRIAGE_PDQ_INDEX_DIR", str(folder / "pdq"))
    from tiptriage import config
    config.get_settings.cache_clear()
    engine = make_engine(f"sqlite:///{folder / 'eval.db'}")
    migrate(engine)
    with session_factory(engine)() as session:
        synthset.store(session, folder / "set")
        synthset.register_warnings(session, truth)
        service.triage_all(session, actor=Actor("evaluation"))
        session.info["truth"] = truth
        yield session, truth, synthset.compare(session, truth)
    engine.dispose()
    patch.undo()
    config.get_settings.cache_clear()


def test_distribution_and_new_material_are_read_as_the_truth_says_on_every_report(evaluated):
    """The facts, not the outcome (a minor's unknown age changes the outcome of a distributor): what
    the written report says about distribution — distributed, stored, or undetermined — and new
    material, on every report."""
    session, truth, acc = evaluated
    ids = synthset.report_ids(session)
    wrong = []
    for r in truth["reports"]:
        facts = service.report_triage(session, ids[(r["source"], r["external_id"])])["recommendation"]["facts"]
        got = (facts["distributed"], facts["distribution_undetermined"] and not facts["distributed"],
               facts["new_material"])
        if got != (r["facts"]["distributed"], r["facts"]["undetermined"], r["facts"]["new_material"]):
            wrong.append((r["external_id"], got))
    assert wrong == []
    assert acc.groups["distributed"][1] > 100 and acc.groups["new_material"][1] > 20
    assert sum(r["facts"]["undetermined"] for r in truth["reports"]) > 10


def test_every_re_report_joined_to_the_warned_subject_is_a_case_with_aggravation(evaluated):
    session, truth, _ = evaluated
    ids = synthset.report_ids(session)
    warned = {w["person_id"]: ids[(w["report"]["source"], w["report"]["external_id"])] for w in truth["warnings"]}
    checked = 0
    for r in truth["reports"]:
        if not r["facts"]["re_report_after_warning"]:
            continue
        rid = ids[(r["source"], r["external_id"])]
        if _subjects(session, rid) & _subjects(session, warned[r["person_id"]]):
            rec = service.report_triage(session, rid)["recommendation"]
            assert (rec["outcome"], "aggravation" in rec["flags"]) == ("CRIMINAL_CASE", True), r["external_id"]
            checked += 1
    assert checked >= 5


def test_every_other_difference_has_a_known_cause_outside_triage(evaluated):
    session, truth, acc = evaluated
    persons = truth["persons"]
    by_id = {(r["source"], r["external_id"]): r for r in truth["reports"]}
    unexplained = []
    for m in acc.mismatches:
        r = next(t for key, t in by_id.items() if key[1] == m["external_id"])
        facts = service.report_triage(session, m["report_id"])["recommendation"]["facts"]
        if not _known_cause(session, m, r, facts, persons[r["person_id"]]):
            unexplained.append((m["external_id"], m["expected"], m["got"]))
    assert unexplained == []
    # A floor against wholesale regressions only; each difference has its cause asserted above. Since
    # the truth judges the person (another report's distribution counts), a report linkage did not
    # join counts against this figure (2026-12-03: 483 of 500; 2026-12-04: 478, since a possible match
    # with a distributing subject is a review, not a warning).
    assert acc.share() >= 0.95


def _known_cause(session, m: dict, r: dict, facts: dict, person: dict) -> bool:
    if r["facts"]["re_report_after_warning"] and not facts["rereport_after_warning"]:
        return True  # linkage did not join it to the warned subject (or only as a possible match)
    if facts["rereport_after_warning"] and not r["facts"]["re_report_after_warning"]:
        return True  # linkage joined two people: the warning of one escalates the other
    if facts["possible_rereport_after_warning"] and not r["facts"]["re_report_after_warning"]:
        return True  # a possible match that was not the same person: the analyst resolves the review
    if facts["possible_distributor"]:
        return True  # a possible match with a subject that distributed: the analyst answers that review first
    if r["facts"]["minor"] and facts["minor"] is None:
        return True  # no report of the subject states an age or a usable date of birth
    if _elsewhere_not_linked(session, m, r, facts):
        return True  # the person distributed (or held new material) in a report linkage did not join
    reported = {d for d, in session.execute(select(ReportedPersonRow.date_of_birth).where(
        ReportedPersonRow.report_id == m["report_id"], ReportedPersonRow.role == "reported"))} - {None}
    return bool(reported) and person["date_of_birth"] not in {d.isoformat() for d in reported}


def _elsewhere_not_linked(session, m: dict, r: dict, facts: dict) -> bool:
    """The truth counts the person's other reports; the product only those linkage joined."""
    missed = [k for k in ("distributed_elsewhere", "new_material_elsewhere") if r["facts"][k] and not facts[k]]
    if not missed:
        return False
    ids = synthset.report_ids(session)
    mine = _subjects(session, m["report_id"])
    others = [ids[(t["source"], t["external_id"])] for t in session.info["truth"]["reports"]
              if t["person_id"] == r["person_id"] and t["external_id"] != r["external_id"]
              and (t["facts"]["distributed"] or t["facts"]["new_material"])]
    return all(not (_subjects(session, o) & mine) for o in others)


def _subjects(session, report_id: int) -> set[int]:
    persons = session.execute(select(ReportedPersonRow.id).where(ReportedPersonRow.report_id == report_id,
                                                                  ReportedPersonRow.role == "reported")).scalars()
    return set(membership.subject_of_persons(session, list(persons)).values())
