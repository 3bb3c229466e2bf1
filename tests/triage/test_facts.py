"""derive_facts: one pure function from report and subject history to facts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from hypothesis import given, settings

from tiptriage.triage.distribution import Evidence
from tiptriage.triage.facts import (
    AgeEvidence,
    FactSettings,
    FileInput,
    InvestigationInput,
    PersonInput,
    ReportInput,
    SubjectHistory,
    WarningInput,
    age_on,
    derive_facts,
)
from tiptriage.triage.policy import HARD_RULES, evaluate, load_policy

from .strategies import histories, reports

INCIDENT = datetime(2024, 5, 1, 12, tzinfo=UTC)
ADULT = PersonInput("reported", date_of_birth=date(1980, 6, 1), named=True, countries=("NL",))
KNOWN_DOWNLOAD = FileInput("download", "known")
NOTHING = SubjectHistory()
POLICY = load_policy()


def report(*files: FileInput, persons=(ADULT,), annotations=(), incident_type=None, escalation=None,
           evidence=Evidence()) -> ReportInput:
    return ReportInput(1, INCIDENT, None, INCIDENT, incident_type, tuple(annotations), tuple(persons), tuple(files),
                       escalation, evidence)


def warning(delivered: date | None, *, state="delivered", expires: date | None = date(2029, 1, 1),
            covers=False, unit="Limburg") -> WarningInput:
    return WarningInput(7, state, delivered, expires, unit, covers)


def test_a_first_time_download_of_known_material():
    f = derive_facts(report(KNOWN_DOWNLOAD, KNOWN_DOWNLOAD), NOTHING)
    assert (f.known_only, f.distributed, f.new_material, f.unrated, f.contact_risk) == (True, False, False, False, False)
    assert (f.identified, f.in_jurisdiction, f.minor, f.age, f.volume, f.files) == (True, True, False, 43, 2, 2)
    assert evaluate(POLICY, f.as_dict()).outcome == "WARNING"


def test_distribution_counts_any_distributing_act_on_a_file_that_is_not_non_pertinent():
    for file in (FileInput("share", "known"), FileInput("download", "known", recipients=2),
                 FileInput("store", "unrated", publicly_available=True), FileInput("upload", None)):
        assert derive_facts(report(KNOWN_DOWNLOAD, file), NOTHING).distributed, file
    for file in (FileInput("upload", "non_pertinent"), FileInput("send", "known", held_by_reported=False)):
        assert not derive_facts(report(KNOWN_DOWNLOAD, file), NOTHING).distributed, file


def test_file_statuses():
    f = derive_facts(report(FileInput("download", "new", classification="A1", annotations=("Infant",)),
                            KNOWN_DOWNLOAD, FileInput("download", None), FileInput("download", "non_pertinent")),
                     NOTHING)
    assert (f.new_material, f.known_only, f.unrated, f.unrated_files, f.volume, f.a1, f.infant) == (
        True, False, True, 1, 2, True, True)
    only_non_pertinent = derive_facts(report(FileInput("download", "non_pertinent")), NOTHING)
    assert (only_non_pertinent.known_only, only_non_pertinent.volume) == (False, 0)
    assert evaluate(POLICY, only_non_pertinent.as_dict()).outcome == "NO_ACTION"


def test_series_count_distinct_series_of_known_files():
    f = derive_facts(report(FileInput("download", "known", series=("A", "B")), FileInput("store", "known", series=("B",)),
                            FileInput("store", "new", series=("C",))), NOTHING)
    assert f.series == 2


def test_age_prefers_the_reported_age_and_ignores_placeholder_dates():
    seventeen = PersonInput("reported", date_of_birth=date(1970, 1, 1), age=17, named=True)
    assert (derive_facts(report(KNOWN_DOWNLOAD, persons=(seventeen,)), NOTHING).minor) is True
    placeholder = PersonInput("reported", date_of_birth=date(1970, 1, 1), named=True)
    assert derive_facts(report(KNOWN_DOWNLOAD, persons=(placeholder,)), NOTHING).minor is None


def test_a_first_of_january_birth_date_decides_only_when_the_whole_year_agrees():
    on_the_edge = PersonInput("reported", date_of_birth=date(2006, 1, 1), named=True)  # 17 or 18 on 2024-05-01
    assert derive_facts(report(KNOWN_DOWNLOAD, persons=(on_the_edge,)), NOTHING).minor is None
    clearly = PersonInput("reported", date_of_birth=date(2009, 1, 1), named=True)
    assert derive_facts(report(KNOWN_DOWNLOAD, persons=(clearly,)), NOTHING).age == 14


def test_age_from_the_subjects_other_reports_when_this_one_has_none():
    unknown = PersonInput("reported", contact=True)
    other = SubjectHistory(ages=(AgeEvidence(None, 15, date(2023, 6, 1)),))
    f = derive_facts(report(KNOWN_DOWNLOAD, persons=(unknown,)), other)
    assert (f.minor, f.age) == (True, 15)
    assert evaluate(POLICY, f.as_dict()).outcome == "YOUTH"


def test_a_verified_birth_date_beats_every_stated_age():
    says_adult = PersonInput("reported", date_of_birth=date(1990, 1, 1), age=25, named=True)
    other = AgeEvidence(None, 30, date(2023, 6, 1))
    checked = SubjectHistory(ages=(other,), verified_birth_dates=(date(2008, 5, 2),))  # 15 on 2024-05-01
    f = derive_facts(report(KNOWN_DOWNLOAD, persons=(says_adult,)), checked)
    assert (f.age, f.minor, f.age_source) == (15, True, "register")
    assert evaluate(POLICY, f.as_dict()).outcome == "YOUTH"
    assert derive_facts(report(KNOWN_DOWNLOAD, persons=(says_adult,)), NOTHING).age_source == "reported"


def test_the_newest_register_check_counts_and_one_after_the_incident_decides_nothing():
    unknown = PersonInput("reported", contact=True)
    corrected = SubjectHistory(verified_birth_dates=(date(2008, 5, 2), date(1988, 5, 2)))
    assert derive_facts(report(KNOWN_DOWNLOAD, persons=(unknown,)), corrected).age == 35
    born_later = SubjectHistory(verified_birth_dates=(date(2024, 6, 1),))
    f = derive_facts(report(KNOWN_DOWNLOAD, persons=(unknown,)), born_later)
    assert (f.age, f.minor, f.age_source) == (None, None, None)
    result = evaluate(POLICY, f.as_dict())
    assert (result.outcome, "age_unknown" in result.flags) == ("WARNING", True)


def test_youth_age_is_configurable():
    sixteen = PersonInput("reported", age=16, named=True)
    assert derive_facts(report(KNOWN_DOWNLOAD, persons=(sixteen,)), NOTHING, FactSettings(youth_age=16)).minor is False


def test_identified_needs_a_name_contact_or_address():
    ip_only = PersonInput("reported", countries=("NL",))
    f = derive_facts(report(KNOWN_DOWNLOAD, persons=(ip_only,)), NOTHING)
    assert f.identified is False
    assert evaluate(POLICY, f.as_dict()).outcome == "NEEDS_IDENTIFICATION"
    named_recipient = PersonInput("recipient", named=True)
    assert not derive_facts(report(KNOWN_DOWNLOAD, persons=(ip_only, named_recipient)), NOTHING).identified


def test_jurisdiction_from_evidence():
    def where(*countries):
        person = PersonInput("reported", named=True, countries=countries)
        return derive_facts(report(KNOWN_DOWNLOAD, persons=(person,)), NOTHING).in_jurisdiction
    assert (where("BE", "nl"), where("BE", "DE"), where()) == (True, False, None)
    assert derive_facts(report(KNOWN_DOWNLOAD, persons=(PersonInput("reported", named=True, countries=("NL",)),)),
                        NOTHING, FactSettings(jurisdiction="BE")).in_jurisdiction is False


def test_contact_risk_indicators():
    minor_recipient = PersonInput("recipient", age=13)
    cases = {
        "sextortion": report(KNOWN_DOWNLOAD, annotations=("Sextortion",)),
        "self_production": report(KNOWN_DOWNLOAD, annotations=("self-production",)),
        "csam_solicitation": report(KNOWN_DOWNLOAD, annotations=("csam_solicitation",)),
        "enticement": report(KNOWN_DOWNLOAD, incident_type="Online Enticement of Children for Sexual Acts"),
        "minor_recipient": report(FileInput("send", "known", recipients=1), persons=(ADULT, minor_recipient)),
    }
    for name, r in cases.items():
        f = derive_facts(r, NOTHING)
        assert getattr(f, name) and f.contact_risk, name
        assert evaluate(POLICY, f.as_dict()).outcome == "URGENT"
    assert not derive_facts(report(KNOWN_DOWNLOAD, annotations=("potential_meme",)), NOTHING).contact_risk


def test_a_warning_delivered_before_the_incident_is_a_re_report():
    f = derive_facts(report(KNOWN_DOWNLOAD), SubjectHistory(warnings=(warning(date(2023, 11, 14)),)))
    assert (f.rereport_after_warning, f.active_warning, f.warning_date, f.warning_unit) == (
        True, True, "2023-11-14", "Limburg")
    result = evaluate(POLICY, f.as_dict())
    assert (result.outcome, result.decided_by, "aggravation" in result.flags) == (
        "CRIMINAL_CASE", "rereport-after-warning", True)


def test_warning_states_that_do_not_count():
    for w in (warning(date(2023, 11, 14), covers=True), warning(None, state="approved"),
              warning(date(2023, 11, 14), state="revoked")):
        f = derive_facts(report(KNOWN_DOWNLOAD), SubjectHistory(warnings=(w,)))
        assert not (f.active_warning or f.earlier_warning or f.rereport_after_warning), w
    pending = derive_facts(report(KNOWN_DOWNLOAD), SubjectHistory(warnings=(warning(None, state="approved"),)))
    assert pending.pending_warning


def test_an_expired_warning_is_an_earlier_warning_and_still_escalates():
    expired = warning(date(2017, 3, 13), expires=date(2022, 3, 13))
    f = derive_facts(report(KNOWN_DOWNLOAD), SubjectHistory(warnings=(expired,)))
    assert (f.active_warning, f.earlier_warning, f.rereport_after_warning) == (False, True, True)
    assert evaluate(POLICY, f.as_dict()).outcome == "CRIMINAL_CASE"


def test_a_warning_delivered_after_the_incident_is_no_re_report_but_is_shown():
    later = warning(date(2024, 6, 1))
    f = derive_facts(report(KNOWN_DOWNLOAD), SubjectHistory(warnings=(later,)))
    assert (f.active_warning, f.rereport_after_warning, f.warned_after_incident, f.warning_date) == (
        False, False, True, "2024-06-01")
    result = evaluate(POLICY, f.as_dict())
    assert (result.outcome, "warned-since" in result.fired, result.flags) == (
        "WARNING", True, ("needs_second_approval", "already_warned"))


def test_investigations_and_risk_items():
    history = SubjectHistory(investigations=(InvestigationInput(3, "Rotterdam", True, False),),
                             risk_items=(("access_to_children", True), ("access_to_children", False),
                                         ("prior_record", True)))
    f = derive_facts(report(KNOWN_DOWNLOAD), history)
    assert (f.under_investigation, f.investigating_unit) == (True, "Rotterdam")
    assert (f.access_to_children, f.prior_record, f.prior_sexual_offence) == (False, True, None)
    closed = SubjectHistory(investigations=(InvestigationInput(3, "Rotterdam", False, False),))
    assert not derive_facts(report(KNOWN_DOWNLOAD), closed).under_investigation


# --- reports as NCMEC's schema writes them: no action, distribution judged from the rest ----------

NCMEC_KNOWN = FileInput(None, "known", publicly_available=False)


def test_known_material_kept_in_private_storage_and_sent_to_no_one_gets_the_warning():
    f = derive_facts(report(NCMEC_KNOWN, NCMEC_KNOWN, evidence=Evidence(storage=True)), NOTHING)
    assert (f.distributed, f.distribution_undetermined) == (False, False)
    assert evaluate(POLICY, f.as_dict()).outcome == "WARNING"


def test_what_the_report_cannot_tell_is_undetermined_and_goes_to_an_analyst_with_the_question():
    for file, evidence in ((NCMEC_KNOWN, Evidence(incidents=("chat_im",))),
                           (FileInput(None, "known"), Evidence(storage=True)),  # public availability not said
                           (NCMEC_KNOWN, Evidence(incidents=("web_page",), own_web_page=False)),  # third party
                           (FileInput(None, "known"), Evidence())):
        f = derive_facts(report(file, evidence=evidence), NOTHING)
        assert (f.distributed, f.undetermined_files) == (False, 1), (file, evidence)
        result = evaluate(POLICY, f.as_dict())
        assert (result.outcome, result.decided_by) == ("NEEDS_REVIEW", "distribution-undetermined")
        assert "question_distribution" in result.flags


def test_a_recipient_a_public_file_or_a_sharing_incident_is_distribution_without_any_action():
    for file, evidence in ((NCMEC_KNOWN, Evidence(recipients=1, storage=True)),
                           (FileInput(None, "known", publicly_available=True), Evidence(storage=True)),
                           (NCMEC_KNOWN, Evidence(incidents=("peer2peer",), storage=True)),
                           (NCMEC_KNOWN, Evidence(incidents=("web_page",), own_web_page=True))):
        f = derive_facts(report(file, evidence=evidence), NOTHING)
        assert (f.distributed, f.distributed_files) == (True, 1), (file, evidence)
        assert evaluate(POLICY, f.as_dict()).outcome == "CRIMINAL_CASE"


def test_an_escalated_report_is_urgent_whatever_else_it_holds():
    f = derive_facts(report(NCMEC_KNOWN, evidence=Evidence(storage=True), escalation="Kind in direct gevaar"),
                     NOTHING)
    result = evaluate(POLICY, f.as_dict())
    assert (f.escalated, result.outcome, result.decided_by) == (True, "URGENT", "escalated")


def test_ncmec_annotation_names_are_contact_risk_indicators():
    for note, fact in (("csamSolicitation", "csam_solicitation"), ("sadisticOnlineExploitation", "sadistic"),
                       ("sextortion", "sextortion")):
        f = derive_facts(report(annotations=(note,)), NOTHING)
        assert getattr(f, fact) and f.contact_risk, note
        assert evaluate(POLICY, f.as_dict()).outcome == "URGENT"  # also with no file at all


def test_the_person_is_judged_not_the_report_distribution_elsewhere_means_no_warning():
    base = report(NCMEC_KNOWN, evidence=Evidence(storage=True))
    for history, rule in ((SubjectHistory(distributed_elsewhere=True), "distributed-elsewhere"),
                          (SubjectHistory(new_material_elsewhere=True), "distributed-elsewhere")):
        result = evaluate(POLICY, derive_facts(base, history).as_dict())
        assert (result.outcome, result.decided_by) == ("CRIMINAL_CASE", rule)


def test_no_warning_while_linkage_holds_a_distributor_as_possibly_the_same_person():
    base = report(NCMEC_KNOWN, evidence=Evidence(storage=True))
    facts = derive_facts(base, SubjectHistory(candidate_spread=(42, 17)))
    result = evaluate(POLICY, facts.as_dict())
    assert (result.outcome, result.decided_by) == ("NEEDS_REVIEW", "possible-distributor")
    assert facts.possible_distributor_subject == 17 and "possible_person_history" in result.flags


def test_a_minor_who_forwarded_known_material_goes_to_the_youth_track_with_priority():
    teen = PersonInput("reported", date_of_birth=date(2009, 2, 1), named=True, countries=("NL",))
    forwarded = evaluate(POLICY, derive_facts(report(NCMEC_KNOWN, persons=(teen,), evidence=Evidence(recipients=1)),
                                              NOTHING).as_dict())
    kept = evaluate(POLICY, derive_facts(report(NCMEC_KNOWN, persons=(teen,), evidence=Evidence(storage=True)),
                                         NOTHING).as_dict())
    assert (forwarded.outcome, forwarded.decided_by, kept.outcome) == ("YOUTH", "youth-forwarded", "YOUTH")
    assert forwarded.priority > kept.priority and "youth_distributed" in forwarded.flags
    reached_a_child = report(NCMEC_KNOWN, persons=(teen, PersonInput("recipient", age=13)),
                             evidence=Evidence(recipients=1))
    assert evaluate(POLICY, derive_facts(reached_a_child, NOTHING).as_dict()).outcome == "URGENT"


def test_a_resident_abroad_is_forwarded_not_warned():
    abroad = PersonInput("reported", date_of_birth=date(1980, 6, 1), named=True, countries=("DE",))
    f = derive_facts(report(NCMEC_KNOWN, persons=(abroad,), evidence=Evidence(storage=True)), NOTHING)
    assert (f.in_jurisdiction, f.abroad) == (False, True)
    assert evaluate(POLICY, f.as_dict()).outcome == "FORWARD"


def test_prior_reports_count_the_subjects_earlier_reports():
    history = SubjectHistory(other_report_days=(date(2023, 1, 1), date(2024, 5, 1), date(2024, 9, 1)))
    assert derive_facts(report(KNOWN_DOWNLOAD), history).prior_reports == 2


@settings(max_examples=200, deadline=None)
@given(reports(), histories)
def test_property_facts_are_deterministic_and_the_policy_keeps_the_hard_rules(r, h):
    f = derive_facts(r, h)
    assert derive_facts(replace(r), replace(h)) == f
    assert f.known_only is False or f.new_material is False
    assert f.rereport_after_warning == (f.active_warning or f.earlier_warning)
    assert f.contact_risk == any((f.enticement, f.sextortion, f.self_production, f.minor_recipient,
                                  f.csam_solicitation, f.sadistic))
    assert f.undetermined_files + f.distributed_files <= f.files and f.escalated == (r.escalation is not None)
    assert f.distributed_files <= f.files and f.volume == f.known_files + f.new_files
    result = evaluate(POLICY, f.as_dict())
    if result.outcome == "WARNING":
        assert not any(getattr(f, name) for name in HARD_RULES)


@settings(max_examples=200, deadline=None)
@given(reports(), histories)
def test_property_a_verified_birth_date_always_wins(r, h):
    f = derive_facts(r, h)
    newest = h.verified_birth_dates[-1] if h.verified_birth_dates else None
    if newest is not None and newest <= r.day:
        assert (f.age, f.minor, f.age_source) == (age_on(newest, r.day), age_on(newest, r.day) < 18, "register")
    else:
        assert f.age_source != "register"
        assert f == derive_facts(r, replace(h, verified_birth_dates=()))
    assert (f.age is None) == (f.minor is None) == (f.age_source is None)


def test_a_possible_match_with_a_warned_subject():
    candidates = ((9, warning(date(2023, 11, 14))), (11, warning(date(2024, 6, 1))))
    f = derive_facts(report(KNOWN_DOWNLOAD), SubjectHistory(candidate_warnings=candidates))
    assert (f.possible_rereport_after_warning, f.possible_warned_subject, f.rereport_after_warning) == (True, 9, False)
    assert evaluate(POLICY, f.as_dict()).decided_by == "possible-rereport"
