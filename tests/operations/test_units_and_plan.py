"""Units as configuration and the week's plan (pure), and `tiptriage plan` / `units` on a database."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from tiptriage.cli import app
from tiptriage.i18n import language
from tiptriage.operations.plan import PlanItem, plan_week
from tiptriage.operations.units import UnitsError, load_units, parse_units
from tiptriage.synth.reference import CITIES

UNITS = load_units()
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def test_every_synthetic_city_maps_to_its_regional_unit():
    for city, low, high, unit, _ in CITIES:
        for digits in (low, high):
            assert UNITS.unit_for_postcode(f"{digits} AB") == unit, city


@pytest.mark.parametrize(("postcode", "unit"), [("6211ab", "Limburg"), (" 1011 AB ", "Amsterdam"), ("1011", "Amsterdam"),
                                                ("B-1000", None), ("0123 AB", None), (None, None), ("", None)])
def test_postcodes_are_read_in_their_usual_forms(postcode, unit):
    assert UNITS.unit_for_postcode(postcode) == unit


def test_the_default_units_cover_every_dutch_postcode_once():
    covered = sorted((lo, hi) for u in UNITS.units for lo, hi in u.ranges)
    assert covered[0][0] == 1000 and covered[-1][1] == 9999
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(covered))
    assert UNITS.default_unit == "Landelijke Eenheid" and len(UNITS.units) == 11


@pytest.mark.parametrize(("doc", "message"), [
    ({"units": [{"name": "A", "postcodes": ["1000-2000"]}, {"name": "B", "postcodes": ["1500-1600"]}],
      "default_unit": "A"}, "belong to both A and B"),
    ({"units": [{"name": "A", "postcodes": ["2000-1000"]}], "default_unit": "A"}, "not a range"),
    ({"units": [{"name": "A"}], "default_unit": "Z"}, "default unit 'Z'"),
    ({"units": [{"name": "A"}], "default_unit": "A", "costs": {"ARREST": 1}}, "costs are given per outcome"),
    ({"units": [{"name": "A", "capacity": -1}], "default_unit": "A"}, "capacity is hours"),
    ({"units": [{"name": "A"}, {"name": "A"}], "default_unit": "A"}, "named twice"),
])
def test_bad_unit_tables_are_refused(doc, message):
    with pytest.raises(UnitsError, match=message):
        parse_units(doc)


@pytest.fixture(autouse=True)
def _english(monkeypatch):
    monkeypatch.setenv("TIPTRIAGE_LANG", "en")  # the plan's reasons are user-facing text
    with language("en"):
        yield


def item(n: int, outcome: str, unit: str = "Limburg", priority: int = 0) -> PlanItem:
    return PlanItem(n, f"E{n}", outcome, priority, T0 + timedelta(hours=n), unit)


def test_a_unit_takes_its_queue_in_order_until_capacity_and_the_rest_waits_with_a_week():
    units = parse_units({"units": [{"name": "Limburg", "capacity": 20}], "default_unit": "Limburg",
                         "costs": {"CRIMINAL_CASE": 12, "WARNING": 3, "NO_ACTION": 0}})
    plan = plan_week([item(1, "CRIMINAL_CASE"), item(2, "CRIMINAL_CASE"), item(3, "WARNING"), item(4, "NO_ACTION")],
                     units)["Limburg"]
    assert [p["report_id"] for p in plan.planned] == [1]
    assert [(w["report_id"], w["week"]) for w in plan.waiting] == [(2, 1), (3, 1)]
    assert "capacity 20 h reached; 12 h queued ahead" in plan.waiting[0]["reason"]
    assert (plan.used, plan.not_planned, plan.over_capacity) == (12, 1, 0)


def test_urgent_reports_are_never_deferred_and_the_overrun_is_shown():
    units = parse_units({"units": [{"name": "Limburg", "capacity": 10}], "default_unit": "Limburg",
                         "costs": {"URGENT": 8}})
    plan = plan_week([item(1, "URGENT"), item(2, "URGENT")], units)["Limburg"]
    assert [p["report_id"] for p in plan.planned] == [1, 2]
    assert plan.over_capacity == 6 and "past capacity" in plan.planned[1]["reason"]


def test_units_are_planned_separately_and_a_unit_without_capacity_waits():
    units = parse_units({"units": [{"name": "A", "capacity": 5}, {"name": "B", "capacity": 0}], "default_unit": "A",
                         "costs": {"WARNING": 3}})
    plans = plan_week([item(1, "WARNING", "A"), item(2, "WARNING", "B")], units)
    assert [p["report_id"] for p in plans["A"].planned] == [1]
    assert plans["B"].waiting[0]["reason"] == "the unit has no capacity for this work"


def test_units_cli(cli_env):
    result = CliRunner().invoke(app, ["units", "--json"], catch_exceptions=False)
    doc = json.loads(result.stdout)
    assert result.exit_code == 0 and doc["default_unit"] == "Landelijke Eenheid"
    assert doc["costs"]["URGENT"] == 16


def test_the_reasons_are_in_dutch_by_default():
    units = parse_units({"units": [{"name": "A", "capacity": 3}], "default_unit": "A", "costs": {"WARNING": 3}})
    with language(None):  # none chosen
        plan = plan_week([item(1, "WARNING", "A"), item(2, "WARNING", "A")], units)["A"]
    assert plan.planned[0]["reason"] == "past deze week in volgorde van de werkvoorraad"
    assert plan.waiting[0]["reason"].startswith("capaciteit 3 u bereikt; 3 u gaat voor")
