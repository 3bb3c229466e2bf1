"""The web application on a test store: a warned person reported again (an alert, an escalated
re-report), a second report waiting for a decision, and accounts for each role."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient
from registry.scenario import warned_then_reported_again
from triage.dbdata import bank, ingest, known, person, report

from tiptriage import config
from tiptriage.accounts import users
from tiptriage.accounts.actor import Actor
from tiptriage.db import make_engine, session_factory
from tiptriage.subjects import actions, linking
from tiptriage.triage import service as triage

PASSWORD = "een-lang-wachtwoord"
ADMIN = Actor("setup")  # the CLI's actor on a store without an accounts file: every role


@dataclass
class Store:
    warning_id: int
    warned_report: int
    rereport: int
    waiting: int  # a first-time download, WARNING recommended, open
    unit: str  # the unit all of these are work of


ACCOUNTS = {"anna": ["analyst"], "bram": ["team_lead", "analyst"], "cor": ["officer"], "ida": ["intake"],
            "otto": ["auditor"], "adam": ["admin"]}


@pytest.fixture
def web_env(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("TIPTRIAGE_DATABASE_URL", db_url)
    monkeypatch.setenv("TIPTRIAGE_WEB_SECRET_FILE", str(tmp_path / "secret.key"))
    monkeypatch.setenv("TIPTRIAGE_PDQ_INDEX_DIR", str(tmp_path / "pdq-index"))
    config.get_settings.cache_clear()
    yield db_url
    config.get_settings.cache_clear()


@pytest.fixture
def store(web_env, tmp_path) -> Store:
    engine = make_engine(web_env)
    with session_factory(engine)() as s:
        warning_id, first, second = warned_then_reported_again(
            s, tmp_path, person("Jan", "Jansen", email="jan.jansen@example.nl"),
            person("J.", "Jansen", email="jj1980@example.org", dob=None))
        # An analyst finds the second report is the warned man's: the re-report is escalated, an alert raised.
        one, other = (triage.report_triage(s, r)["recommendation"]["subject_ids"][0] for r in (first, second))
        actions.merge(s, one, other, actor=ADMIN, reason="same man: the provider's subscriber data")
        triage.triage_pending(s, actor=Actor("pipeline"))
        [waiting] = ingest(s, tmp_path / "3", report("b-1", known(2), who=person(
            "Piet", "Pieters", email="piet@example.org", dob=date(1979, 3, 2))))
        linking.resolve_reports(s, [waiting], actor=Actor("pipeline"))
        triage.triage_reports(s, [waiting], actor=Actor("pipeline"))
        unit = triage.report_triage(s, first)["unit"]
        for uid, roles in ACCOUNTS.items():
            users.add_user(s, uid, display_name=uid.title(), password=PASSWORD, roles=roles, units=[], actor=ADMIN)
        users.add_user(s, "rita", display_name="Rita Rotterdam", password=PASSWORD, roles=["analyst"],
                       units=["Rotterdam"], actor=ADMIN)
        s.commit()
    engine.dispose()
    return Store(warning_id, first, second, waiting, unit)


@pytest.fixture
def client(store):
    from tiptriage.web.app import create_app

    with TestClient(create_app(), base_url="https://testserver", follow_redirects=False) as c:
        yield c


def token(client) -> str:
    page = client.get("/login")
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def login(client, uid: str, password: str = PASSWORD):
    return client.post("/login", data={"user_id": uid, "password": password, "csrf": token(client), "next": "/queue"})


def csrf_of(client) -> str:
    page = client.get("/queue")
    return re.search(r'"X-CSRF-Token": "([^"]+)"', page.text).group(1)
