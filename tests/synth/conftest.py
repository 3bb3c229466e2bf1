"""One small synthetic data set, generated once per test session and read by the synth tests."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from tiptriage.intake import service
from tiptriage.synth.generator import generate

SEED, REPORTS = 5, 400


@pytest.fixture(scope="session")
def synth_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "set"
    return SimpleNamespace(out=out, seed=SEED, reports=REPORTS, summary=generate(out, reports=REPORTS, seed=SEED))


@pytest.fixture(scope="session")
def truth(synth_set) -> dict:
    return json.loads((synth_set.out / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def parsed(synth_set) -> tuple[dict, list]:
    """Every report of reports/ as intake reads it (sibling file details joined), and the errors."""
    reports, errors = {}, []
    for item in service.candidates(service.find_inputs([synth_set.out / "reports"]), limit=10**9):
        if isinstance(item, service.Candidate):
            reports[(item.report.source, item.report.external_id)] = item.report
        else:
            errors.append(item)
    return reports, errors
