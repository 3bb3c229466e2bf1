"""Subject test fixtures: one small synthetic data set per test session, ingested per database."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from tiptriage.synth.generator import generate

SEED, REPORTS = 11, 300


@pytest.fixture(scope="session")
def small_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("subjects") / "set"
    generate(out, reports=REPORTS, seed=SEED)
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    return SimpleNamespace(out=out, truth=truth)
