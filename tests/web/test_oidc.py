"""Login through the unit's identity provider (OpenID Connect), against a provider of the test's own:
its discovery document, its keys (an RSA key made here, published as a JWKS) and its token endpoint
are answered through the HTTP transport Authlib's client is given — no network. Groups map to
roles and units; a person whose groups map to nothing, a state that is not ours, an ID token not
signed by the provider and a disabled account are refused, in Dutch and on record."""

from __future__ import annotations

import json
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import select
from typer.testing import CliRunner

from tiptriage import config
from tiptriage.accounts import users
from tiptriage.accounts.models import User
from tiptriage.audit.models import AuditEvent
from tiptriage.cli import app
from tiptriage.db import open_session
from web.conftest import ADMIN, PASSWORD, login

ISSUER = "https://sso.politie.example"
CLIENT_ID = "tiptriage-test"


class Provider:
    """An OpenID provider in miniature: it signs an ID token for each code the test hands out."""

    def __init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "sleutel-1"}, private=True)
        self.other = RSAKey.generate_key(2048, parameters={"kid": "sleutel-1"}, private=True)  # not published
        self.codes: dict[str, tuple[dict, RSAKey]] = {}

    def answer(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/openid-configuration":
            return httpx.Response(200, json={
                "issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/authorize", "token_endpoint": f"{ISSUER}/token",
                "jwks_uri": f"{ISSUER}/jwks", "id_token_signing_alg_values_supported": ["RS256"]})
        if request.url.path == "/jwks":
            return httpx.Response(200, json={"keys": [self.key.as_dict(private=False)]})
        if request.url.path == "/token":
            code = parse_qs(request.content.decode())["code"][0]
            claims, key = self.codes.pop(code)
            return httpx.Response(200, json={"access_token": secrets.token_hex(8), "token_type": "Bearer",
                                             "expires_in": 300,
                                             "id_token": jwt.encode({"alg": "RS256", "kid": "sleutel-1"}, claims, key)})
        return httpx.Response(404)


@pytest.fixture
def provider():
    return Provider()


@pytest.fixture
def sso(store, provider, monkeypatch, tmp_path):
    from tiptriage.web import oidc
    from tiptriage.web.app import create_app

    secret = tmp_path / "oidc-secret"
    secret.write_text("geheim\n")
    secret.chmod(0o600)
    for name, value in {"ISSUER": ISSUER, "CLIENT_ID": CLIENT_ID, "CLIENT_SECRET_FILE": str(secret),
                        "PROVIDER_NAME": "Politie-SSO",
                        "ROLE_MAP": '{"tbkk-analisten": ["analyst"], "tbkk-leiding": ["team_lead", "analyst"]}',
                        "UNIT_MAP": '{"tbkk-landelijk": ["*"], "re-rotterdam": ["Rotterdam"]}'}.items():
        monkeypatch.setenv(f"TIPTRIAGE_OIDC_{name}", value)
    config.get_settings.cache_clear()
    app = create_app()
    app.state.oidc = oidc.client(config.get_settings(), transport=httpx.MockTransport(provider.answer))
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        yield c


def sign_in(client, provider, groups, uid="eva.evers", *, key=None, state=None):
    start = client.get("/auth/oidc/login")
    assert start.status_code == 302 and start.headers["location"].startswith(f"{ISSUER}/authorize?")
    asked = parse_qs(urlsplit(start.headers["location"]).query)
    assert asked["client_id"] == [CLIENT_ID] and asked["nonce"] and asked["state"]
    code, now = secrets.token_urlsafe(8), int(time.time())
    provider.codes[code] = ({"iss": ISSUER, "aud": CLIENT_ID, "sub": f"s-{uid}", "preferred_username": uid,
                             "name": "Eva Evers", "groups": groups, "nonce": asked["nonce"][0], "iat": now,
                             "exp": now + 300}, key or provider.key)
    return client.get("/auth/oidc/callback", params={"code": code, "state": state or asked["state"][0]})


def _events(action: str) -> list[AuditEvent]:
    with open_session() as s:
        return list(s.execute(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
                    .scalars())


def _user(uid: str) -> User | None:
    with open_session() as s:
        return s.execute(select(User).where(User.user_id == uid)).scalar_one_or_none()


def test_without_a_provider_the_login_page_offers_the_local_login_only(client, store):
    page = client.get("/login")
    assert "Inloggen met" not in page.text and client.get("/auth/oidc/login").status_code == 404


def test_groups_map_to_roles_and_units_and_the_session_is_the_local_one(sso, provider, monkeypatch):
    assert "Inloggen met Politie-SSO" in sso.get("/login").text
    answer = sign_in(sso, provider, ["tbkk-analisten", "re-rotterdam", "kantine"])
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    assert sso.get("/queue").status_code == 200 and "Eva Evers" in sso.get("/queue").text
    eva = _user("eva.evers")
    assert (eva.roles, eva.units, users.is_external(eva)) == (["analyst"], ["Rotterdam"], True)
    assert login(sso, "eva.evers", PASSWORD).status_code == 401  # no password opens an external account
    listed = CliRunner().invoke(app, ["users", "list", "--json"])
    assert {d["user_id"]: d["external"] for d in json.loads(listed.stdout)} == {
        "anna": False, "bram": False, "cor": False, "ida": False, "otto": False, "adam": False, "rita": False,
        "eva.evers": True}
    sign_in(sso, provider, ["tbkk-leiding", "tbkk-landelijk"])  # the groups changed at the provider
    eva = _user("eva.evers")
    assert (eva.roles, eva.units) == (["analyst", "team_lead"], [])  # "*": every unit
    assert [e.details["via"] for e in _events("user.login")][-2:] == ["oidc", "oidc"]
    later = time.time() + 31 * 60
    monkeypatch.setattr("tiptriage.web.auth.time.time", lambda: later)
    assert sso.get("/queue").headers["location"].startswith("/login")  # idle logout, as for a local login


def test_a_person_whose_groups_map_to_no_role_or_unit_is_refused_in_dutch_and_on_record(sso, provider):
    refused = sign_in(sso, provider, ["kantine", "re-rotterdam"])
    assert refused.status_code == 403 and "geen van uw groepen geeft een rol" in refused.text
    assert _user("eva.evers") is None and sso.get("/queue").status_code == 303
    no_unit = sign_in(sso, provider, ["tbkk-analisten"])
    assert no_unit.status_code == 403 and "eenheid" in no_unit.text
    on_record = _events("user.login_refused")
    assert len(on_record) == 2 and on_record[0].details["groups"] == ["kantine", "re-rotterdam"]


def test_a_state_not_ours_or_a_token_the_provider_did_not_sign_is_refused(sso, provider):
    tampered = sign_in(sso, provider, ["tbkk-analisten", "re-rotterdam"], state="niet-de-onze")
    assert tampered.status_code == 403 and "mislukt" in tampered.text
    forged = sign_in(sso, provider, ["tbkk-analisten", "re-rotterdam"], key=provider.other)
    assert forged.status_code == 403 and "mislukt" in forged.text
    assert _user("eva.evers") is None and len(_events("user.login_failed")) == 2
    assert sso.get("/queue").status_code == 303


def test_a_browser_back_from_the_provider_without_its_strict_cookie_asks_once_more_from_here(sso, provider):
    sign_in(sso, provider, ["tbkk-analisten"])  # any flow: what matters is the callback without a cookie
    sso.cookies.clear()
    bounced = sso.get("/auth/oidc/callback", params={"code": "c", "state": "s"})
    assert bounced.status_code == 200 and 'http-equiv="refresh"' in bounced.text and "again=1" in bounced.text
    assert sso.get("/auth/oidc/callback", params={"code": "c", "state": "s", "again": "1"}).status_code == 403


def test_a_disabled_account_or_a_local_one_is_not_opened_through_the_provider(sso, provider):
    assert sign_in(sso, provider, ["tbkk-analisten", "re-rotterdam"]).status_code == 303
    with open_session() as s:
        users.disable_user(s, "eva.evers", actor=ADMIN, reason="uit dienst")
        s.commit()
    sso.cookies.clear()
    disabled = sign_in(sso, provider, ["tbkk-analisten", "re-rotterdam"])
    assert disabled.status_code == 403 and "uitgeschakeld" in disabled.text
    local = sign_in(sso, provider, ["tbkk-leiding", "tbkk-landelijk"], uid="anna")
    assert local.status_code == 403 and "lokaal account" in local.text
    assert _user("anna").roles == ["analyst"] and sso.get("/queue").status_code == 303


def test_a_client_secret_file_others_may_read_is_refused(tmp_path, monkeypatch):
    from tiptriage.web import oidc

    secret = tmp_path / "secret"
    secret.write_text("geheim")
    secret.chmod(0o644)
    settings = config.Settings(oidc_issuer=ISSUER, oidc_client_id=CLIENT_ID, oidc_client_secret_file=str(secret))
    with pytest.raises(ValueError, match="chmod 600"):
        oidc.client(settings)
