"""Pages from Jinja2 templates, with what every page needs: the user's language (`_`, numbers and
dates the Babel way), the CSRF token for forms and htmx, and who is logged in."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

from tiptriage import i18n
from tiptriage.accounts.actor import may
from tiptriage.triage.policy import FLAGS

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.globals.update(_=i18n._, number=i18n.number, lang=i18n.lang, may=may)
templates.env.autoescape = True


def _day(value: date | datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    from babel.dates import format_date

    return format_date(value, format="medium", locale="nl_NL" if i18n.lang() == "nl" else "en_GB")


def _flag(name: str) -> str:
    """A policy's flag in the reader's words (triage.policy.FLAGS)."""
    return i18n._(FLAGS.get(name, name))


templates.env.filters["day"] = _day
templates.env.filters["flag"] = _flag


def render(request: Request, name: str, context: dict, status_code: int = 200):
    from tiptriage.web.auth import csrf_token

    return templates.TemplateResponse(request, name, {"csrf": csrf_token(request), **context},
                                      status_code=status_code)
