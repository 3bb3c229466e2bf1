"""The policy language, the loader's hard-rule proof and the engine (pure, no database)."""

from __future__ import annotations

import copy

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tiptriage.triage import policy as pol
from tiptriage.triage.facts import FACT_SCHEMA
from tiptriage.triage.policy import (
    HARD_RULES,
    HardRuleViolation,
    PolicyError,
    evaluate,
    load_policy,
    parse_policy,
)

from .strategies import conditions, fact_maps

DEFAULT = load_policy()


def default_doc() -> dict:
    from importlib import resources

    return yaml.safe_load(resources.files("tiptriage.triage").joinpath("policies", "nl-2023.yaml").read_bytes())


def dump(doc: dict) -> bytes:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False).encode()


def minimal(when: object, outcome: str = "WARNING") -> bytes:
    text = {"nl": "t", "en": "t"}
    return dump({"policy": "t", "version": "1", "rules": [
        {"id": "under-test", "when": when, "outcome": outcome, "text": text},
        {"id": "rest", "when": "always", "outcome": "NO_ACTION", "text": text}]})


def facts(**values) -> dict:
    base = {name: (None if nullable else {"bool": False, "int": 0, "str": ""}[kind])
            for name, (kind, nullable) in FACT_SCHEMA.items()}
    return base | values


GUARDS = {name: False for name in HARD_RULES}


# --- the default policy --------------------------------------------------------------------------

def test_default_policy_loads_with_identity():
    assert DEFAULT.ref == "nl-2023@2023.4"
    assert len(DEFAULT.sha256) == 64
    assert DEFAULT.outcome_order[0] == "URGENT"


@pytest.mark.parametrize(("values", "outcome", "rule"), [
    ({"escalated": True, "known_only": True}, "URGENT", "escalated"),
    ({"new_material": True, "distributed": True}, "URGENT", "new-material"),
    ({"contact_risk": True, "sextortion": True}, "URGENT", "contact-risk"),
    ({"contact_risk": True, "sadistic": True, "minor": True, "distributed": True}, "URGENT", "contact-risk"),
    ({"rereport_after_warning": True, "active_warning": True, "known_only": True}, "CRIMINAL_CASE",
     "rereport-after-warning"),
    ({"under_investigation": True, "known_only": True}, "CRIMINAL_CASE", "under-investigation"),
    # Youth, decided in 2023.3: a minor who forwarded known material goes to the youth track.
    ({"distributed": True, "minor": True}, "YOUTH", "youth-forwarded"),
    ({"distributed_elsewhere": True, "minor": True, "known_only": True}, "YOUTH", "youth-forwarded"),
    ({"distributed": True, "minor": False}, "CRIMINAL_CASE", "distributed"),
    ({"distributed": True, "minor": None}, "CRIMINAL_CASE", "distributed"),
    ({"distributed_elsewhere": True, "known_only": True}, "CRIMINAL_CASE", "distributed-elsewhere"),
    ({"new_material_elsewhere": True, "known_only": True}, "CRIMINAL_CASE", "distributed-elsewhere"),
    ({"access_to_children": True, "known_only": True}, "CRIMINAL_CASE", "risk-items"),
    ({"minor": True, "known_only": True, "identified": True}, "YOUTH", "youth"),
    ({"identified": False, "known_only": True}, "NEEDS_IDENTIFICATION", "not-identified"),
    ({"identified": True, "in_jurisdiction": False, "known_only": True}, "FORWARD", "abroad"),
    ({"identified": True, "unrated": True, "known_only": True}, "NEEDS_REVIEW", "unrated-files"),
    ({"identified": True, "distribution_undetermined": True, "known_only": True}, "NEEDS_REVIEW",
     "distribution-undetermined"),
    ({"identified": True, "warned_after_incident": True, "known_only": True}, "WARNING", "first-time-download"),
    ({"identified": True, "known_only": True}, "WARNING", "first-time-download"),
    ({"identified": True, "in_jurisdiction": True, "known_only": True}, "WARNING", "first-time-download"),
    ({"identified": True}, "NO_ACTION", "nothing-pertinent"),
])
def test_default_policy_outcomes(values, outcome, rule):
    result = evaluate(DEFAULT, facts(identified=True) | values)
    assert (result.outcome, result.decided_by) == (outcome, rule)


