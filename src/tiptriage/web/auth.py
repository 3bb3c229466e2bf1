"""Who is asking: the login, the session, the CSRF check and the request's unit of work.

The session (a cookie signed with the application's key, SameSite=Strict, Secure unless a demo
turns it off) holds the user id, when the user was last active, their language and a CSRF token.
Every state-changing request must carry that token — as the form field `csrf` or the header
`X-CSRF-Token` that htmx sends (set once on <body>) — or it is refused before it reaches a service.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from tiptriage import i18n
from tiptriage.i18n import refusal
from tiptriage.accounts import users
from tiptriage.accounts.actor import Actor
from tiptriage.accounts.models import User
from tiptriage.audit.service import unit_of_work
from tiptriage.config import get_settings
from tiptriage.db import open_session
from tiptriage.web.render import render

router = APIRouter()


class NotLoggedIn(Exception):
    """No session, an expired one, or a user since disabled."""


class CsrfRefused(ValueError):
    """A state-changing request without the session's token."""


def work() -> Iterator[Session]:
    """The request's unit of work: committed when the page was made, rolled back on a refusal
    (the consultations it made stay on record)."""
    with unit_of_work(open_session) as session:
        yield session


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made when first needed (also before login: the login form has one)."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


async def checked_csrf(request: Request) -> None:
    """Refuse a state-changing request whose token is missing or not the session's."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        sent = (await request.form()).get("csrf")
    expected = request.session.get("csrf")
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise refusal(CsrfRefused, "The form has expired or did not come from this application: "
                                        "reload the page and try again.")


def current_user(request: Request, session: Session = Depends(work)) -> User:
    """The logged-in user; logged out after `web_idle_minutes` without a request, or when disabled."""
    uid, seen = request.session.get("uid"), request.session.get("seen", 0)
    if not uid or time.time() - seen > get_settings().web_idle_minutes * 60:
        _forget(request)
        raise NotLoggedIn()
    user = session.execute(select(User).where(User.user_id == uid)).scalar_one_or_none()
    if user is None or user.disabled:
        _forget(request)
        raise NotLoggedIn()
    request.session["seen"] = int(time.time())
    return user


def current_actor(user: User = Depends(current_user)) -> Actor:
    return users.actor_of(user)


@router.get("/login")
def login_form(request: Request, next: str = "/"):
    return render(request, "login.html", {"next": _local(next), "refused": False,
                                          "oidc_name": provider_name(request)})


@router.post("/login", dependencies=[Depends(checked_csrf)])
def login(request: Request, user_id: str = Form(...), password: str = Form(...), next: str = Form("/"),
          session: Session = Depends(work)):
    user = users.authenticate(session, user_id, password)
    if user is None:
        return render(request, "login.html", {"next": _local(next), "refused": True, "user_id": user_id,
                                              "oidc_name": provider_name(request)}, status_code=401)
    start_session(request, user)
    return RedirectResponse(_local(next), status_code=303)


def start_session(request: Request, user: User) -> None:
    """The session of a user just logged in (with a password or through the identity provider)."""
    request.session.clear()  # a new session for the new user: nothing of the anonymous one carries over
    request.session.update({"uid": user.user_id, "seen": int(time.time()), "lang": user.language,
                            "csrf": secrets.token_urlsafe(32)})


@router.post("/logout", dependencies=[Depends(checked_csrf)])
def logout(request: Request):
    _forget(request)
    return RedirectResponse("/login", status_code=303)


@router.post("/language", dependencies=[Depends(checked_csrf)])
def language(request: Request, lang: str = Form(...), next: str = Form("/"), user: User = Depends(current_user),
             session: Session = Depends(work)):
    users.set_language(session, user, i18n.choose(lang))
    request.session["lang"] = user.language
    return RedirectResponse(_local(next), status_code=303)


def provider_name(request: Request) -> str | None:
    """The identity provider's name for the login page's button, or None (local login only)."""
    return request.app.state.settings.oidc_provider_name if request.app.state.oidc else None


def _forget(request: Request) -> None:
    request.session.clear()


def _local(target: str) -> str:
    """Only a path on this application is a place to go after login (no open redirect)."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target
