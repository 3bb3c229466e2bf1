"""The follow-up cohort (`tiptriage synth --rereport-hazard`): persons per group whose next report
comes an exponential time after the intervention, in NCMEC's schema like every other report, and a
truth that says when each intervention and each next report happened."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pytest
from lxml import etree
from typer.testing import CliRunner

from tiptriage.cli import app
from tiptriage.insight.evaluation import rate
from tiptriage.synth.generator import generate
from tiptriage.synth.plan import SynthOptions

from test_synth_ncmec import XSD, ncmec_documents

HAZARDS = (("warned", 0.1), ("searched", 0.05), ("no_action", 0.3))


@pytest.fixture(scope="module")
def cohort_set(tmp_path_factory):
    import json

    out = tmp_path_factory.mktemp("cohort")
    generate(out, reports=1200, seed=5, options=SynthOptions(rereport_hazards=HAZARDS, followup=80))
    return out, json.loads((out / "truth.json").read_text(encoding="utf-8"))


def test_every_ncmec_document_of_the_cohort_set_validates_against_ncmecs_schema(cohort_set):
    if not XSD.exists():
        pytest.skip(f"NCMEC's schema is not at {XSD}")
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    out, _ = cohort_set
    for path in ncmec_documents(out):
        root = etree.parse(str(path)).getroot()
        if root.tag == "report":
            root.remove(root.find("reportId"))
        assert schema.validate(root), (path.name, [e.message for e in schema.error_log][:3])


def test_the_cohort_is_in_the_truth_with_its_interventions_and_next_reports(cohort_set):
    _, truth = cohort_set
    follow = truth["followup"]
    assert follow["hazards_per_year"] == dict(HAZARDS) and follow["end"] == "2024-06-30"
    assert Counter(p["group"] for p in follow["persons"]) == {"warned": 80, "searched": 80, "no_action": 80}
    reports = {(r["source"], r["external_id"]): r for r in truth["reports"]}
    warnings = {w["person_id"]: w["date"] for w in truth["warnings"]}
    assert set(warnings) == {p["person_id"] for p in follow["persons"] if p["group"] == "warned"}
    expected = {"warned": "WARNING", "no_action": "WARNING", "searched": "CRIMINAL_CASE"}
    for p in follow["persons"]:
        index = reports[(p["report"]["source"], p["report"]["external_id"])]
        assert index["outcome"] == expected[p["group"]] and index["person_id"] == p["person_id"]
        if p["group"] == "warned":
            assert warnings[p["person_id"]] == p["origin"]
        if p["rereport"]:
            again = reports[(p["rereport"]["source"], p["rereport"]["external_id"])]
            assert again["person_id"] == p["person_id"]
            assert p["origin"] <= p["rereport"]["incident_at"][:10] <= follow["end"]
            assert ("re_report_of_warning" in again) == (p["group"] == "warned")


def test_the_generated_times_follow_the_hazards(cohort_set):
    """The truth's own times (no store, no linkage) give back each group's hazard."""
    _, truth = cohort_set
    end = datetime.fromisoformat(truth["followup"]["end"]).replace(tzinfo=UTC)
    for group, hazard in HAZARDS:
        events, years = 0, 0.0
        for p in (p for p in truth["followup"]["persons"] if p["group"] == group):
            start = datetime.combine(date.fromisoformat(p["origin"]), datetime.min.time(), UTC)
            stop = datetime.fromisoformat(p["rereport"]["incident_at"]) if p["rereport"] else end
            events += p["rereport"] is not None
            years += (stop - start).total_seconds() / 86400 / 365.25
        _, low, high = rate(events, years)
        assert low <= hazard <= high, (group, events, years)


def test_a_hazard_that_cannot_be_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(app, ["--lang", "en", "synth", str(tmp_path / "x"), "--rereport-hazard",
                                      "warned=0.1,lucky=0.2"])
    assert result.exit_code == 2 and "'lucky=0.2' is not GROUP=HAZARD" in result.output
    result = CliRunner().invoke(app, ["--lang", "en", "synth", str(tmp_path / "y"), "--reports", "50", "--rereport-hazard",
                                      "warned=0.1"])
    assert result.exit_code == 2 and "needs more reports" in result.output
    assert not (tmp_path / "y" / "truth.json").exists()