def test_modifiers_add_priority_and_flags_and_later_outcomes_are_listed():
    result = evaluate(DEFAULT, facts(identified=True, new_material=True, distributed=True, a1=True, infant=True,
                                     minor=True, age=15))
    assert result.fired == ("new-material", "minor-subject", "severity-a1", "severity-infant")
    assert result.priority == 100 + 0 + 15 + 25
    assert result.also_matched == ("youth-forwarded", "distributed", "youth")
    assert result.flags == ("victim_identification", "youth")


def test_a_warning_on_an_identified_person_of_unknown_age_says_to_check_the_age_first():
    unknown = evaluate(DEFAULT, facts(identified=True, in_jurisdiction=True, known_only=True, minor=None))
    assert unknown.outcome == "WARNING" and "age_unknown" in unknown.flags
    adult = evaluate(DEFAULT, facts(identified=True, in_jurisdiction=True, known_only=True, minor=False, age=40))
    assert adult.outcome == "WARNING" and "age_unknown" not in adult.flags
    unidentified = evaluate(DEFAULT, facts(identified=False, known_only=True, minor=None))
    assert unidentified.outcome == "NEEDS_IDENTIFICATION" and "age_unknown" not in unidentified.flags


def test_rereport_reason_names_date_and_unit_in_both_languages():
    values = facts(identified=True, rereport_after_warning=True, active_warning=True, warning_date="2023-03-14",
                   warning_unit="Limburg")
    rule = DEFAULT.rule(evaluate(DEFAULT, values).decided_by)
    assert "aggravation" in rule.flags
    assert "(2023-03-14, Limburg)" in rule.explain(values, "nl")["text"]
    assert rule.explain(values, "en")["text"].startswith("Re-report after official warning (2023-03-14, Limburg)")


def test_unknown_values_in_texts_show_a_question_mark():
    rule = DEFAULT.rule("youth")
    assert "(? jaar" in rule.explain(facts(age=None), "nl")["text"]


# --- the language --------------------------------------------------------------------------------

@pytest.mark.parametrize(("when", "values", "expected"), [
    ({"volume": {"gte": 25}}, {"volume": 25}, True),
    ({"volume": {"gt": 25}}, {"volume": 25}, False),
    ({"volume": {"lt": 3}}, {"volume": 2}, True),
    ({"volume": {"lte": 3}}, {"volume": 4}, False),
    ({"age": {"lt": 18}}, {"age": None}, False),
    ({"not": {"age": {"lt": 18}}}, {"age": None}, True),
    ({"minor": None}, {"minor": None}, True),
    ({"minor": {"ne": None}}, {"minor": False}, True),
    ({"warning_unit": {"in": ["Limburg", "Rotterdam"]}}, {"warning_unit": "Limburg"}, True),
    ({"volume": 1}, {"volume": 1}, True),
    ({"distributed": True, "a1": True}, {"distributed": True, "a1": False}, False),
    ({"any": [{"a1": True}, {"infant": True}]}, {"infant": True}, True),
    ({"all": [{"a1": True}, {"not": {"infant": True}}]}, {"a1": True}, True),
])
def test_conditions(when, values, expected):
    condition = pol.parse_condition(when, "test")
    assert condition.evaluate(facts(**values)) is expected


