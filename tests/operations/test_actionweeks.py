"""An action week end to end over generated data: synth → ingest → decisions and approved warnings
through the services → a week planned for every unit → every unit's work list as CSV and PDF (the
PDF read back as text) → outcomes recorded at the door → the summary counts what was recorded.
And what a user gets wrong: an outcome twice, an item of another week, a day outside the week."""

from __future__ import annotations

import csv
import io
import json
import stat
from collections import Counter
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import select
from tests_support import command
from typer.testing import CliRunner

from tiptriage import actionweeks, flows
from tiptriage.accounts.actor import Actor, NotAllowed
from tiptriage.cli import app
from tiptriage.db import make_engine, session_factory
from tiptriage.i18n import language, message
from tiptriage.operations import worklists
from tiptriage.operations.units import load_units
from tiptriage.registry.models import PoliceWarning
from tiptriage.registry.service import RegistryError
from tiptriage.triage.models import TriageState

runner = CliRunner()
ANALYST = Actor("anna", roles=("analyst",))
LEAD = Actor("bram", roles=("team_lead",))
OFFICER = Actor("cor", roles=("officer",))
START, END = date(2024, 3, 4), date(2024, 3, 8)


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def world(cli_env, tmp_path, monkeypatch):
    """400 generated reports through the whole path; every recommended WARNING decided and approved
    where its gates let it, every CRIMINAL_CASE confirmed (a search, its investigation open)."""
    data = tmp_path / "set"
    _run("synth", str(data), "--reports", "400", "--seed", "11", "--workers", "1")
    monkeypatch.setenv("TIPTRIAGE_IP_COUNTRIES_FILE", str(data / "tables" / "ip_countries.csv"))
    monkeypatch.setenv("TIPTRIAGE_SERVICES_FILE", str(data / "tables" / "services.csv"))
    monkeypatch.setenv("TIPTRIAGE_INGEST_WORKERS", "1")
    _run("bank", "import", str(data / "banks" / "vics.json"), "--name", "vics", "--format", "vics")
    _run("bank", "import", str(data / "banks" / "known.csv"), "--name", "nl-known", "--format", "csv",
         *[f"--map={c}=child_abuse" for c in ("A1", "A2", "B1", "B2")], "--map=NP=non_pertinent")
    _run("ingest", str(data / "reports"))
    engine = make_engine(cli_env)
    with session_factory(engine)() as s:
        open_ = s.execute(select(TriageState.report_id, TriageState.outcome).where(
            TriageState.status == "open", TriageState.outcome.in_(("WARNING", "CRIMINAL_CASE")))).all()
        for report_id, outcome in open_:
            with command(s):
                _, warning = flows.decide(s, report_id, actor=ANALYST, justification="Per the policy.")
            if warning is not None:
                try:
                    with command(s):
                        flows.approve_warning(s, warning.id, actor=LEAD, acknowledgement="Checked: another person.")
                except RegistryError:
                    pass  # a gate (age unknown, no name): stays proposed, no candidate
        yield s
    engine.dispose()


def _plan(s, name="voorjaar-2024", start=START, end=END, warnings=3, searches=2, overrides=None):
    with command(s), language("nl"):
        return actionweeks.plan(s, actor=LEAD, name=name, start=start, end=end, units=load_units().names(),
                                warnings_per_day=warnings, searches_per_day=searches, overrides=overrides)


