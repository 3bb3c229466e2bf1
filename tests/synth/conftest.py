"""Small synthetic data sets, generated once per test session and read by the synth tests.

`synth_set`: the default set (NCMEC reports with only NCMEC's schema elements); `extended_set`:
the same seed with tiptriage's extension (stated actions); `variety_set`: higher shares of the
rarer kinds of report (contact risk, escalation, undetermined distribution), so that every
variety the schema allows turns up in a few hundred reports.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from tiptriage.intake import discovery, parsing, prepared
from tiptriage.synth.generator import generate
from tiptriage.synth.plan import SynthOptions

SEED, REPORTS = 5, 400
VARIETY = SynthOptions(contact_risk=0.3, escalated=0.1, undetermined=0.2, unidentified=0.1, new_material=0.15,
                       abroad=0.15, non_pertinent=0.15)


def read_reports(folder: Path) -> tuple[dict, list]:
    """Every report of reports/ as intake reads it (sibling file details joined), and the errors."""
    reports, errors = {}, []
    for item in parsing.candidates(discovery.find_inputs([folder / "reports"]), limit=10**9):
        if isinstance(item, prepared.Candidate):
            reports[(item.report.source, item.report.external_id)] = item.report
        else:
            errors.append(item)
    return reports, errors


def load(out: Path) -> dict:
    return json.loads((out / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def synth_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "set"
    return SimpleNamespace(out=out, seed=SEED, reports=REPORTS, summary=generate(out, reports=REPORTS, seed=SEED))


@pytest.fixture(scope="session")
def truth(synth_set) -> dict:
    return load(synth_set.out)


@pytest.fixture(scope="session")
def parsed(synth_set) -> tuple[dict, list]:
    return read_reports(synth_set.out)


@pytest.fixture(scope="session")
def extended_set(tmp_path_factory):
    """The default set's seed and size with tiptriage's extension: the same plan, actions stated."""
    out = tmp_path_factory.mktemp("synth-ext") / "set"
    generate(out, reports=REPORTS, seed=SEED, extensions=True)
    reports, errors = read_reports(out)
    return SimpleNamespace(out=out, truth=load(out), reports=reports, errors=errors)


@pytest.fixture(scope="session")
def variety_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth-variety") / "set"
    generate(out, reports=300, seed=11, options=VARIETY)
    reports, errors = read_reports(out)
    return SimpleNamespace(out=out, truth=load(out), reports=reports, errors=errors)