@pytest.mark.parametrize(("when", "message"), [
    ({"no_such_fact": True}, "unknown fact 'no_such_fact'"),
    ({"distributed": "yes"}, "distributed is a bool, not 'yes'"),
    ({"distributed": None}, "distributed is never null"),
    ({"volume": {"gte": "3"}}, "volume is a int"),
    ({"minor": {"lt": True}}, "compares numbers only"),
    ({"volume": {"approx": 3}}, "an operator mapping has one of"),
    ({"all": []}, "`all` takes a non-empty list"),
    ({"all": [{"a1": True}], "a1": True}, "stand alone"),
    ({}, "a condition is `always` or a non-empty mapping"),
    ("__import__('os').system('true')", "a condition is `always` or a non-empty mapping"),
    ({"a1": 1}, "a1 is a bool, not 1"),
    ({"volume": True}, "volume is a int, not True"),
])
def test_bad_conditions_are_refused(when, message):
    with pytest.raises(PolicyError, match="rule under-test") as info:
        parse_policy(minimal(when, "NO_ACTION"))
    assert message in str(info.value)


def test_deep_nesting_is_refused():
    when: dict = {"a1": True}
    for _ in range(20):
        when = {"not": when}
    with pytest.raises(PolicyError, match="nested deeper"):
        parse_policy(minimal(when, "NO_ACTION"))


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["rules"].pop(d["rules"].index(next(r for r in d["rules"] if r["id"] == "nothing-pertinent"))),
     "no rule with an outcome applies `always`"),
    (lambda d: d["rules"].append({"id": "late", "when": {"a1": True}, "outcome": "URGENT",
                                  "text": {"nl": "x", "en": "x"}}), "rule late: unreachable"),
    (lambda d: d["rules"].append(dict(d["rules"][-1])), "the id is used twice"),
    (lambda d: d["rules"][0].update(outcome="ARREST"), "is not one of"),
    (lambda d: d["rules"][0]["text"].pop("en"), "missing text in en"),
    (lambda d: d["rules"][0].update(priority=5000), "priority is a whole number"),
    (lambda d: d["rules"][0].update(then="x"), "unknown keys then"),
    (lambda d: d["rules"][0].pop("when"), "needs `when`"),
    (lambda d: d.update(outcome_order=["URGENT"]), "outcome_order lists each outcome once"),
    (lambda d: d.pop("version"), "lacks `version`"),
    (lambda d: d["rules"][0].update(flags=["spoed"]), "unknown flags spoed; known: escalated"),
])
def test_bad_policies_are_refused(change, message):
    doc = default_doc()
    change(doc)
    with pytest.raises(PolicyError) as info:
        parse_policy(dump(doc))
    assert message in str(info.value)


def test_not_yaml_is_refused():
    with pytest.raises(PolicyError, match="not valid YAML"):
        parse_policy(b"rules: [unclosed")


# --- the hard rules -------------------------------------------------------------------------------

@pytest.mark.parametrize("fact", sorted(HARD_RULES))
def test_a_warning_rule_without_one_guard_is_refused_naming_rule_and_hard_rule(fact):
    doc = default_doc()
    rule = next(r for r in doc["rules"] if r["id"] == "first-time-download")
    del rule["when"][fact]
    with pytest.raises(PolicyError) as info:
        parse_policy(dump(doc))
    assert str(info.value) == (f"rule first-time-download: outcome WARNING does not require {fact} = false "
                               f"(hard rule: {HARD_RULES[fact]})")


@pytest.mark.parametrize("when", [
    "always",
    {"any": [GUARDS, {"known_only": True}]},  # either branch may fire
    {"not": {"distributed": True}},  # the other facts are not guarded
    {"distributed": {"ne": True}, "new_material": {"ne": True}, "unrated": {"ne": True},
     "contact_risk": {"ne": True}, "active_warning": {"ne": True}},  # earlier_warning missing
])
def test_warning_rules_that_could_break_a_hard_rule_are_refused(when):
    with pytest.raises(PolicyError, match="outcome WARNING does not require"):
        parse_policy(minimal(when))


@pytest.mark.parametrize("when", [
    GUARDS,
    {"all": [{"not": {"any": [{name: True} for name in HARD_RULES]}}, {"known_only": True}]},
    {name: {"ne": True} for name in HARD_RULES},
    {"any": [GUARDS | {"a1": True}, GUARDS | {"infant": True}]},
])
def test_warning_rules_written_other_ways_are_accepted(when):
    assert parse_policy(minimal(when)).rules[0].outcome == "WARNING"


