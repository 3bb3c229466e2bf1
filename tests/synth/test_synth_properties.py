"""Properties of the generator's parts: noise keeps identity, plans keep shares, renders round-trip."""

from __future__ import annotations

import random
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tiptriage.intake.formats import csv_lists, cybertip, tiptriage_json
from tiptriage.intake.formats.cybertip import SiblingFile, join_files
from tiptriage.synth.generator import json_view, ncmec_documents
from tiptriage.synth.media import PDQ_MATCH_DISTANCE, hamming, near_pdq
from tiptriage.synth.noise import (
    birth_date_view, email_variant, gmail_canonical, phone_digits, phone_format,
)
from tiptriage.synth.people import Pools
from tiptriage.synth.plan import SynthOptions, plan_world
from tiptriage.synth.render import Renderer
from tiptriage.synth.truth import ReportFacts, expected_outcome_nl_2023

seeds = st.integers(min_value=0, max_value=2**32)
shares = st.floats(min_value=0.0, max_value=1.0)


@pytest.fixture(scope="module")
def pools() -> Pools:
    return Pools(3)


@given(digits=st.text("0123456789", min_size=8, max_size=8), seed=seeds)
def test_every_phone_notation_keeps_the_number(digits, seed):
    e164 = "+316" + digits
    assert phone_digits(phone_format(e164, random.Random(seed))) == e164[1:]


@given(local=st.from_regex(r"[a-z][a-z0-9.]{2,15}[a-z0-9]", fullmatch=True).filter(lambda s: ".." not in s),
       domain=st.sampled_from(("gmail.com", "hotmail.com", "ziggo.nl")), seed=seeds)
def test_every_email_variant_reaches_the_same_mailbox(local, domain, seed):
    email = f"{local}@{domain}"
    assert gmail_canonical(email_variant(email, random.Random(seed))) == gmail_canonical(email)


@given(value=st.integers(0, 2**256 - 1), seed=seeds)
def test_a_near_duplicate_pdq_stays_within_the_match_distance(value, seed):
    pdq = f"{value:064x}"
    near = near_pdq(pdq, random.Random(seed))
    assert len(near) == 64 and 0 < hamming(pdq, near) <= PDQ_MATCH_DISTANCE


@given(dob=st.dates(date(1940, 1, 1), date(2012, 12, 31)), seed=seeds)
def test_a_wrong_birth_date_keeps_the_year(dob, seed):
    shown = birth_date_view(dob, random.Random(seed))
    assert shown.year == dob.year and (shown == date(dob.year, 1, 1) or (shown.month, shown.day) == (dob.day, dob.month))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=seeds, reports=st.integers(1, 150), juveniles=shares, abroad=shares, unidentified=shares,
       new_material=shares, distributors=shares, undetermined=st.floats(0.0, 0.3), escalated=st.floats(0.0, 0.3),
       rereports=st.floats(0.0, 0.3))
def test_plans_take_exact_shares_and_put_warnings_before_re_reports(pools, seed, reports, juveniles, abroad,
                                                                     unidentified, new_material, distributors,
                                                                     undetermined, escalated, rereports):
    options = SynthOptions(juveniles=juveniles, abroad=abroad, unidentified=unidentified,
                           new_material=new_material, distributors=distributors, undetermined=undetermined,
                           escalated=escalated, rereports=rereports)
    world = plan_world(seed, pools, reports, options)
    plans = world.plans
    assert len(plans) == reports and len({p.external_id for p in plans}) == reports
    free = [p for p in plans if not p.warning_profile]
    warned = {p.person.pid for p in plans if p.warning_profile}
    clean = [p for p in free if p.person.pid not in warned]
    ncmec = [p for p in free if p.ncmec]
    assert sum(p.unidentified for p in plans) == min(len(free), round(unidentified * reports))
    assert sum(p.new_material for p in plans) == min(len(clean), round(new_material * reports))
    assert sum(p.undetermined for p in plans) <= round(undetermined * reports)
    assert all(p.ncmec and not p.distributed for p in plans if p.undetermined)
    assert sum(p.escalated for p in plans) == min(len(ncmec), round(escalated * reports))
    assert all(p.ncmec for p in plans if p.escalated)
    assert sum(p.distributed for p in plans) >= min(len(clean) - sum(p.undetermined for p in clean),
                                                    round(distributors * reports))
    assert sum(p.after_warning is not None for p in plans) <= round(rereports * reports)
    for p in plans:
        if p.after_warning is not None:
            assert p.after_warning.person is p.person and p.incident_at.date() > p.after_warning.date
            assert p.after_warning.plan.reported_at < p.reported_at
        if p.person.pid in warned:  # the person is judged: a warned person never distributes, never new material
            assert not (p.distributed or p.hidden_distribution or p.new_material)
    first = {}
    for p in sorted(plans, key=lambda p: p.incident_at):
        first.setdefault(p.person.pid, p.person.age_on(p.incident_at.date()) < 18)
    assert abs(sum(first.values()) - round(juveniles * len(world.persons))) <= 0.05 * len(world.persons) + 1


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=seeds, reports=st.integers(20, 150))
def test_every_plan_gets_a_platform_its_report_can_be_written_for(pools, seed, reports):
    from tiptriage.synth.plan import platform_kinds
    from tiptriage.synth.reference import PLATFORMS

    for p in plan_world(seed, pools, reports, SynthOptions(undetermined=0.2, contact_risk=0.2)).plans:
        kinds = platform_kinds(p)
        assert kinds is None or PLATFORMS[p.platform] in kinds
        if p.ncmec and not (p.distributed or p.undetermined or p.no_files):
            assert PLATFORMS[p.platform] == "storage"  # stored-only material is read from a storage service


