"""The web application in a real browser (Playwright driving Debian's Chromium, /usr/bin/chromium):
an analyst proposes a warning from the queue, a team lead approves it past its gate, an officer
records the delivery, the intake desk uploads a new report on the same man, and the analyst finds
the alert, the highlighted re-report and the escalation on the subject's timeline. Each screen is
saved under tests/web/screens/ (git-ignored) for a person to look at."""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from triage.dbdata import known, person, report

from tiptriage.intake.formats import cybertip
from web.conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
SCREENS = Path(__file__).parent / "screens"
pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed (make test installs Debian's)"),
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
]


@pytest.fixture
def server(store, monkeypatch):
    import uvicorn

    from tiptriage.web.app import create_app

    monkeypatch.setenv("TIPTRIAGE_WEB_SECURE_COOKIES", "false")  # plain http on the loopback
    from tiptriage import config

    config.get_settings.cache_clear()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    running = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    while not running.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(10)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


def _log_in(page, base: str, uid: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=user_id]", uid)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: url.startswith(base) and "/login" not in url)  # each role's first screen


def _log_out(page) -> None:
    page.click("text=Uitloggen")
    page.wait_for_url("**/login")


def _shot(page, name: str) -> None:
    SCREENS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def test_a_warning_from_queue_to_delivery_and_the_re_report_that_escalates(server, browser, store, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _shot_login = page.goto(f"{server}/queue")
    assert "/login" in page.url and _shot_login.ok
    _shot(page, "01-login")

    _log_in(page, server, "anna")
    page.select_option("select[name=outcome]", "WARNING")  # htmx swaps the rows and the URL
    page.wait_for_url("**outcome=WARNING**")
    assert page.locator(f"a[href='/reports/{store.rereport}']").count() == 0
    _shot(page, "02-queue-warnings")
    page.click(f"a[href='/reports/{store.waiting}']")
    assert "Pieters" in page.content()
    _shot(page, "03-report")
    page.fill("textarea[name=justification]", "Eerste melding, alleen gedownload, bekend materiaal.")
    page.click("text=Besluiten")
    page.wait_for_url("**/warnings/*")
    warning_url = page.url
    assert "voorgesteld" in page.content()
    _shot(page, "04-warning-proposed")
    _log_out(page)

    _log_in(page, server, "bram")
    page.goto(warning_url)
    page.click("text=Goedkeuren")
    assert "niet goedgekeurd" in page.content()  # Jan was warned, from the same IP address
    _shot(page, "05-approval-gated")
    page.goto(warning_url)
    page.fill("input[name=acknowledgement]", "BRP: Piet Pieters is niet Jan Jansen; gedeelde wifi.")
    page.click("text=Goedkeuren")
    page.wait_for_url(warning_url)
    assert "goedgekeurd" in page.content()
    _log_out(page)

    _log_in(page, server, "cor")
    page.goto(warning_url)
    page.fill("input[name=on]", "2024-03-01")  # the action week's day; the new report comes after it
    page.fill("input[name=officer]", "Agent 0412")
    page.click("text=Uitreiking vastleggen")
    page.wait_for_url(warning_url)
    assert "uitgereikt" in page.content()
    _shot(page, "06-warning-delivered")
    _log_out(page)

    again = report("b-2", known(3), who=person("Piet", "Pieters", email="piet@example.org", dob=date(1979, 3, 2)),
                   incident=datetime(2024, 6, 1, 10, tzinfo=UTC))
    upload = tmp_path / "b-2.xml"
    upload.write_bytes(cybertip.write(again, inline_files=True)[0])
    _log_in(page, server, "ida")
    page.goto(f"{server}/ingest")
    page.set_input_files("input[name=files]", str(upload))
    page.click("text=Inlezen")
    page.wait_for_selector("section.result")
    assert page.locator("section.result li.alert").count() == 1  # "Signaleringen: 1"
    _shot(page, "07-ingest")
    _log_out(page)

    _log_in(page, server, "anna")
    badge = page.locator("#alert-badge")
    assert badge.inner_text().strip() == "2"  # Jan's re-report before, Piet's now
    page.goto(f"{server}/queue?outcome=CRIMINAL_CASE")
    assert page.locator("tr.rereport").count() == 2
    _shot(page, "08-queue-rereport")
    page.click("tr.rereport >> nth=0 >> a")
    page.click("a[href^='/subjects/']")
    timeline = page.locator("ol.timeline").inner_text()
    assert "STRAFZAAK" in timeline and "uitgereikt" in timeline
    _shot(page, "09-subject-timeline")


def test_an_officer_opens_the_units_work_list_of_an_action_week(server, browser, store):
    from web.test_actionweeks_web import approve_waiting

    approve_waiting(store)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _log_in(page, server, "bram")
    page.click("text=Actieweken")
    page.fill("input[name=name]", "voorjaar-2024")
    page.fill("input[name=start]", "2024-03-04")
    page.fill("input[name=end]", "2024-03-08")
    page.click("form.plan button[type=submit]")
    page.wait_for_url("**/actionweeks/*")
    _shot(page, "10-actionweek-plan")
    _log_out(page)

    _log_in(page, server, "cor")
    page.goto(f"{server}/actionweeks")
    page.click("text=voorjaar-2024")
    page.click("a[href$='/units/Limburg']")
    assert "Piet Pieters" in page.content() and "Markt 1" in page.content()
    assert page.locator("a.download").count() == 2
    _shot(page, "11-actionweek-worklist")
    page.fill("input[name=officer]", "Agent 0412")
    page.fill("input[name=on]", "2024-03-05")
    page.click("form.outcome button[type=submit]")
    page.wait_for_url("**/units/Limburg**")
    assert "uitgereikt" in page.locator("table.worklist").inner_text()
    _shot(page, "12-actionweek-outcome")
def test_the_statistics_and_the_evaluation_of_warnings(server, browser, store, tmp_path):
    """A team lead reads the caseload and whether warnings work, on a generated set with a
    follow-up cohort (tests/insight/followup.py) added to the store; both screens are saved."""
    from insight import followup

    from tiptriage.db import open_session

    truth = followup.make_set(tmp_path / "set", seed=3, reports=1500, followup=100, extensions=True,
                              hazards={"warned": 0.1, "searched": 0.05, "no_action": 0.3})
    patch = followup.environment(truth, tmp_path)
    try:
        with open_session() as s:
            followup.record_interventions(s, truth)
            followup.answer_reviews(s, truth)
    finally:
        patch.undo()
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    _log_in(page, server, "bram")
    page.click("text=Statistieken")
    page.wait_for_url("**/stats")
    content = page.content()
    assert "Meldingen per maand per bron" in content and "Werkvoorraad naar wachttijd" in content
    assert "&lt;5" in content  # small counts suppressed in the chart and the tables
    _shot(page, "13-stats")
    page.click("text=Werkt waarschuwen?")
    page.wait_for_url("**/stats/evaluation")
    content = page.content()
    assert "Tijd tot de volgende melding" in content and "Lees dit eerst" in content and "Selectie" in content
    assert page.locator("figure.chart svg").count() == 1
    _shot(page, "14-evaluation")


def test_an_administrator_imports_a_bank_on_the_banks_screen(server, browser, tmp_path):
    from media import bankfiles

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _log_in(page, server, "adam")
    assert page.url == f"{server}/banks"  # an administrator's first screen: no queue to land on
    assert page.locator("header nav a").all_inner_texts() == ["Auditlog", "Invoer", "Banken"]
    bad = tmp_path / "export.csv"
    bad.write_bytes(bankfiles.csv([("md5", bankfiles.md5(), "X9", "") for _ in range(40)]))
    page.set_input_files("input[name=file]", str(bad))
    page.fill("input[name=name]", "nationaal")
    page.click("form.bank-import button[type=submit]")
    page.wait_for_selector("section.refused")
    assert page.locator("section.refused tbody tr").count() == 1  # one problem, not one a row
    _shot(page, "15-bank-refused")
    good = tmp_path / "nationaal.csv"
    good.write_bytes(bankfiles.csv([("md5", bankfiles.md5(), "X9", ""), ("sha1", bankfiles.sha1(), "X8", "")]))
    page.set_input_files("input[name=file]", str(good))
    page.fill("textarea[name=mapping]", "X9=child_abuse\nX8=exploitive")
    page.click("form.bank-import button[type=submit]")
    page.wait_for_selector("section.result")
    assert "versie 1" in page.locator("section.result").inner_text()
    _shot(page, "16-banks")
    page.click("a[href='/banks/nationaal']")
    assert "nationaal.csv" in page.locator("main").inner_text()
    _shot(page, "17-bank")