def test_an_action_week_from_generated_data_to_its_summary(world, tmp_path):
    s = world
    approved = s.execute(select(PoliceWarning.id).where(PoliceWarning.state == "approved")).scalars().all()
    week = _plan(s, overrides={"Limburg": (1, None)})
    items = week["items"]
    units = {i["unit"] for i in items if i["day"]}
    assert {i["unit"] for i in items} == set(load_units().names())  # every unit has candidates
    assert len(units) >= 10  # and work planned (the national unit's persons mostly have no Dutch address)
    planned = [i for i in items if i["day"]]
    assert {i["warning_id"] for i in items if i["kind"] == "warning"} == set(approved)  # every candidate placed
    # Capacity a day per unit and kind; Limburg's own number; no day outside the week.
    per_day = Counter((i["unit"], i["kind"], i["day"]) for i in planned)
    for (unit, kind, day), n in per_day.items():
        assert START <= day <= END
        assert n <= {"warning": 1 if unit == "Limburg" else 3, "search": 2}[kind]
    left = [i for i in items if not i["day"]]
    assert left and all(i["left_over"] for i in left)
    assert any("geen adres bekend" in i["left_over"] for i in left)  # most NCMEC persons: no Dutch address
    # Travel: a unit's day is one postcode area as long as that area has work left for it.
    for unit in units:
        mine = [i for i in planned if i["unit"] == unit and i["kind"] == "warning"]
        for d in {i["day"] for i in mine}:
            areas = [i["area"] for i in mine if i["day"] == d]
            assert len(set(areas)) <= len(areas)

    # Every unit's work list, CSV and PDF, names the person, the address and the texts to hand over.
    with language("nl"):
        for unit in sorted(units):
            with command(s):
                head, rows = actionweeks.worklist(s, week["id"], unit, actor=OFFICER, purpose="actieweek")
            assert len(rows) == sum(i["unit"] == unit for i in planned)
            csv_file = worklists.write_private(tmp_path / f"{unit}.csv", worklists.as_csv(rows))
            pdf_file = worklists.write_private(tmp_path / f"{unit}.pdf", worklists.as_pdf(head, unit, rows))
            assert stat.S_IMODE(csv_file.stat().st_mode) == 0o600 == stat.S_IMODE(pdf_file.stat().st_mode)
            table = list(csv.reader(io.StringIO(csv_file.read_text(encoding="utf-8-sig"))))
            assert table[0][:5] == ["Item", "Dag", "Gebied", "Wat", "Naam"]
            assert {r[4] for r in table[1:]} == {r["name"] for r in rows}
            text = " ".join(" ".join(p.extract_text() for p in PdfReader(pdf_file).pages).split())
            assert f"Werklijst — {unit}" in text
            for row in rows:
                assert row["address"] and row["address"].split(",")[0] in text
                assert row["name"] in text and (row["name"] or row["kind"] == "search")  # a warning is to a named person
            if any(r["kind"] == "warning" for r in rows):
                assert "Stop it Now!" in text and "artikel 240b" in text
            assert "hash" not in text.lower() and "NCMEC" not in text

    # Outcomes at the door; a delivered warning is delivered in the registry.
    choices = {"warning": ["delivered", "not_home", "refused"], "search": ["search_done", "devices_seized"]}
    recorded = Counter()
    for n, item in enumerate(planned):
        outcome = choices[item["kind"]][n % len(choices[item["kind"]])]
        with command(s):
            actionweeks.record_outcome(s, week["id"], item["item_id"], actor=OFFICER, outcome=outcome,
                                       on=item["day"], officer=f"Agent {n:04d}")
        recorded[outcome] += 1
    delivered = [i["warning_id"] for n, i in enumerate(planned) if i["kind"] == "warning"
                 and choices["warning"][n % 3] == "delivered"]
    states = dict(s.execute(select(PoliceWarning.id, PoliceWarning.state).where(PoliceWarning.id.in_(delivered))).all())
    assert set(states.values()) == {"delivered"}
    with command(s):
        doc = actionweeks.summary(s, week["id"], actor=LEAD)
    assert doc["warned"] == recorded["delivered"]
    assert doc["searched"] == recorded["search_done"] + recorded["devices_seized"]
    assert doc["devices_seized"] == recorded["devices_seized"] and doc["not_home"] == recorded["not_home"]
    assert doc["open"] == 0 and doc["planned"] == len(planned)
    assert doc["text"]["nl"].startswith(f"{doc['warned']} personen gewaarschuwd, bij {doc['searched']} doorzoekingen")
    assert doc["text"]["en"].startswith(f"{doc['warned']} persons warned, {doc['searched']} homes searched")
    assert "jonger dan 18" in doc["text"]["nl"]


def test_outcomes_a_user_gets_wrong_are_refused_in_dutch(world):
    s = world
    week = _plan(s)
    other = _plan(s, name="najaar-2024", start=date(2024, 10, 7), end=date(2024, 10, 11))
    item = next(i for i in week["items"] if i["day"] and i["kind"] == "warning")
    with language("nl"):
        with command(s):
            actionweeks.record_outcome(s, week["id"], item["item_id"], actor=OFFICER, outcome="not_home",
                                       on=item["day"], officer="Agent 1")
        for week_id, on, outcome, expected in [
            (week["id"], item["day"], "delivered", "heeft al een uitkomst: niet thuis"),
            (other["id"], item["day"], "delivered", f"item {item['item_id']} hoort niet bij actieweek najaar-2024"),
        ]:
            with pytest.raises((ValueError, LookupError)) as refused, command(s):
                actionweeks.record_outcome(s, week_id, item["item_id"], actor=OFFICER, outcome=outcome, on=on,
                                           officer="Agent 1")
            assert expected in message(refused.value)
        fresh = next(i for i in week["items"] if i["day"] and i["kind"] == "warning" and i["item_id"] != item["item_id"])
        for on, outcome, expected in [(date(2024, 3, 11), "delivered", "valt buiten actieweek voorjaar-2024"),
                                      (fresh["day"], "search_done", "is een van uitgereikt, niet thuis, geweigerd"),
                                      (fresh["day"], "delivered", "noemt de agent")]:
            with pytest.raises(ValueError) as refused, command(s):
                actionweeks.record_outcome(s, week["id"], fresh["item_id"], actor=OFFICER, outcome=outcome, on=on,
                                           officer="" if "agent" in expected else "Agent 2")
            assert expected in message(refused.value)
        with pytest.raises(NotAllowed), command(s):
            actionweeks.record_outcome(s, week["id"], fresh["item_id"], actor=ANALYST, outcome="delivered",
                                       on=fresh["day"], officer="Agent 2")
        with pytest.raises(ValueError) as refused:
            _plan(s)
        assert "bestaat al" in message(refused.value)
    assert s.get(PoliceWarning, fresh["warning_id"]).state == "approved"  # nothing half-written


