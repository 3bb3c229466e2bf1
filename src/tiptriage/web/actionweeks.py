"""The action week screens: the weeks and a form to plan one, a week's plan per unit with what is
left over, a unit's work list with its downloads (CSV, PDF: a disclosure, on record) and the
outcome forms, and the week's summary. The services check roles and units and keep the record."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tiptriage import actionweeks
from tiptriage.accounts.actor import Actor
from tiptriage.i18n import message
from tiptriage.operations import worklists
from tiptriage.operations.models import OUTCOMES_OF
from tiptriage.operations.units import load_units
from tiptriage.web.auth import checked_csrf, current_actor, work
from tiptriage.web.pages import WEB, page

router = APIRouter()


@router.get("/actionweeks")
def weeks(request: Request, session: Session = Depends(work), actor: Actor = Depends(current_actor)):
    return _weeks_page(request, session, actor)


def _weeks_page(request: Request, session: Session, actor: Actor, refused: str | None = None, form: dict | None = None):
    docs = actionweeks.list_weeks(session, actor=actor)
    return page(request, session, actor, "actionweeks.html",
                {"weeks": docs, "units": load_units().names(), "refused": refused, "form": form or {}}, status_code=400 if refused else 200)


@router.post("/actionweeks", dependencies=[Depends(checked_csrf)])
def plan(request: Request, name: str = Form(...), start: date = Form(...), end: date = Form(...),
         unit: list[str] = Form(default=[]), warnings_per_day: int = Form(...), searches_per_day: int = Form(...),
         overrides: str = Form(""), session: Session = Depends(work), actor: Actor = Depends(current_actor)):
    """Plan a week; a refusal (dates, units, a name taken, an override) is shown above the form,
    which keeps its values."""
    try:
        doc = actionweeks.plan(session, actor=actor, name=name, start=start, end=end, units=unit,
                               warnings_per_day=warnings_per_day, searches_per_day=searches_per_day,
                               overrides=actionweeks.parse_overrides([overrides]))
    except actionweeks.ActionWeekError as exc:
        form = {"name": name, "start": start, "end": end, "unit": unit, "warnings_per_day": warnings_per_day,
                "searches_per_day": searches_per_day, "overrides": overrides}
        return _weeks_page(request, session, actor, refused=message(exc), form=form)
    return RedirectResponse(f"/actionweeks/{doc['id']}", status_code=303)


@router.get("/actionweeks/{week_id}")
def week(request: Request, week_id: int, session: Session = Depends(work), actor: Actor = Depends(current_actor)):
    doc = actionweeks.week_doc(session, week_id, actor=actor)
    return page(request, session, actor, "actionweek.html", {"w": doc})


@router.get("/actionweeks/{week_id}/units/{unit}")
def worklist(request: Request, week_id: int, unit: str, session: Session = Depends(work),
             actor: Actor = Depends(current_actor)):
    return _worklist_page(request, session, actor, week_id, unit)


def _worklist_page(request: Request, session: Session, actor: Actor, week_id: int, unit: str,
                   refused: str | None = None):
    head, rows = actionweeks.worklist(session, week_id, unit, actor=actor, purpose=WEB)
    return page(request, session, actor, "worklist.html",
                {"w": head, "unit": unit, "rows": rows, "outcomes": OUTCOMES_OF, "refused": refused,
                 "what": worklists.WHAT, "quoted": quote(unit)}, status_code=400 if refused else 200)


@router.get("/actionweeks/{week_id}/units/{unit}/worklist.{fmt}")
def download(week_id: int, unit: str, fmt: str, session: Session = Depends(work),
             actor: Actor = Depends(current_actor)):
    """The work list as a file to print or hand over; its export is on record."""
    if fmt not in ("csv", "pdf"):
        raise LookupError(fmt)
    head, rows = actionweeks.worklist(session, week_id, unit, actor=actor, purpose=f"{WEB}: {fmt}")
    data = worklists.as_csv(rows) if fmt == "csv" else worklists.as_pdf(head, unit, rows)
    name = f"werklijst-{head['name']}-{unit}.{fmt}".replace(" ", "_")
    return Response(data, media_type="text/csv; charset=utf-8" if fmt == "csv" else "application/pdf",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@router.post("/actionweeks/{week_id}/items/{item_id}", dependencies=[Depends(checked_csrf)])
def record(request: Request, week_id: int, item_id: int, unit: str = Form(...), outcome: str = Form(...),
           on: date = Form(...), officer: str = Form(...), note: str = Form(""), referral_accepted: str = Form(""),
           session: Session = Depends(work), actor: Actor = Depends(current_actor)):
    """An outcome at the door; a refusal (recorded already, a day outside the week) is shown on the list."""
    try:
        actionweeks.record_outcome(session, week_id, item_id, actor=actor, outcome=outcome, on=on, officer=officer,
                                   note=note or None,
                                   referral_accepted={"yes": True, "no": False}.get(referral_accepted))
    except actionweeks.ActionWeekError as exc:
        return _worklist_page(request, session, actor, week_id, unit, refused=message(exc))
    return RedirectResponse(f"/actionweeks/{week_id}/units/{quote(unit)}#item-{item_id}", status_code=303)


@router.get("/actionweeks/{week_id}/summary")
def summary(request: Request, week_id: int, session: Session = Depends(work), actor: Actor = Depends(current_actor)):
    doc = actionweeks.summary(session, week_id, actor=actor)
    return page(request, session, actor, "actionweek_summary.html", {"s": doc})