def test_the_engine_refuses_a_tampered_policy_at_run_time():
    text = {"nl": "t", "en": "t"}
    rule = pol.Rule("tampered", pol.Always(), "WARNING", 0, (), text, {}, "always")
    tampered = pol.Policy("x", "1", "0" * 64, text, DEFAULT.outcome_order, (rule,))
    evaluate(tampered, facts())  # nothing forbidden: allowed
    with pytest.raises(HardRuleViolation, match="rule tampered recommends WARNING while unrated"):
        evaluate(tampered, facts(unrated=True))


@settings(max_examples=200, deadline=None)
@given(fact_maps())
def test_property_default_policy_never_warns_against_the_hard_rules(values):
    result = evaluate(DEFAULT, values)
    if result.outcome == "WARNING":
        assert not any(values[f] for f in HARD_RULES)


@settings(max_examples=100, deadline=None)
@given(fact_maps())
def test_property_evaluation_is_deterministic(values):
    again = parse_policy(load_policy_bytes())
    assert evaluate(DEFAULT, values) == evaluate(again, dict(reversed(list(values.items()))))


def load_policy_bytes() -> bytes:
    from importlib import resources

    return resources.files("tiptriage.triage").joinpath("policies", "nl-2023.yaml").read_bytes()


@settings(max_examples=200, deadline=None)
@given(conditions(), st.lists(fact_maps(), min_size=1, max_size=3))
def test_property_an_accepted_warning_rule_never_fires_against_the_hard_rules(when, samples):
    """Soundness of the proof: whatever the loader accepts cannot break a hard rule."""
    try:
        policy = parse_policy(minimal(when))
    except PolicyError as exc:
        assert "outcome WARNING does not require" in str(exc)
        return
    for values in samples:
        evaluate(policy, values)  # raises HardRuleViolation if the proof was wrong


@settings(max_examples=200, deadline=None)
@given(conditions(), st.sampled_from(sorted(HARD_RULES)))
def test_property_a_warning_rule_that_can_fire_with_a_forbidden_fact_is_refused(when, fact):
    """Completeness where it matters: a rule satisfiable with a forbidden fact true is refused."""
    condition = pol.parse_condition(when, "probe")
    witness = _satisfying(condition, {fact: True})
    if witness is None:
        return
    with pytest.raises(PolicyError, match="outcome WARNING does not require"):
        parse_policy(minimal(when))


def _satisfying(condition, fixed: dict) -> dict | None:
    """A brute-force witness over the boolean facts the condition mentions."""
    names = sorted(_facts_in(condition) - set(fixed))
    if len(names) > 10:
        return None
    for n in range(2 ** len(names)):
        values = facts(**fixed) | {name: bool(n >> i & 1) for i, name in enumerate(names)}
        if condition.evaluate(values):
            return values
    return None


def _facts_in(condition) -> set[str]:
    if isinstance(condition, pol.Compare):
        return {condition.fact}
    if isinstance(condition, pol.Not):
        return _facts_in(condition.part)
    if isinstance(condition, pol.All | pol.AnyOf):
        return set().union(*(_facts_in(p) for p in condition.parts))
    return set()


def test_yaml_is_read_safely():
    with pytest.raises(PolicyError):
        parse_policy(b"!!python/object/apply:os.system ['true']")
    assert copy.deepcopy(DEFAULT) == DEFAULT


def test_a_refused_policy_is_explained_in_dutch_by_default(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from tiptriage.cli import app

    monkeypatch.delenv("TIPTRIAGE_LANG", raising=False)
    bad = tmp_path / "p.yaml"
    bad.write_text("policy: x\nversion: 1\nrules: []\n")
    result = CliRunner().invoke(app, ["policy", "check", str(bad)])
    assert result.exit_code != 0 and "`rules` is een niet-lege lijst" in result.output
    english = CliRunner().invoke(app, ["--lang", "en", "policy", "check", str(bad)])
    assert "`rules` is a non-empty list" in english.output
