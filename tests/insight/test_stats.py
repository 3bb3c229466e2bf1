"""`tiptriage stats`: the caseload in figures, small counts suppressed, a chart a person can read."""

from __future__ import annotations

import json
from datetime import date

import pytest
from PIL import Image
from triage.dbdata import known, person, report
from triage.dbdata import ingest as ingest_reports
from typer.testing import CliRunner

from tiptriage import config
from tiptriage.cli import app
from tiptriage.db import open_session
from tiptriage.insight.scope import cell, shown

runner = CliRunner()
PEOPLE = [("Jan", "de Vries"), ("Piet", "Bakker"), ("Kees", "Smit"), ("Anna", "Jansen"), ("Mia", "Visser"),
          ("Sem", "Mulder"), ("Eva", "Bos")]


def run(*args: str, code: int = 0):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if "--json" in args and code == 0 else result


@pytest.fixture
def seven(cli_env, tmp_path):
    """Seven first-time downloads of known material by seven adults of one unit; two by minors."""
    with open_session() as s:
        from triage.dbdata import bank

        bank(s, tmp_path)
        reports = [report(str(n), known(n), who=person(g, f, f"{g.lower()}@example.nl",
                                                       date(2009, 1, 1) if n < 2 else date(1980 + n, 1, 1)))
                   for n, (g, f) in enumerate(PEOPLE)]
        ingest_reports(s, tmp_path / "in", *reports)
        s.commit()
    run("triage")
    return cli_env


def test_counts_below_the_minimum_cell_size_leave_as_less_than(seven, monkeypatch):
    doc = run("stats", "--json")
    assert doc["min_cell"] == 5 and doc["reports"] == 7
    bands = {b["band"]: b["reports"] for b in doc["age_bands"]["bands"]}
    assert bands["under 14"] == "<5"  # the two minors: a count that could identify them
    assert bands["18-24"] == 0  # zero identifies no one
    assert {o["outcome"]: o["reports"] for o in doc["outcomes"]} == {"WARNING": 5, "YOUTH": "<5"}
    assert all(m["reports"] in (7, "<5") for m in doc["per_month"])
    monkeypatch.setenv("TIPTRIAGE_STATS_MIN_CELL", "10")
    config.get_settings.cache_clear()
    doc = run("stats", "--json")
    assert doc["reports"] == "<10" and doc["age_bands"]["youth_share"] is None  # a share of 7 is not shown
    assert [u["reports"] for u in doc["per_unit"]] == ["<10"]
    text = run("stats").output
    assert "<10" in text and " 7 " not in text


@pytest.mark.parametrize("n, minimum, expected", [(0, 5, 0), (1, 5, "<5"), (4, 5, "<5"), (5, 5, 5), (1, 1, 1)])
def test_a_cell(n, minimum, expected):
    assert cell(n, minimum) == expected
    assert shown(n, minimum, 0.5) == (0.5 if n >= minimum else None)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_chart_is_a_png_with_something_on_it(seven, tmp_path):
    out = tmp_path / "out.png"
    assert "out.png" in run("stats", "--chart", str(out)).output
    with Image.open(out) as image:
        assert image.format == "PNG" and image.width >= 1000 and image.height >= 1500
        grey = image.convert("L")
        dark = sum(grey.histogram()[:128])  # text, axes and bars
        assert dark > 0.005 * image.width * image.height
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 16) or range(1 << 16)) > 20  # bars in colour


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_svg_speaks_dutch_by_default_and_english_on_request(seven, tmp_path, monkeypatch):
    monkeypatch.setenv("TIPTRIAGE_LANG", "nl")
    config.get_settings.cache_clear()
    run("stats", "--chart", str(tmp_path / "nl.svg"))
    dutch = (tmp_path / "nl.svg").read_text(encoding="utf-8")
    assert "Meldingen per maand per bron" in dutch and "&lt;5" in dutch
    run("--lang", "en", "stats", "--chart", str(tmp_path / "en.svg"))
    assert "Reports per month by source" in (tmp_path / "en.svg").read_text(encoding="utf-8")
    assert "wrong.gif" in run("stats", "--chart", str(tmp_path / "wrong.gif"), code=2).output.replace("\n", "")


def test_reading_statistics_needs_the_role_and_is_on_record(seven, tmp_path, monkeypatch):
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text("accounts:\n- {id: cor, roles: [officer]}\n- {id: bram, roles: [team_lead]}\n")
    monkeypatch.setenv("TIPTRIAGE_ACCOUNTS_FILE", str(accounts))
    monkeypatch.setenv("TIPTRIAGE_ACTOR", "cor")
    config.get_settings.cache_clear()
    assert "view_stats" in run("stats", code=1).output or "statistics" in run("stats", code=1).output
    monkeypatch.setenv("TIPTRIAGE_ACTOR", "bram")
    config.get_settings.cache_clear()
    run("stats", "--json", "--since", "2023-01-01")
    from sqlalchemy import select

    from tiptriage.audit.models import AuditEvent

    with open_session() as s:
        looked = s.execute(select(AuditEvent.actor, AuditEvent.details, AuditEvent.entity_ids)
                           .where(AuditEvent.action == "stats.view")).all()
    assert [(who, details["since"], ids) for who, details, ids in looked] == [("bram", "2023-01-01", [])]


def test_what_cannot_be_is_refused_with_the_field_named(seven):
    result = run("stats", "--since", "gisteren", code=2)
    assert "gisteren" in result.output
    doc = run("stats", "--unit", "Atlantis", "--json")
    assert doc["reports"] == 0 and doc["per_unit"] == [] and doc["backlog"]["median_age_days"] is None
