"""The investigators' web application: FastAPI, HTML rendered on the server (Jinja2) with htmx for
partial updates, everything served from the package — no CDN, no external fonts, no calls out.

A thin front door like the CLI: each request is one unit of work (`audit.unit_of_work`), the
logged-in user is an `Actor` the services check and scope by, and every page says things in the
user's language (`i18n.language`). Refusals map to statuses once, here: not logged in → the login
page, a role or unit that may not → 403, another unit's case or an unknown id → 404.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from tiptriage import i18n
from tiptriage.i18n import _
from tiptriage.accounts.actor import NotAllowed, OutOfView
from tiptriage.config import get_settings
from tiptriage.keyfiles import beside_store, owner_only_key
from tiptriage.web import actionweeks, api, auth, banks, oidc, pages, stats, units
from tiptriage.web.render import render

STATIC = Path(__file__).parent / "static"
SESSION_COOKIE = "tiptriage_session"


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(title="tiptriage", version="1", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json",
                  description="The REST API of tiptriage: `Authorization: Bearer <token>` (tiptriage tokens add).")
    app.add_middleware(LanguageMiddleware)
    app.add_middleware(SessionMiddleware, secret_key=secret_key(), session_cookie=SESSION_COOKIE,
                       same_site="strict", https_only=settings.web_secure_cookies, max_age=None)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.state.settings, app.state.oidc = settings, oidc.client(settings)  # no provider configured: None
    app.include_router(auth.router)
    app.include_router(oidc.router)
    app.include_router(pages.router)
    app.include_router(actionweeks.router)
    app.include_router(units.router)
    app.include_router(stats.router)
    app.include_router(banks.router)
    app.include_router(api.router)
    app.add_api_route("/api/docs", _api_docs, include_in_schema=False)
    app.add_exception_handler(auth.NotLoggedIn, _to_login)
    app.add_exception_handler(auth.CsrfRefused, _refused(400))
    app.add_exception_handler(OutOfView, _refused(404))  # another unit's case: its existence is information
    app.add_exception_handler(NotAllowed, _refused(403))
    app.add_exception_handler(LookupError, _refused(404))
    app.add_exception_handler(ValueError, _refused(400))
    return app


def secret_key() -> str:
    """The key that signs session cookies: from a file only its owner may read, made on first start,
    so sessions survive a restart and the key is never in the environment or the repository."""
    settings = get_settings()
    path = Path(settings.web_secret_file) if settings.web_secret_file else beside_store(settings.database_url,
                                                                                      "web-secret.key")
    return owner_only_key(path, lambda: secrets.token_urlsafe(48))


class _HttpMiddleware:
    """ASGI middleware for HTTP requests only (lifespan and other scopes pass straight through)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)


class LanguageMiddleware(_HttpMiddleware):
    """The user's language for everything the request renders: from their session (set at login
    and by the language switch), else Dutch."""

    async def handle(self, scope, receive, send):
        with i18n.language(scope.get("session", {}).get("lang")):
            await self.app(scope, receive, send)


class SecurityHeaders(_HttpMiddleware):
    """No framing, no referrer, no caching of pages with personal data, scripts only from here."""

    HEADERS = [(b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'; form-action 'self'"),
               (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer"),
               (b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store")]

    async def handle(self, scope, receive, send):
        async def with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + self.HEADERS
            await send(message)

        await self.app(scope, receive, with_headers)


def _to_login(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return JSONResponse({"error": _("A valid API token is needed: Authorization: Bearer <token>.")},
                            status_code=401, headers={"WWW-Authenticate": "Bearer"})
    if request.headers.get("hx-request"):  # htmx follows this header, not a redirect's body
        return Response(status_code=401, headers={"HX-Redirect": "/login"})
    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)


def _refused(status: int):
    def handler(request: Request, exc: Exception) -> HTMLResponse:
        return _error(request, exc, status)
    return handler


def _error(request: Request, exc: Exception, status: int) -> Response:
    shown = _("Not found.") if status == 404 else i18n.message(exc, channel="api" if _is_api(request) else "web")
    if _is_api(request):
        return JSONResponse({"error": shown}, status_code=status)
    return render(request, "error.html", {"status": status, "shown": shown}, status_code=status)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _api_docs() -> HTMLResponse:
    """Swagger UI on the OpenAPI document, served from the package (static/swagger)."""
    return HTMLResponse('<!doctype html><html><head><meta charset="utf-8"><title>tiptriage API</title>'
                        '<link rel="stylesheet" href="/static/swagger/swagger-ui.css"></head><body>'
                        '<div id="swagger-ui"></div><script src="/static/swagger/swagger-ui-bundle.js"></script>'
                        '<script src="/static/swagger/init.js"></script></body></html>')
