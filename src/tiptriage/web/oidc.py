"""Login through the unit's identity provider (OpenID Connect, with Authlib's Starlette client), when
the settings name one (`TIPTRIAGE_OIDC_*`); otherwise the login page offers the local login only.

/auth/oidc/login sends the browser to the provider with a state and a nonce kept in the session;
/auth/oidc/callback takes the code back, has Authlib fetch the tokens and check the ID token
(signature against the provider's keys, issuer, audience, expiry, nonce) and the state, and hands
the claims to `users.external_login`, which maps the groups to roles and units. The session that
follows is the local login's: the same cookie, CSRF token and idle logout.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from joserfc.errors import JoseError
from markupsafe import escape
from starlette.concurrency import run_in_threadpool

from tiptriage.accounts import users
from tiptriage.accounts.actor import NotAllowed
from tiptriage.audit import service as audit
from tiptriage.audit.service import unit_of_work
from tiptriage.config import Settings
from tiptriage.db import open_session
from tiptriage.i18n import _, message, refusal
from tiptriage.keyfiles import read_owner_only
from tiptriage.web import auth
from tiptriage.web.render import render

router = APIRouter()
NAME = "oidc"  # Authlib's name for the client; its state is kept in the session as _state_oidc_<state>


def client(settings: Settings, **http) -> StarletteOAuth2App | None:
    """The provider's client, or None when no provider is configured. `http` goes to the HTTP client
    Authlib makes (a test hands it a transport to a provider of its own)."""
    if not settings.oidc_client_id:
        return None
    metadata = settings.oidc_metadata_url or (
        settings.oidc_issuer and settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration")
    if not metadata:
        raise refusal(ValueError, "TIPTRIAGE_OIDC_CLIENT_ID is set, but neither TIPTRIAGE_OIDC_ISSUER nor "
                                  "TIPTRIAGE_OIDC_METADATA_URL says where the provider is")
    return OAuth().register(NAME, server_metadata_url=metadata, client_id=settings.oidc_client_id,
                            client_secret=client_secret(settings),
                            client_kwargs={"scope": settings.oidc_scopes, **http})


def client_secret(settings: Settings) -> str | None:
    """From a file only its owner may read (refused otherwise), or from the environment."""
    if not settings.oidc_client_secret_file:
        return settings.oidc_client_secret
    return read_owner_only(Path(settings.oidc_client_secret_file))


@router.get("/auth/oidc/login")
async def oidc_login(request: Request):
    provider = _provider(request)
    return await provider.authorize_redirect(request, str(request.url_for("oidc_callback")))


@router.get("/auth/oidc/callback")
async def oidc_callback(request: Request):
    provider = _provider(request)
    started_here = any(key.startswith(f"_state_{NAME}_") for key in request.session)
    if not started_here and "again" not in request.query_params:
        # The provider sent the browser here from its own site, and a SameSite=Strict cookie does not
        # come along on such a navigation: ask once more from this site's own page, and it does.
        return _once_more(request)
    try:
        token = await provider.authorize_access_token(request)
    except (AuthlibBaseError, JoseError, httpx.HTTPError) as exc:  # a state not ours, a code refused, an ID
        # token that fails a check (signature, issuer, audience, expiry, nonce), a provider that does not answer
        await run_in_threadpool(_failed, type(exc).__name__)
        return _refused(request, _("Login through {provider} failed: the answer was not valid or came too late. "
                                   "Try again.", provider=request.app.state.settings.oidc_provider_name))
    try:
        user = await run_in_threadpool(_logged_in, request.app.state.settings, token.get("userinfo") or {})
    except NotAllowed as exc:
        return _refused(request, message(exc))
    auth.start_session(request, user)
    return RedirectResponse("/", status_code=303)


def _provider(request: Request) -> StarletteOAuth2App:
    provider = request.app.state.oidc
    if provider is None:
        raise LookupError("no identity provider is configured")
    return provider


def _logged_in(settings: Settings, claims: dict):
    groups = claims.get(settings.oidc_groups_claim) or []
    groups = [g for g in (groups if isinstance(groups, list) else [groups]) if isinstance(g, str)]
    with unit_of_work(open_session) as session:
        user = users.external_login(session, issuer=str(claims.get("iss", "")),
                                    provider=settings.oidc_provider_name,
                                    raw_id=claims.get(settings.oidc_user_claim), display_name=claims.get("name"),
                                    groups=groups, role_map=settings.oidc_role_map, unit_map=settings.oidc_unit_map)
        session.flush()
        session.expunge(user)  # read after the unit of work ends
        return user


def _failed(why: str) -> None:
    with unit_of_work(open_session) as session:
        audit.record(session, actor="anonymous", action="user.login_failed", entity="user",
                     details={"via": "oidc", "error": why})


def _refused(request: Request, shown: str):
    return render(request, "login.html", {"next": "/", "refused": False, "oidc_refused": shown,
                                          "oidc_name": auth.provider_name(request)}, status_code=403)


def _once_more(request: Request) -> HTMLResponse:
    again = escape(str(request.url.include_query_params(again="1")))
    return HTMLResponse(f'<!doctype html><meta http-equiv="refresh" content="0;url={again}">'
                        f'<title>tiptriage</title><a href="{again}">tiptriage</a>')
