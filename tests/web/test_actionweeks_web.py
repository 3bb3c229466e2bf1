"""The action week screens: a team lead plans a week, an officer opens the unit's work list, downloads
it (CSV, PDF: on record) and records an outcome; a second outcome for the item is refused in Dutch;
the summary counts what was recorded."""

from __future__ import annotations

import io
import re
from contextlib import nullcontext

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from tiptriage import flows
from tiptriage.accounts.actor import Actor
from tiptriage.audit.models import AuditEvent
from tiptriage.audit.service import unit_of_work
from tiptriage.db import open_session
from web.conftest import csrf_of, login


def approve_waiting(store) -> int:
    """Piet's first report: WARNING decided by an analyst, approved by a team lead (Jan's earlier
    warning shares the IP address: acknowledged)."""
    with open_session() as s, unit_of_work(lambda: nullcontext(s)):
        warning = flows.propose_warning(s, store.waiting, actor=Actor("anna", roles=("analyst",)),
                                        justification="Eerste melding, alleen gedownload.")
        flows.approve_warning(s, warning.id, actor=Actor("bram", roles=("team_lead",)),
                              acknowledgement="BRP: Piet Pieters is niet Jan Jansen.")
        return warning.id


def plan_week(client, name="voorjaar") -> str:
    login(client, "bram")
    form = {"csrf": csrf_of(client), "name": name, "start": "2024-03-04", "end": "2024-03-08",
            "warnings_per_day": "2", "searches_per_day": "1", "unit": ["Limburg", "Amsterdam"]}
    answer = client.post("/actionweeks", data=form)
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


@pytest.fixture
def week(client, store):
    warning_id = approve_waiting(store)
    return plan_week(client), warning_id


def _exports(action="actionweek.worklist.export") -> int:
    with open_session() as s:
        return s.execute(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)).scalar()


def test_a_week_planned_worked_and_summed_up_on_the_screens(client, store, week):
    url, warning_id = week
    plan = client.get(url)
    assert plan.status_code == 200 and "Limburg" in plan.text and "voorjaar" in plan.text
    client.post("/logout", data={"csrf": csrf_of(client)})
    login(client, "cor")
    listed = client.get(f"{url}/units/Limburg")
    assert listed.status_code == 200 and "Pieters" in listed.text and "Markt 1" in listed.text
    before = _exports()
    pdf = client.get(f"{url}/units/Limburg/worklist.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Piet Pieters" in text and "Stop it Now!" in text
    csv = client.get(f"{url}/units/Limburg/worklist.csv")
    assert "Piet Pieters" in csv.content.decode("utf-8-sig")
    assert _exports() == before + 2
    item = re.search(r'action="(/actionweeks/\d+/items/\d+)"', listed.text).group(1)
    form = {"csrf": csrf_of(client), "unit": "Limburg", "outcome": "delivered", "on": "2024-03-05",
            "officer": "Agent 0412", "referral_accepted": "yes"}
    assert client.post(item, data=form).status_code == 303
    again = client.post(item, data=form)
    assert again.status_code == 400 and "heeft al een uitkomst" in again.text
    outside = client.post(item.replace(item.rsplit("/", 1)[1], "999999"), data=form)
    assert outside.status_code == 404
    warning = client.get(f"/warnings/{warning_id}")
    assert "uitgereikt" in warning.text  # the registry's delivery, not a copy of it
    with open_session() as s:
        from tiptriage.registry.models import PoliceWarning

        delivered = s.get(PoliceWarning, warning_id)
        assert (delivered.delivered_by, delivered.referral_accepted, str(delivered.delivered_on)) == (
            "Agent 0412", True, "2024-03-05")
    summary = client.get(f"{url}/summary")
    assert "1 personen gewaarschuwd, bij 0 doorzoekingen" in summary.text


def test_only_a_team_lead_plans_and_an_analyst_gets_no_work_list(client, store, week):
    url, _ = week
    for uid in ("anna", "cor"):
        client.post("/logout", data={"csrf": csrf_of(client)})
        login(client, uid)
        form = {"csrf": csrf_of(client), "name": f"x-{uid}", "start": "2024-03-04", "end": "2024-03-08",
                "warnings_per_day": "1", "searches_per_day": "1", "unit": ["Limburg"]}
        assert client.post("/actionweeks", data=form).status_code == 403
    assert client.get(f"{url}/units/Limburg").status_code == 200  # cor, an officer
    client.post("/logout", data={"csrf": csrf_of(client)})
    login(client, "anna")
    assert client.get(f"{url}/units/Limburg").status_code == 403
    assert client.get(f"{url}/units/Limburg/worklist.pdf").status_code == 403


def test_a_plan_with_its_dates_the_wrong_way_round_is_refused_on_the_form(client, store):
    login(client, "bram")
    form = {"csrf": csrf_of(client), "name": "achterstevoren", "start": "2024-03-08", "end": "2024-03-04",
            "warnings_per_day": "1", "searches_per_day": "1", "unit": ["Limburg"]}
    answer = client.post("/actionweeks", data=form)
    assert answer.status_code == 400 and "een actieweek loopt van een dag" in answer.text
    assert 'value="achterstevoren"' in answer.text


def test_a_units_own_capacity_is_given_on_the_form_and_a_wrong_one_refused_there(client, store):
    login(client, "bram")
    form = {"csrf": csrf_of(client), "name": "eigen", "start": "2024-03-04", "end": "2024-03-08",
            "warnings_per_day": "1", "searches_per_day": "1", "unit": ["Limburg"], "overrides": "Limburg=veel/2"}
    refused = client.post("/actionweeks", data=form)
    assert refused.status_code == 400 and "niet Limburg=veel/2" in refused.text and "Limburg=veel/2</textarea>" in refused.text
    planned = client.post("/actionweeks", data=form | {"overrides": "Limburg=4/\n"})
    assert planned.status_code == 303
    with open_session() as s:
        from tiptriage.operations.models import ActionWeek

        assert s.execute(select(ActionWeek.overrides).where(ActionWeek.name == "eigen")).scalar_one() == {
            "Limburg": {"warnings": 4, "searches": None}}
