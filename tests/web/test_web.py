"""The web application as its users meet it: logged in or sent to the login, each role its own
screens and actions, a unit's cases out of sight of another unit, no state change without the
form's token, Dutch by default."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from tiptriage.audit.models import AuditEvent
from tiptriage.db import open_session
from tiptriage.registry.models import PoliceWarning
from tiptriage.triage.models import TriageState
from web.conftest import PASSWORD, csrf_of, login, token


def _events(action: str) -> list[AuditEvent]:
    with open_session() as s:
        return list(s.execute(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
                    .scalars())


def _all_routes(routes):
    for route in routes:
        inner = getattr(route, "original_router", None)  # an included router (FastAPI keeps them nested)
        yield from _all_routes(inner.routes) if inner is not None else [route]


# What answers without a login, on purpose: the login itself and the API's description (no data).
PUBLIC = {"/login", "/api/openapi.json", "/api/docs", "/api/v1/schemas/report.json"}
# The login through an identity provider: not there (404) while none is configured (tests/web/test_oidc.py).
SIGN_IN = {"/auth/oidc/login", "/auth/oidc/callback"}


def _routes(client):
    for route in _all_routes(client.app.routes):
        path = getattr(route, "path", "")
        if path.startswith("/static") or not getattr(route, "methods", None):
            continue
        yield route, path.replace("{report_id}", "1").replace("{subject_id}", "1").replace(
            "{warning_id}", "1").replace("{alert_id}", "1").replace("{review_id}", "1").replace("{answer}", "reject").replace(
            "{name}", "known")


def test_every_screen_and_action_refuses_an_anonymous_request(client):
    seen, public = 0, set()
    for route, path in _routes(client):
        for method in route.methods - {"HEAD"}:
            answer = client.request(method, path)
            if path in PUBLIC and answer.status_code == 200:
                public.add(path)
                continue
            if path in SIGN_IN:
                assert answer.status_code == 404, path
                continue
            expected = (401,) if path.startswith("/api/") else (303, 400)  # 400: a form without its token
            assert answer.status_code in expected, (method, path, answer.status_code)
            if method == "GET" and path not in ("/", "/login"):
                assert answer.headers.get("location", "/login").startswith("/login"), path
            seen += 1
    assert seen >= 25 and public == PUBLIC


def test_login_in_dutch_wrong_password_refused_and_locked_after_five(client, store):
    page = client.get("/login")
    assert "Inloggen" in page.text and "Gebruikersnaam" in page.text
    wrong = login(client, "anna", "niet-het-wachtwoord")
    assert wrong.status_code == 401 and "Inloggen geweigerd" in wrong.text
    for _ in range(4):
        login(client, "anna", "niet-het-wachtwoord")
    assert login(client, "anna").status_code == 401  # locked, though the password is right now
    assert len(_events("user.login_failed")) == 6
    assert login(client, "nobody").status_code == 401  # the same answer for an unknown id


def test_the_queue_counts_filters_in_the_url_and_answers_htmx_with_rows_only(client, store):
    assert login(client, "anna").headers["location"] == "/queue"
    page = client.get("/queue")
    assert page.status_code == 200 and "Werkvoorraad" in page.text and f'href="/reports/{store.waiting}"' in page.text
    assert "WAARSCHUWING" in page.text and 'class="badge"' in page.text  # the re-report's alert
    only = client.get("/queue", params={"outcome": "CRIMINAL_CASE"})
    assert f'href="/reports/{store.rereport}"' in only.text and f'href="/reports/{store.waiting}"' not in only.text
    rows = client.get("/queue", params={"outcome": "CRIMINAL_CASE"}, headers={"HX-Request": "true"})
    assert rows.text.lstrip().startswith("<table") and "<html" not in rows.text
    assert _events("triage.queue.view")[-1].actor == "anna"


def test_the_queue_narrows_by_source_age_band_and_period_and_says_why_in_words(client, store):
    login(client, "anna")
    shown = lambda **params: client.get("/queue", params=params).text  # noqa: E731
    assert f'href="/reports/{store.waiting}"' in shown(age_band="40+", source="NCMEC")  # Piet, born 1979
    assert f'href="/reports/{store.waiting}"' not in shown(age_band="16-17")
    assert "Hier wacht niets." in shown(source="Interpol")
    received = client.get("/queue").text
    assert f'href="/reports/{store.waiting}"' not in shown(until="2000-01-01")
    assert f'href="/reports/{store.waiting}"' in shown(since="2000-01-01")
    # The rows say why in the policy's words, flags in the reader's, and mark the re-report's alert.
    assert "strafverzwarend" in received and "aggravation" not in received.replace('"aggravation"', "")
    assert "Nieuwe melding na officiële waarschuwing" in received and 'class="alert-mark"' in received
    # The filters stay in the links the page makes (counts, pages), so a view can be shared.
    assert "age_band=40%2B" in shown(age_band="40+")
    views = len(_events("triage.queue.view"))
    refused = client.get("/queue", params={"since": "gisteren"})
    assert refused.status_code == 400 and "is geen datum" in refused.text
    backwards = client.get("/queue", params={"since": "2024-02-01", "until": "2024-01-01"})
    assert backwards.status_code == 400 and "begint" in backwards.text
    assert client.get("/queue", params={"age_band": "oud"}).status_code == 400
    assert len(_events("triage.queue.view")) == views  # a refused view showed nothing, so consulted nothing


def test_a_report_shows_rules_files_and_persons_and_its_view_is_on_record(client, store):
    login(client, "anna")
    page = client.get(f"/reports/{store.waiting}")
    assert page.status_code == 200 and "Pieters" in page.text and "md5" in page.text
    assert "Advies" in page.text and "first-time" in page.text.lower() or "rule" in page.text.lower()
    viewed = _events("report.view")[-1]
    assert (viewed.actor, viewed.entity_ids, viewed.reason) == ("anna", [store.waiting], "web")


def test_a_warning_proposed_by_one_is_approved_by_a_second_and_delivered(client, store):
    login(client, "anna")
    proposed = client.post(f"/reports/{store.waiting}/decide",
                           data={"justification": "Eerste keer, alleen gedownload.", "csrf": csrf_of(client)})
    assert proposed.status_code == 303 and proposed.headers["location"].startswith("/warnings/")
    warning = proposed.headers["location"]
    own = client.post(f"{warning}/approve", data={"csrf": csrf_of(client)})
    assert own.status_code == 403  # an analyst approves nothing, least of all their own proposal
    client.post("/logout", data={"csrf": csrf_of(client)})
    login(client, "bram")
    gated = client.post(f"{warning}/approve", data={"csrf": csrf_of(client)})
    # Jan, warned before, logged in from the same IP address: the approval stops and says so.
    assert gated.status_code == 400 and "niet goedgekeurd" in gated.text
    refusal = gated.text.split('role="alert">')[1].split("</p>")[0]
    assert "Vergelijk ze onder" in refusal and "tiptriage" not in refusal and "--" not in refusal  # page words
    assert "mogelijk eerdere waarschuwingen" in client.get(warning).text.lower()
    approved = client.post(f"{warning}/approve", data={"csrf": csrf_of(client),
                                                       "acknowledgement": "BRP: Piet is niet Jan; gedeelde wifi."})
    assert approved.status_code == 303
    client.post("/logout", data={"csrf": csrf_of(client)})
    login(client, "cor")
    delivered = client.post(f"{warning}/deliver", data={"csrf": csrf_of(client), "on": "2024-03-01",
                                                        "officer": "Agent 0412", "referral_accepted": "yes"})
    assert delivered.status_code == 303 and "uitgereikt" in client.get(warning).text


def test_no_state_change_without_the_forms_token(client, store):
    login(client, "anna")
    refused = client.post(f"/reports/{store.waiting}/decide", data={"justification": "x"})
    assert refused.status_code == 400 and "verlopen" in refused.text
    forged = client.post(f"/reports/{store.waiting}/decide", data={"justification": "x", "csrf": "guess"})
    assert forged.status_code == 400
    with open_session() as s:
        assert s.get(TriageState, store.waiting).status == "open"
        assert s.execute(select(PoliceWarning).where(PoliceWarning.state == "proposed")).first() is None


def test_another_units_case_is_not_found_and_the_attempt_is_on_record(client, store):
    login(client, "rita")  # Rotterdam; the cases are Limburg's
    assert store.unit != "Rotterdam"
    assert client.get(f"/reports/{store.waiting}").status_code == 404
    assert _events("report.view_refused")[-1].actor == "rita"
    assert client.get("/queue").status_code == 200 and f"/reports/{store.waiting}" not in client.get("/queue").text
    assert client.get(f"/queue?unit={store.unit}").status_code == 404
    assert client.get(f"/warnings/{store.warning_id}").status_code == 404


@pytest.mark.parametrize("uid, path, status", [
    ("otto", "/queue", 403), ("ida", "/queue", 403), ("adam", "/queue", 403),  # no cases for these roles
    ("cor", "/queue", 200), ("anna", "/alerts", 200),
])
def test_each_role_sees_what_it_should(client, store, uid, path, status):
    login(client, uid)
    assert client.get(path).status_code == status


def test_an_officer_may_not_decide(client, store):
    login(client, "cor")
    answer = client.post(f"/reports/{store.waiting}/decide", data={"justification": "x", "csrf": csrf_of(client)})
    assert answer.status_code == 403


def test_idle_sessions_end_and_english_is_a_click_away(client, store, monkeypatch):
    login(client, "anna")
    english = client.post("/language", data={"lang": "en", "next": "/queue", "csrf": csrf_of(client)})
    assert english.status_code == 303 and "Queue" in client.get("/queue").text
    later = time.time() + 31 * 60
    monkeypatch.setattr("tiptriage.web.auth.time.time", lambda: later)
    assert client.get("/queue").headers["location"].startswith("/login")


def test_pages_carry_no_framing_no_caching_and_scripts_only_from_here(client, store):
    login(client, "anna")
    headers = client.get("/queue").headers
    assert headers["x-frame-options"] == "DENY" and headers["cache-control"] == "no-store"
    assert "default-src 'self'" in headers["content-security-policy"]
    assert token(client)


def _open_review(store) -> int:
    from datetime import UTC, datetime

    from tiptriage.subjects import reviews
    from tiptriage.triage import service as triage

    with open_session() as s:
        one, other = (triage.report_triage(s, r)["recommendation"]["subject_ids"][0]
                      for r in (store.waiting, store.warned_report))
        review_id = reviews.open_review(s, "possible_same_subject", None, one, other, None, 3.5,
                                     datetime(2024, 1, 1, tzinfo=UTC))
        s.commit()
        return review_id


def test_an_analyst_answers_a_possible_match_and_the_reports_are_triaged_at_once(client, store):
    review_id = _open_review(store)
    login(client, "rita")  # Rotterdam: neither side is her units' work
    assert f"/reviews/{review_id}" not in client.get("/reviews").text
    assert client.get(f"/reviews/{review_id}").status_code == 404
    client.post("/logout", data={"csrf": csrf_of(client)})
    login(client, "anna")
    assert f'href="/reviews/{review_id}"' in client.get("/reviews").text
    page = client.get(f"/reviews/{review_id}")
    assert page.status_code == 200 and "Verschillende personen: afwijzen" in page.text
    answered = client.post(f"/reviews/{review_id}/reject", data={"reason": "Andere geboortedatum (BRP).",
                                                                 "csrf": csrf_of(client)})
    assert answered.status_code == 303 and answered.headers["location"].startswith("/subjects/")
    with open_session() as s:
        from tiptriage.subjects import retriage
        from tiptriage.subjects.models import SubjectReview

        assert s.get(SubjectReview, review_id).status == "rejected"
        assert store.waiting not in retriage.pending_retriage(s)  # triaged again at once, not left queued
    assert _events("subjects.review.view")[-1].actor == "anna"



def _unknown_age_report(tmp_path) -> int:
    """A first-time download by a person whose age nothing states: WARNING, but the age gate holds."""
    from triage.dbdata import ingest, known, person, report

    from tiptriage.accounts.actor import Actor
    from tiptriage.subjects import linking
    from tiptriage.triage import service as triage

    with open_session() as s:
        [rid] = ingest(s, tmp_path / "age", report("u-1", known(3), who=person(
            "Kees", "Koster", email="kees@example.org", dob=None, postcode="6211 CD")))
        linking.resolve_reports(s, [rid], actor=Actor("pipeline"))
        triage.triage_reports(s, [rid], actor=Actor("pipeline"))
        s.commit()
    return rid


def test_the_age_gate_says_what_to_do_on_the_page_and_the_register_check_is_recorded_there(client, store, tmp_path):
    rid = _unknown_age_report(tmp_path)
    login(client, "anna")
    page = client.get(f"/reports/{rid}")
    assert "Geboortedatum gecontroleerd in een register" in page.text and "<details class=\"record\" open>" in page.text
    warning = client.post(f"/reports/{rid}/decide", data={"justification": "Alleen gedownload.",
                                                          "csrf": csrf_of(client)}).headers["location"]
    client.post("/logout", data={"csrf": csrf_of(client)})
    login(client, "bram")
    gated = client.post(f"{warning}/approve", data={"csrf": csrf_of(client)})
    assert gated.status_code == 400 and f"leg die vast op de pagina van melding {rid}" in gated.text
    assert "tiptriage birth-date" not in gated.text
    wrong = client.post(f"/reports/{rid}/birth-date", data={"born": "1975-02-03", "source": "GBA", "note": "q-1",
                                                            "csrf": csrf_of(client)})
    assert wrong.status_code == 400 and "GBA" in wrong.text  # a register tiptriage does not know
    checked = client.post(f"/reports/{rid}/birth-date", data={"born": "1975-02-03", "source": "BRP",
                                                              "note": "BRP-bevraging 2024-118", "csrf": csrf_of(client)})
    assert checked.status_code == 303 and _events("triage.birth_date")[-1].actor == "bram"
    assert client.post(f"{warning}/approve", data={"csrf": csrf_of(client)}).status_code == 303


def test_a_warning_is_revoked_on_its_page_and_its_reports_return_to_the_queue(client, store, tmp_path):
    rid = _unknown_age_report(tmp_path)
    login(client, "bram")
    warning = client.post(f"/reports/{rid}/decide", data={"justification": "Alleen gedownload.",
                                                          "csrf": csrf_of(client)}).headers["location"]
    assert "Intrekken" in client.get(warning).text
    assert client.post(f"{warning}/revoke", data={"reason": "", "csrf": csrf_of(client)}).status_code in (400, 422)
    revoked = client.post(f"{warning}/revoke", data={"reason": "Jeugdtraject: 17 jaar volgens BRP.",
                                                     "csrf": csrf_of(client)})
    assert revoked.status_code == 303 and "ingetrokken" in client.get(warning).text
    with open_session() as s:
        assert s.get(TriageState, rid).status == "reopened"


def test_an_identification_is_recorded_on_the_report_page_and_other_units_may_not(client, store):
    login(client, "rita")  # Rotterdam's analyst guesses a Limburg report's id
    form = {"given_name": "Piet", "family_name": "Pieters", "source": "BRP", "reference": "BRP-1",
            "note": "Abonneegegevens provider", "csrf": csrf_of(client)}
    assert client.post(f"/reports/{store.waiting}/identify", data=form).status_code == 404
    assert _events("report.record_refused")[-1].actor == "rita"
    client.post("/logout", data={"csrf": csrf_of(client)})
    login(client, "anna")
    done = client.post(f"/reports/{store.waiting}/identify", data=form | {"csrf": csrf_of(client)})
    assert done.status_code == 303 and _events("subjects.identification")[-1].actor == "anna"


def test_a_search_by_identifier_asks_why_keeps_it_on_record_and_shows_only_the_units_own(client, store):
    login(client, "anna")
    assert client.get("/search", params={"identifier": "piet@example.org"}).status_code == 400  # no reason
    found = client.get("/search", params={"identifier": "PIET@example.org ", "reason": "Melding b-1 nagaan"})
    assert found.status_code == 200 and "/subjects/" in found.text
    searched = _events("subjects.search")[-1]
    assert (searched.actor, searched.reason) == ("anna", "Melding b-1 nagaan")
    assert client.get("/search", params={"identifier": "x", "kind": "bsn", "reason": "r"}).status_code == 400
    client.post("/logout", data={"csrf": csrf_of(client)})
    login(client, "rita")  # Rotterdam: the man is Limburg's work; that another unit knows him is all she learns
    elsewhere = client.get("/search", params={"identifier": "piet@example.org", "reason": "Tip van collega"})
    assert "/subjects/" not in elsewhere.text.split("<main")[-1] and "1 meer in het werk van andere eenheden" in elsewhere.text


def test_work_nothing_placed_is_listed_and_given_a_unit_there(client, store, tmp_path):
    """A report without a Dutch address waits at the national unit until a person gives its subject a unit."""
    from triage.dbdata import ingest, known, person, report

    from tiptriage.accounts.actor import Actor
    from tiptriage.subjects import linking
    from tiptriage.triage import service as triage

    with open_session() as s:
        [rid] = ingest(s, tmp_path / "np", report("np-1", known(4), who=person(
            "Sem", "Smit", email="sem@example.org", postcode=None)))
        linking.resolve_reports(s, [rid], actor=Actor("pipeline"))
        triage.triage_reports(s, [rid], actor=Actor("pipeline"))
        s.commit()
    login(client, "anna")
    listed = client.get("/units/unassigned")
    assert listed.status_code == 200 and f'href="/reports/{rid}"' in listed.text
    assert "/units/unassigned" in client.get("/queue").text  # two clicks from the queue
    subject = int(listed.text.split('action="/units/unassigned/')[1].split('"')[0])
    assert client.post(f"/units/unassigned/{subject}", data={"unit": "Rotterdam", "reason": "",
                                                            "csrf": csrf_of(client)}).status_code in (400, 422)
    given = client.post(f"/units/unassigned/{subject}", data={"unit": "Rotterdam", "reason": "Adres van de provider",
                                                             "csrf": csrf_of(client)})
    assert given.status_code == 303 and f'href="/reports/{rid}"' not in client.get("/units/unassigned").text
    with open_session() as s:
        assert s.get(TriageState, rid).unit == "Rotterdam"
