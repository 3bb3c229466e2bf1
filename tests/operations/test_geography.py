"""Geography as configuration: the postcodes and places files replace as they are, an IP table places
where a unit has one, and work nothing places is listed for a person to assign (audited, role-checked)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from triage.dbdata import bank, ingest, known, person, report
from typer.testing import CliRunner

from tiptriage.accounts.actor import Actor, NotAllowed
from tiptriage.cli import app
from tiptriage import config, flows
from tiptriage.i18n import language, message
from tiptriage.operations.units import UnitsError, load_units
from tiptriage.subjects import linking
from tiptriage.triage import service as triage
from tests_support import command

runner = CliRunner()


def test_an_official_postcode_list_replaces_the_approximation_and_nothing_else(tmp_path, monkeypatch):
    official = tmp_path / "pc4.csv"
    official.write_text("postcode,unit\n1011,Limburg\n1012,Amsterdam\n", encoding="utf-8")
    monkeypatch.setenv("TIPTRIAGE_POSTCODES_FILE", str(official))
    config.get_settings.cache_clear()
    units = load_units()
    assert units.unit_for_postcode("1011 AB") == "Limburg" and units.unit_for_postcode("1012") == "Amsterdam"
    assert units.unit_for_postcode("6211 AB") is None  # only what the official file says
    assert units.capacity("Limburg") == 50  # the units themselves unchanged


@pytest.mark.parametrize(("content", "expected"), [
    ("postcode,unit\n1011,Atlantis\n", "pc.csv, regel 2: 'Atlantis' is geen van de eenheden"),
    ("postcode,unit\n10x1,Limburg\n", "pc.csv, regel 2: '10x1' is geen postcode"),
    ("postcode,unit\n1000-1100,Limburg\n1050,Amsterdam\n", "horen bij zowel"),
    ("postcode,unit\n1011\n", "pc.csv, regel 2: twee kolommen verwacht"),
])
def test_a_bad_postcodes_file_is_refused_naming_the_line(tmp_path, monkeypatch, content, expected):
    path = tmp_path / "pc.csv"
    path.write_text(content, encoding="utf-8")
    monkeypatch.setenv("TIPTRIAGE_POSTCODES_FILE", str(path))
    config.get_settings.cache_clear()
    with pytest.raises(UnitsError) as refused, language("nl"):
        load_units()
    with language("nl"):
        assert expected in message(refused.value)


def test_places_and_ip_networks_place_a_unit_where_a_table_has_them(tmp_path, monkeypatch):
    nets = tmp_path / "ip_units.csv"
    nets.write_text("network,unit\n198.51.100.0/24,Rotterdam\n", encoding="utf-8")
    monkeypatch.setenv("TIPTRIAGE_IP_UNITS_FILE", str(nets))
    config.get_settings.cache_clear()
    units = load_units()
    assert units.unit_for_place(" utrecht ") == "Midden-Nederland" and units.unit_for_place("Atlantis") is None
    assert units.unit_for_ip("198.51.100.9") == "Rotterdam" and units.unit_for_ip("192.0.2.1") is None


def _unplaced(s, tmp_path):
    """A first-time downloader with no address: WARNING recommended, at the national unit."""
    bank(s, tmp_path)
    [rid] = ingest(s, tmp_path / "r", report("u-1", known(0), who=person("Kees", "Kaal", email="kees@example.org",
                                                                           postcode=None, dob=date(1970, 1, 1))))
    linking.resolve_reports(s, [rid], actor=Actor("pipeline"))
    triage.triage_reports(s, [rid], actor=Actor("pipeline"))
    s.commit()
    return rid


def test_work_nothing_places_is_listed_and_a_person_assigns_it(session, tmp_path):
    rid = _unplaced(session, tmp_path)
    assert triage.report_triage(session, rid)["unit"] == "Landelijke Eenheid"
    lead = Actor("bram", roles=("team_lead",))
    with command(session):
        [entry] = flows.unassigned(session, actor=lead)
    assert entry["reports"] == [rid] and entry["outcomes"] == ["WARNING"]
    with pytest.raises(NotAllowed), command(session):
        flows.assign_unit(session, entry["subject_id"], "Limburg", actor=Actor("cor", roles=("officer",)),
                          reason="x")
    with pytest.raises(UnitsError), command(session):
        flows.assign_unit(session, entry["subject_id"], "Atlantis", actor=lead, reason="x")
    with command(session):
        doc = flows.assign_unit(session, entry["subject_id"], "Limburg", actor=lead,
                                reason="Provider: subscriber in Maastricht")
    assert doc["retriaged_reports"] == [rid]
    assert triage.report_triage(session, rid)["unit"] == "Limburg"
    with command(session):
        assert flows.unassigned(session, actor=lead) == []


def test_units_cli_lists_and_assigns(cli_env, tmp_path):
    from tiptriage.db import make_engine, session_factory

    engine = make_engine(cli_env)
    with session_factory(engine)() as s:
        _unplaced(s, tmp_path)
    engine.dispose()
    listed = json.loads(runner.invoke(app, ["units", "unassigned", "--json"], catch_exceptions=False).stdout)
    subject = listed[0]["subject_id"]
    missing = runner.invoke(app, ["units", "assign", str(subject), "Limburg"])
    assert missing.exit_code == 2  # --reason is required
    done = runner.invoke(app, ["units", "assign", str(subject), "Limburg", "--reason", "BRP address"],
                         catch_exceptions=False)
    assert done.exit_code == 0 and "work of Limburg now" in done.stdout
    assert "Every subject with open work has a unit." in runner.invoke(app, ["units", "unassigned"]).stdout
    log = runner.invoke(app, ["audit", "log", "--json"]).stdout
    assert '"unit.assign"' in log
    assert json.loads(runner.invoke(app, ["units", "--json"]).stdout)["default_unit"] == "Landelijke Eenheid"


def test_plan_text_shows_what_it_plans_and_the_approved_warnings_to_deliver(cli_env, tmp_path):
    from tiptriage.db import make_engine, session_factory

    engine = make_engine(cli_env)
    with session_factory(engine)() as s:
        bank(s, tmp_path)
        [rid] = ingest(s, tmp_path / "r", report("p-1", known(0), who=person("Piet", "Pieters")))
        linking.resolve_reports(s, [rid], actor=Actor("pipeline"))
        triage.triage_reports(s, [rid], actor=Actor("pipeline"))
        with command(s):
            warning = flows.propose_warning(s, rid, actor=Actor("anna"), justification="First download.")
        with command(s):
            flows.approve_warning(s, warning.id, actor=Actor("bram"))
    engine.dispose()
    out = runner.invoke(app, ["plan", "--unit", "Limburg"], catch_exceptions=False).stdout
    assert f"Limburg: plans deliver warning {warning.id} (report {rid})" in out
    doc = json.loads(runner.invoke(app, ["plan", "--unit", "Limburg", "--json"]).stdout)
    assert doc[0]["planned"][0]["task"] == "deliver"
