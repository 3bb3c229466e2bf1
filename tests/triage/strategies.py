"""Hypothesis strategies for triage: report inputs, subject histories, facts and policy conditions.

Everything is synthetic: persons are a role, an age or date of birth and a few flags, files are an
action, a media status and metadata. No names, no media.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import strategies as st

from tiptriage.intake.domain import CLASSIFICATIONS, FILE_ACTIONS, INCIDENT_KINDS, PERSON_ROLES
from tiptriage.registry.records import InvestigationInput, WarningInput
from tiptriage.triage.distribution import Evidence
from tiptriage.triage.facts import (
    FACT_SCHEMA,
    RISK_ITEMS,
    AgeEvidence,
    FileInput,
    PersonInput,
    ReportInput,
    SubjectHistory,
)
from tiptriage.triage.policy import HARD_RULES

STATUSES = ("known", "new", "unrated", "non_pertinent", None)
ANNOTATIONS = ("sextortion", "enticement", "self_production", "csam_solicitation", "potential_meme", "viral",
               "Self-Production", "infant", "csamSolicitation", "sadisticOnlineExploitation", "minorToMinorInteraction",
               "spam")
INCIDENTS = (None, "Child Pornography (possession, manufacture, and distribution)",
             "Online Enticement of Children for Sexual Acts", "Unsolicited Obscene Material Sent to a Child")
DAYS = st.dates(date(2015, 1, 1), date(2026, 12, 31))


def moments() -> st.SearchStrategy[datetime]:
    return st.datetimes(datetime(2015, 1, 1), datetime(2026, 12, 31)).map(lambda d: d.replace(tzinfo=UTC))


files = st.builds(
    FileInput, action=st.sampled_from((None, None, *FILE_ACTIONS)), status=st.sampled_from(STATUSES),
    recipients=st.integers(0, 3), publicly_available=st.sampled_from((None, False, True)),
    classification=st.sampled_from((None, *CLASSIFICATIONS)),
    annotations=st.lists(st.sampled_from(ANNOTATIONS), max_size=2).map(tuple),
    series=st.lists(st.sampled_from(("S1", "S2", "S3", "S4")), max_size=2).map(tuple),
    held_by_reported=st.booleans())

persons = st.builds(
    PersonInput, role=st.sampled_from(PERSON_ROLES), date_of_birth=st.none() | st.dates(date(1940, 1, 1), date(2020, 1, 1)),
    age=st.none() | st.integers(0, 90), named=st.booleans(), contact=st.booleans(), has_address=st.booleans(),
    countries=st.lists(st.sampled_from(("NL", "BE", "DE", "nl")), max_size=3).map(tuple),
    esp_prior_reports=st.integers(0, 3))


evidence = st.builds(Evidence, recipients=st.integers(0, 2),
                     incidents=st.lists(st.sampled_from(INCIDENT_KINDS), max_size=2, unique=True).map(tuple),
                     own_web_page=st.booleans(), storage=st.booleans())


@st.composite
def reports(draw) -> ReportInput:
    ingested = draw(moments())
    return ReportInput(
        report_id=draw(st.integers(1, 10**6)), incident_at=draw(st.none() | st.just(ingested - timedelta(days=30))),
        reported_at=draw(st.none() | st.just(ingested - timedelta(days=3))), ingested_at=ingested,
        incident_type=draw(st.sampled_from(INCIDENTS)),
        annotations=tuple(draw(st.lists(st.sampled_from(ANNOTATIONS), max_size=3))),
        persons=tuple(draw(st.lists(persons, max_size=4))), files=tuple(draw(st.lists(files, max_size=6))),
        escalation=draw(st.none() | st.just("Kind loopt direct gevaar")), evidence=draw(evidence))


warnings = st.builds(
    WarningInput, warning_id=st.integers(1, 100), state=st.sampled_from(("proposed", "approved", "delivered", "revoked")),
    delivered_on=st.none() | DAYS, expires_on=st.none() | DAYS, unit=st.sampled_from((None, "Amsterdam", "Limburg")),
    covers_report=st.booleans())
investigations = st.builds(InvestigationInput, investigation_id=st.integers(1, 100),
                           unit=st.sampled_from(("Rotterdam", "Den Haag")), open=st.booleans(), covers_report=st.booleans())
histories = st.builds(
    SubjectHistory, subject_ids=st.lists(st.integers(1, 50), max_size=2).map(tuple),
    other_report_days=st.lists(DAYS, max_size=4).map(tuple),
    ages=st.lists(st.builds(AgeEvidence, date_of_birth=st.none() | st.dates(date(1940, 1, 1), date(2020, 1, 1)),
                            age=st.none() | st.integers(0, 90), on=DAYS), max_size=2).map(tuple),
    warnings=st.lists(warnings, max_size=3).map(tuple), investigations=st.lists(investigations, max_size=2).map(tuple),
    risk_items=st.lists(st.tuples(st.sampled_from(RISK_ITEMS), st.booleans()), max_size=4).map(tuple),
    verified_birth_dates=st.lists(st.dates(date(1940, 1, 1), date(2024, 12, 31)), max_size=2).map(tuple),
    distributed_elsewhere=st.booleans(), new_material_elsewhere=st.booleans(),
    candidate_spread=st.lists(st.integers(1, 50), max_size=2, unique=True).map(tuple))


def _value(kind: str, nullable: bool) -> st.SearchStrategy:
    base = {"bool": st.booleans(), "int": st.integers(0, 200), "str": st.sampled_from(("2023-03-13", "Limburg"))}[kind]
    return st.none() | base if nullable else base


def fact_maps() -> st.SearchStrategy[dict]:
    """Any combination of fact values, consistent or not: the policy must hold for all of them."""
    return st.fixed_dictionaries({name: _value(kind, nullable) for name, (kind, nullable) in FACT_SCHEMA.items()})


BOOL_FACTS = sorted(n for n, (k, _) in FACT_SCHEMA.items() if k == "bool")


def conditions(max_leaves: int = 8) -> st.SearchStrategy:
    """Policy conditions as they are written in YAML, over the boolean facts (hard-rule ones often)."""
    fact = st.sampled_from(sorted(HARD_RULES)) | st.sampled_from(BOOL_FACTS)
    leaf = st.builds(lambda f, v: {f: v}, fact, st.booleans()) | st.builds(
        lambda f, v: {f: {"ne": v}}, fact, st.booleans())
    return st.recursive(leaf, lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=4).map(lambda xs: {"all": xs}),
        st.lists(inner, min_size=1, max_size=4).map(lambda xs: {"any": xs}),
        inner.map(lambda x: {"not": x})), max_leaves=max_leaves)
