"""The work nothing placed in a unit: the subjects waiting at the default unit without an address,
estimated location or IP address a table places, and the form a person gives one its unit with."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from tiptriage import flows
from tiptriage.accounts.actor import Actor
from tiptriage.operations.units import load_units
from tiptriage.web.auth import checked_csrf, current_actor, work
from tiptriage.web.pages import page

router = APIRouter()


@router.get("/units/unassigned")
def unassigned(request: Request, session: Session = Depends(work), actor: Actor = Depends(current_actor)):
    docs = flows.unassigned(session, actor=actor)
    units = load_units()
    return page(request, session, actor, "unassigned.html",
                {"subjects": docs, "units": [u for u in units.names() if u != units.default_unit]})


@router.post("/units/unassigned/{subject_id}", dependencies=[Depends(checked_csrf)])
def assign(subject_id: int, unit: str = Form(...), reason: str = Form(...), session: Session = Depends(work),
           actor: Actor = Depends(current_actor)):
    """The subject's reports are triaged again at once and move to that unit's queue."""
    flows.assign_unit(session, subject_id, unit, actor=actor, reason=reason)
    return RedirectResponse("/units/unassigned", status_code=303)
