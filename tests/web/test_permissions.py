"""Each role can do exactly what it should, through the web application (the services decide; the
pages only ask them): the screens each role opens, and the actions each role is refused."""

from __future__ import annotations

import pytest

from web.conftest import csrf_of, login

CASES = {"anna", "bram", "cor"}  # analyst, team lead, officer: they see cases
SCREENS = {  # path (filled from the store) -> who may open it
    "/queue": CASES, "/reports/{waiting}": CASES, "/subjects/{subject}": CASES, "/warnings/{warning}": CASES,
    "/alerts": CASES, "/search": CASES, "/ingest": {"anna", "bram", "ida", "adam"}, "/audit": {"otto", "adam"},
    "/actionweeks": CASES, "/units/unassigned": CASES,
    "/stats": {"anna", "bram"}, "/stats/evaluation": {"anna", "bram"},  # view_stats: who steers the work
    "/banks": {"anna", "bram", "adam"}, "/banks/known": {"anna", "bram", "adam"},
}
USERS = ("anna", "bram", "cor", "ida", "otto", "adam")


def _fill(path: str, store, client) -> str:
    return path.format(waiting=store.waiting, warning=store.warning_id, subject=_subject(client, store))


def _subject(client, store) -> int:
    from tiptriage.db import open_session
    from tiptriage.triage import service as triage

    with open_session() as s:
        return triage.report_triage(s, store.waiting)["recommendation"]["subject_ids"][0]


@pytest.mark.parametrize("uid", USERS)
def test_each_role_opens_exactly_its_screens(client, store, uid):
    login(client, uid)
    opened = {path for path in SCREENS if client.get(_fill(path, store, client)).status_code == 200}
    assert opened == {path for path, who in SCREENS.items() if uid in who}
    refused = {client.get(_fill(path, store, client)).status_code for path in set(SCREENS) - opened}
    assert refused <= {403}


@pytest.mark.parametrize("uid, action", [
    ("cor", "decide"), ("ida", "decide"), ("otto", "decide"), ("adam", "decide"),
    ("anna", "approve"), ("cor", "approve"), ("ida", "ack"), ("otto", "ack"), ("adam", "ack"),
    ("anna", "revoke"), ("cor", "revoke"), ("adam", "revoke"),
    ("cor", "birth-date"), ("ida", "birth-date"), ("otto", "birth-date"), ("adam", "birth-date"),
    ("cor", "identify"), ("ida", "identify"), ("adam", "identify"),
    ("anna", "plan_week"), ("cor", "plan_week"), ("ida", "plan_week"), ("otto", "plan_week"), ("adam", "plan_week"),
    ("anna", "import_bank"), ("bram", "import_bank"), ("cor", "import_bank"), ("ida", "import_bank"),
    ("otto", "import_bank"),
])
def test_each_role_is_refused_the_actions_it_may_not_take(client, store, uid, action):
    login(client, uid)
    token = csrf_of(client)  # every page carries it, a refusal's too
    path, data = {"decide": (f"/reports/{store.waiting}/decide", {"justification": "x"}),
                  "approve": (f"/warnings/{store.warning_id}/approve", {}),
                  "ack": ("/alerts/1/ack", {}),
                  "revoke": (f"/warnings/{store.warning_id}/revoke", {"reason": "x"}),
                  "birth-date": (f"/reports/{store.waiting}/birth-date",
                                 {"born": "1979-03-02", "source": "BRP", "note": "x"}),
                  "identify": (f"/reports/{store.waiting}/identify",
                               {"given_name": "P", "family_name": "P", "source": "BRP", "reference": "r",
                                "note": "x"}),
                  "plan_week": ("/actionweeks", {"name": "w", "start": "2024-03-04", "end": "2024-03-08",
                                                 "warnings_per_day": "1", "searches_per_day": "1",
                                                 "unit": "Limburg"}),
                  "import_bank": ("/banks", {"name": "known"})}[action]
    files = {"file": ("b.csv", b"hash_type,hash\n")} if action == "import_bank" else None
    assert client.post(path, data=data | {"csrf": token}, files=files).status_code == 403



def test_statistics_of_another_unit_are_refused_and_reading_them_is_on_record(client, store):
    from sqlalchemy import select

    from tiptriage.audit.models import AuditEvent
    from tiptriage.db import open_session

    login(client, "rita")  # an analyst of Rotterdam
    assert client.get("/stats?unit=Rotterdam").status_code == 200
    assert client.get("/stats?unit=Amsterdam").status_code == 404  # as if the unit's figures did not exist
    assert client.get("/stats/evaluation").status_code == 200
    with open_session() as s:
        looked = s.execute(select(AuditEvent.action, AuditEvent.details).where(AuditEvent.actor == "rita",
                                                                            AuditEvent.action.like("stats.%"))).all()
    assert [(a, d["units"]) for a, d in looked] == [("stats.view", ["Rotterdam"]), ("stats.evaluation", ["Rotterdam"])]


def test_a_period_that_cannot_be_is_a_bad_request(client, store):
    login(client, "bram")
    assert client.get("/stats?since=gisteren").status_code == 400
    assert client.get("/stats/evaluation?until=2024-13-01").status_code == 400
    page = client.get("/stats?since=2023-01-01&until=2024-12-31")
    assert page.status_code == 200 and "<svg" in page.text and "<script" not in page.text.split("<main>")[1]