def _round_trip(report, channel, extensions=False, plan=None, quiet=False):
    if channel.startswith("xml"):
        data, siblings = ncmec_documents(plan, report, extensions=extensions, quiet_events=quiet)
        [item] = list(cybertip.read("r.xml", data))
        files = [next(iter(cybertip.read(f"r.file-{n}.xml", doc))) for n, doc in enumerate(siblings, 1)]
        assert all(isinstance(f, SiblingFile) for f in files)
        return join_files(item.report, files)
    if channel == "json":
        [item] = list(tiptriage_json.read("r.json", tiptriage_json.write(report)))
    else:
        [item] = list(csv_lists.read("r.csv", csv_lists.write([report])))
    return item.report


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=seeds, reports=st.integers(1, 60), contact_risk=shares, unrated=shares, non_pertinent=shares,
       other_sources=shares, undetermined=st.floats(0.0, 0.5), extensions=st.booleans())
def test_every_rendered_report_survives_its_own_format(pools, seed, reports, contact_risk, unrated,
                                                        non_pertinent, other_sources, undetermined, extensions):
    options = SynthOptions(contact_risk=contact_risk, unrated=unrated, non_pertinent=non_pertinent,
                           other_sources=other_sources, undetermined=undetermined, escalated=0.1, rereports=0.1)
    world = plan_world(seed, pools, reports, options)
    renderer = Renderer(seed, world, _pool(seed), extensions=extensions)
    for plan in world.plans:
        rendered = renderer.render(plan)
        report = rendered.report
        assert _round_trip(report, plan.channel, extensions, plan, rendered.quiet_events) == report
        if plan.ncmec:  # its JSON twin carries what JSON can
            twin = json_view(report)
            assert tiptriage_json.to_dict(_round_trip(twin, "json")) == tiptriage_json.to_dict(twin)
            assert all((f.action is None) != extensions for f in report.files)
        else:
            assert all(f.action is not None for f in report.files)  # our own formats state actions
        if plan.warning_profile:
            assert expected_outcome_nl_2023(rendered.facts) == "WARNING"


def _pool(seed):
    from tiptriage.synth.media import make_pool

    return make_pool(random.Random(seed), pertinent=300, non_pertinent=30, comparison=5)


FACTS = dict(escalated=False, distributed=False, undetermined=False, distributed_elsewhere=False,
             new_material_elsewhere=False, new_material=False, known_only=True, unrated=False, minor=False,
             contact_risk=False, identified=True, in_jurisdiction=True, re_report_after_warning=False)


@pytest.mark.parametrize(("changes", "outcome"), [
    ({}, "WARNING"),
    ({"known_only": False}, "NO_ACTION"),
    ({"unrated": True}, "NEEDS_REVIEW"),
    ({"undetermined": True}, "NEEDS_REVIEW"),
    ({"unrated": True, "in_jurisdiction": False}, "FORWARD"),
    ({"undetermined": True, "in_jurisdiction": False}, "FORWARD"),
    ({"in_jurisdiction": False, "identified": False}, "NEEDS_IDENTIFICATION"),
    ({"identified": False, "minor": True}, "NEEDS_IDENTIFICATION"),
    ({"minor": True, "in_jurisdiction": False}, "YOUTH"),
    ({"minor": True, "distributed": True}, "YOUTH"),
    ({"minor": True, "distributed_elsewhere": True, "identified": False}, "YOUTH"),
    ({"minor": True, "new_material_elsewhere": True}, "CRIMINAL_CASE"),
    ({"minor": True, "re_report_after_warning": True}, "CRIMINAL_CASE"),
    ({"minor": True, "distributed": True, "re_report_after_warning": True}, "CRIMINAL_CASE"),
    ({"distributed": True}, "CRIMINAL_CASE"),
    ({"distributed_elsewhere": True}, "CRIMINAL_CASE"),
    ({"new_material_elsewhere": True, "identified": False}, "CRIMINAL_CASE"),
    ({"distributed": True, "contact_risk": True}, "URGENT"),
    ({"escalated": True}, "URGENT"),
    ({"escalated": True, "minor": True, "re_report_after_warning": True}, "URGENT"),
    ({"re_report_after_warning": True, "new_material": True, "known_only": False}, "URGENT"),
])
def test_the_policy_model_takes_the_first_rule_that_applies(changes, outcome):
    assert expected_outcome_nl_2023(ReportFacts(**(FACTS | changes))) == outcome
