"""The statistics and the evaluation of warnings as screens (/stats, /stats/evaluation).

The charts are rendered on the server to SVG by vl-convert and put in the page as markup: no
JavaScript to vendor or run, nothing from a CDN, and the page stays within `default-src 'self'`
(an `<img>` of a data: URL would not). The SVG is vl-convert's, from our specification; the text
in it comes from the store (source and unit names) and is escaped by the renderer.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Request
from markupsafe import Markup
from sqlalchemy.orm import Session

from tiptriage.accounts.actor import Actor
from tiptriage.i18n import _
from tiptriage.insight import charts
from tiptriage.insight.evaluation import evaluate
from tiptriage.insight.scope import p_value, suppressed
from tiptriage.insight.stats import statistics
from tiptriage.web.auth import current_actor, work
from tiptriage.web.pages import WEB, page

router = APIRouter()


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None  # a ValueError answers 400


@router.get("/stats")
def stats_page(request: Request, unit: str | None = None, since: str | None = None, until: str | None = None,
               session: Session = Depends(work), actor: Actor = Depends(current_actor)):
    doc = statistics(session, actor=actor, unit=unit or None, since=_day(since), until=_day(until), purpose=WEB)
    chart = Markup(charts.svg(charts.stats_chart(doc)))  # noqa: S704 - vl-convert's SVG, see the docstring
    filters = {"unit": unit or "", "since": since or "", "until": until or ""}
    return page(request, session, actor, "stats.html", {"doc": doc, "chart": chart, "filters": filters,
                                                        "suppressed": suppressed})


@router.get("/stats/evaluation")
def evaluation_page(request: Request, unit: str | None = None, until: str | None = None,
                    session: Session = Depends(work), actor: Actor = Depends(current_actor)):
    doc = evaluate(session, actor=actor, unit=unit or None, until=_day(until), purpose=WEB)
    chart = Markup(charts.svg(charts.evaluation_chart(doc)))  # noqa: S704 - as above
    groups = ", ".join(_(g) for g in doc["logrank"]["groups"]) if doc["logrank"] else ""
    p = p_value(doc["logrank"]["p_value"]) if doc["logrank"] else ""
    return page(request, session, actor, "evaluation.html", {"doc": doc, "chart": chart, "logrank_groups": groups,
                                                             "p": p})
