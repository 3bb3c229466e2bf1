"""The REST API: a token acts as its account and only within its scopes; without one, or with a
revoked one, nothing is answered; the documents are the CLI's; OpenAPI describes it, served from here."""

from __future__ import annotations

from tiptriage.accounts import tokens
from tiptriage.db import open_session
from web.conftest import ADMIN


def _token(uid: str, *scopes: str) -> tuple[str, int]:
    with open_session() as s:
        token, row = tokens.issue(s, f"test {uid}", for_user=uid, scopes=list(scopes), actor=ADMIN)
        s.commit()
        return token, row.id


def _auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_without_a_valid_token_nothing_is_answered(client, store):
    for path in ("/api/v1/queue", f"/api/v1/reports/{store.waiting}", "/api/v1/alerts"):
        answer = client.get(path)
        assert answer.status_code == 401 and answer.json()["error"] and answer.headers["www-authenticate"] == "Bearer"
        assert client.get(path, headers=_auth("tt_guessed")).status_code == 401
    # A browser's session is no token: the API has no CSRF protection because it takes no cookies.
    assert client.post(f"/api/v1/reports/{store.waiting}/decide", json={"justification": "x"}).status_code == 401


def test_a_token_may_do_only_what_its_scopes_say_and_stops_when_revoked(client, store):
    read, token_id = _token("anna", "read")
    queue = client.get("/api/v1/queue", headers=_auth(read))
    assert queue.status_code == 200 and store.waiting in {r["report_id"] for r in queue.json()}
    report = client.get(f"/api/v1/reports/{store.waiting}", headers=_auth(read)).json()
    assert report["persons"][0]["family_name"] == "Pieters" and report["triage"]["recommendation"]["outcome"]
    refused = client.post(f"/api/v1/reports/{store.waiting}/decide", json={"justification": "x"}, headers=_auth(read))
    assert refused.status_code == 403 and "read" in refused.json()["error"]
    with open_session() as s:
        tokens.revoke(s, token_id, actor=ADMIN, reason="feed stopped")
        s.commit()
    assert client.get("/api/v1/queue", headers=_auth(read)).status_code == 401


def test_a_token_acts_as_its_account_roles_and_units_included(client, store):
    officer, _ = _token("cor", "read", "decide")
    answer = client.post(f"/api/v1/reports/{store.waiting}/decide", json={"justification": "x"},
                         headers=_auth(officer))
    assert answer.status_code == 403  # the scope allows deciding, the officer's role does not
    rotterdam, _ = _token("rita", "read")
    assert client.get(f"/api/v1/reports/{store.waiting}", headers=_auth(rotterdam)).status_code == 404
    analyst, _ = _token("anna", "read", "decide")
    proposed = client.post(f"/api/v1/reports/{store.waiting}/decide", json={"justification": "Eerste keer."},
                           headers=_auth(analyst))
    assert proposed.status_code == 200 and proposed.json()["outcome"] == "WARNING" and proposed.json()["warning_id"]


def test_openapi_describes_the_api_and_its_documentation_is_served_from_here(client, store):
    spec = client.get("/api/openapi.json").json()
    assert {"/api/v1/queue", "/api/v1/reports/{report_id}", "/api/v1/ingest"} <= set(spec["paths"])
    docs = client.get("/api/docs").text
    assert "/static/swagger/swagger-ui-bundle.js" in docs and "http" not in docs.split("<body>")[1].replace(
        "/static", "")
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    assert client.get("/api/v1/schemas/report.json").json()["$schema"]


def _subject_of(client, token: str, report_id: int) -> tuple[int, int]:
    """The subject of a report's reported person, and that person's id."""
    person = client.get(f"/api/v1/reports/{report_id}", headers=_auth(token)).json()["persons"][0]
    return person["subject_id"], person["id"]


def test_subjects_are_merged_split_and_matches_answered_with_the_subjects_scope_only(client, store):
    read, _ = _token("anna", "read")
    piet, piet_person = _subject_of(client, read, store.waiting)
    jan, _ = _subject_of(client, read, store.warned_report)
    body = {"other_id": piet, "reason": "Zelfde man volgens provider."}
    assert client.post(f"/api/v1/subjects/{jan}/merge", json=body, headers=_auth(read)).status_code == 403
    rotterdam, _ = _token("rita", "read", "subjects")
    assert client.post(f"/api/v1/subjects/{jan}/merge", json=body, headers=_auth(rotterdam)).status_code == 404
    shaper, _ = _token("anna", "read", "subjects")
    merged = client.post(f"/api/v1/subjects/{jan}/merge", json=body, headers=_auth(shaper))
    assert merged.status_code == 200 and store.waiting in merged.json()["retriaged_reports"]
    assert _subject_of(client, read, store.waiting)[0] == jan
    split = client.post(f"/api/v1/subjects/{jan}/split", json={"persons": [piet_person], "reason": "Toch niet."},
                        headers=_auth(shaper))
    assert split.status_code == 200 and _subject_of(client, read, store.waiting)[0] != jan
    assert client.get("/api/v1/reviews", headers=_auth(read)).status_code == 200
    assert client.post("/api/v1/reviews/999999/confirm", json={"reason": "x"}, headers=_auth(shaper)).status_code == 404
    assert client.post("/api/v1/reviews/1/maybe", json={"reason": "x"}, headers=_auth(shaper)).status_code == 422


def test_a_register_check_is_recorded_with_the_record_scope(client, store):
    body = {"born": "1979-03-02", "source": "BRP", "note": "BRP-bevraging 7"}
    read, _ = _token("anna", "read")
    assert client.post(f"/api/v1/reports/{store.waiting}/birth-date", json=body, headers=_auth(read)).status_code == 403
    recorder, _ = _token("anna", "record")
    done = client.post(f"/api/v1/reports/{store.waiting}/birth-date", json=body, headers=_auth(recorder))
    assert done.status_code == 200 and done.json()["outcome"] == "WARNING"
    wrong = client.post(f"/api/v1/reports/{store.waiting}/birth-date", json=body | {"source": "GBA"},
                        headers=_auth(recorder))
    assert wrong.status_code == 400 and "GBA" in wrong.json()["error"]
