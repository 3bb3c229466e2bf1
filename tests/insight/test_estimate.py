"""The evaluation's arithmetic on follow-up times drawn here (no store): the exponential rate and
its interval, the Kaplan–Meier curve, and what suppression withholds."""

from __future__ import annotations

import random
from datetime import date

import pytest

from tiptriage.insight.evaluation import Followed, analyse, rate


def _cohort(rng: random.Random, group: str, hazard: float, n: int, follow: float = 2.0) -> list[Followed]:
    rows = []
    for i in range(n):
        window = rng.uniform(0.5, follow)  # staggered entry: some followed for half a year only
        t = rng.expovariate(hazard)
        rows.append(Followed(i, group, "U", date(2023, 1, 1), min(t, window), t < window, 30))
    return rows


@pytest.mark.parametrize("seed", range(5))
def test_the_interval_covers_the_hazard_the_times_were_drawn_with(seed):
    rng = random.Random(seed)
    rows = _cohort(rng, "warned", 0.1, 2000) + _cohort(rng, "no_action", 0.3, 2000)
    doc = analyse(rows, minimum=5)
    for g, hazard in zip(doc["groups"][:1] + doc["groups"][2:], (0.1, 0.3), strict=True):
        low, high = g["rate_ci"]
        assert low <= hazard <= high
        assert high - low < 0.6 * hazard  # 2,000 subjects: a narrow interval
    assert doc["logrank"]["p_value"] < 0.001  # three times the hazard, and it shows


def test_the_exact_poisson_interval():
    assert rate(0, 10.0) == (0.0, 0.0, pytest.approx(0.3689, abs=1e-4))
    estimate, low, high = rate(10, 100.0)
    assert (estimate, round(low, 4), round(high, 4)) == (0.1, 0.048, 0.1839)


def test_small_groups_leave_without_what_gives_their_counts_back():
    rows = [Followed(i, "searched", "U", date(2023, 1, 1), 1.0, i < 2, 30) for i in range(12)]
    rows += [Followed(100 + i, "warned", "U", date(2023, 1, 1), 1.0, False, 30) for i in range(6)]
    rows += [Followed(200 + i, "no_action", "U", date(2023, 1, 1), 1.0, True, None) for i in range(3)]
    groups = {g["group"]: g for g in analyse(rows, minimum=5)["groups"]}
    assert (groups["searched"]["subjects"], groups["searched"]["events"]) == (12, "<5")
    assert groups["searched"]["rate_per_year"] is None and "curve" not in groups["searched"]
    assert groups["warned"]["events"] == 0 and groups["warned"]["rate_per_year"] == 0.0  # zero identifies no one
    assert groups["no_action"]["subjects"] == "<5" and groups["no_action"]["person_years"] is None
    assert [r["subjects"] for r in groups["no_action"]["at_risk"]][:2] == ["<5", "<5"]