def test_the_cli_plans_a_week_and_writes_a_work_list(world, tmp_path):
    doc = json.loads(_run("actionweek", "plan", "--name", "cli-week", "--from", "2024-03-04", "--to", "2024-03-08",
                          "--unit", "Amsterdam", "--unit", "Den Haag", "--warnings-per-day", "2",
                          "--searches-per-day", "1", "--override", "Den Haag=1/", "--json"))
    assert doc["per_unit"]["Den Haag"]["planned"] >= 1 and set(doc["per_unit"]) == {"Amsterdam", "Den Haag"}
    out = tmp_path / "amsterdam.csv"
    _run("actionweek", "worklist", "cli-week", "--unit", "Amsterdam", "--format", "csv", "--out", str(out))
    assert out.exists() and stat.S_IMODE(out.stat().st_mode) == 0o600
    again = runner.invoke(app, ["actionweek", "worklist", "cli-week", "--unit", "Amsterdam", "--format", "csv",
                                "--out", str(out)])
    assert again.exit_code == 2 and "exists already" in again.output
    text = _run("actionweek", "show", "cli-week")
    assert "cli-week" in text
    summary = json.loads(_run("actionweek", "summary", "cli-week", "--json"))
    assert summary["warned"] == 0 and summary["open"] == summary["planned"]
    events = json.loads(_run("audit", "log", "--json"))
    assert any(e["action"] == "actionweek.worklist.export" for e in (events if isinstance(events, list)
                                                                      else events["events"]))


def test_the_planner_spreads_by_priority_and_keeps_an_area_together_and_says_why_in_each_language():
    from datetime import UTC, datetime

    from tiptriage.operations import weekplan

    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    c = [weekplan.Candidate("warning", n, "Limburg", prio, area, t0) for n, prio, area in
         [(1, 9, "62"), (2, 1, "59"), (3, 5, "62"), (4, 8, "64"), (5, 0, None), (6, 0, "62"), (7, 0, "64")]]
    days = weekplan.days_of(date(2024, 3, 4), date(2024, 3, 5))
    placed = {p.candidate.report_id: p for p in weekplan.plan(c, days, {("Limburg", "warning"): 3})}
    assert [r for r, p in placed.items() if p.day == days[0]] == [1, 3, 6]  # the most urgent and its area
    assert [r for r, p in placed.items() if p.day == days[1]] == [4, 7, 2]
    with language("en"):
        assert weekplan.said(placed[5].left_over).startswith("no address known")
    with language("nl"):
        assert weekplan.said(placed[5].left_over).startswith("geen adres bekend")
    full = {p.candidate.report_id: p for p in weekplan.plan(c, days[:1], {("Limburg", "warning"): 2})}
    with language("nl"):
        assert full[4].day and weekplan.said(full[3].left_over).startswith("capaciteit van Limburg bereikt: 2 per dag over 1 dagen")
    none = weekplan.plan(c[:1], days, {})
    with language("nl"):
        assert "neemt deze week geen werk van het soort waarschuwing" in weekplan.said(none[0].left_over)


@given(st.dictionaries(st.sampled_from(["Limburg", "Den Haag", "Oost-Nederland"]),
                       st.tuples(st.none() | st.integers(0, 99), st.none() | st.integers(0, 99)), max_size=3))
def test_overrides_as_written_read_back_as_given(given_overrides):
    """What the CLI's --override and the web form's field say is what the planner gets, one per line or comma."""
    written = [f"{u}={'' if w is None else w}/{'' if s is None else s}" for u, (w, s) in given_overrides.items()]
    assert actionweeks.parse_overrides(["\n".join(written)]) == given_overrides
    assert actionweeks.parse_overrides([", ".join(written)]) == given_overrides
    with pytest.raises(actionweeks.ActionWeekError, match="UNIT=WARNINGS/SEARCHES"):
        actionweeks.parse_overrides(["Limburg 4/2"])
