"""The screens: queue, report, subject, warning and alerts, and the forms that decide, approve,
deliver and acknowledge. Each handler reads or acts through the services (which check the role,
scope by unit and put every read of personal data on record) and renders what they return."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from tiptriage import dossier, flows, pipeline
from tiptriage.accounts.actor import Actor, require, units_in_view
from tiptriage.i18n import message
from tiptriage.outcomes import OUTCOMES
from tiptriage.registry import service as registry
from tiptriage.registry import views
from tiptriage.subjects import documents
from tiptriage.triage import service as triage
from tiptriage.triage.models import QUEUE_STATUSES
from tiptriage.web.auth import checked_csrf, current_actor, work
from tiptriage.web.render import render

router = APIRouter()
PAGE = 50  # rows per queue page
WEB = "web"  # the purpose the audit log records for what a screen shows


def page(request: Request, session: Session, actor: Actor, name: str, context: dict, status_code: int = 200):
    """A screen with its header: who is logged in and the open alerts of their units (the badge)."""
    try:
        alerts = registry.count_open_alerts(session, units=units_in_view(actor))
    except PermissionError:  # a role that sees no cases sees no alerts either
        alerts = None
    return render(request, name, {"actor": actor, "alerts_open": alerts, **context}, status_code=status_code)


@router.get("/")
def home():
    return RedirectResponse("/queue", status_code=303)


@router.get("/queue")
def queue(request: Request, unit: str | None = None, outcome: str | None = None,
          status: list[str] = Query(default=[]), page_no: int = Query(1, alias="page", ge=1),
          session: Session = Depends(work), actor: Actor = Depends(current_actor)):
    unit, outcome = unit or None, outcome or None
    statuses = tuple(s for s in status if s in QUEUE_STATUSES) or triage.OPEN_STATUSES
    if outcome is not None and outcome not in OUTCOMES:
        raise ValueError(outcome)
    rows = triage.view_queue(session, actor=actor, purpose=WEB, unit=unit, statuses=statuses, outcome=outcome,
                             limit=PAGE + 1, offset=(page_no - 1) * PAGE)
    filters = {"unit": unit or "", "outcome": outcome or "", "status": list(statuses)}
    context = {"rows": rows[:PAGE], "more": len(rows) > PAGE, "page_no": page_no, "filters": filters,
               "counts": triage.queue_counts(session, actor=actor, unit=unit, statuses=statuses),
               "outcomes": OUTCOMES, "statuses": QUEUE_STATUSES, "units": sorted(actor.units),
               "link": lambda **kw: "/queue?" + urlencode({**filters, **kw}, doseq=True)}
    name = "queue_rows.html" if request.headers.get("hx-request") else "queue.html"
    return page(request, session, actor, name, context)


@router.get("/reports/{report_id}")
def report(request: Request, report_id: int, session: Session = Depends(work), actor: Actor = Depends(current_actor)):
    doc = dossier.report_dossier(session, report_id, actor=actor, reason=WEB)
    if doc is None:
        raise LookupError(report_id)
    return page(request, session, actor, "report.html", {"doc": doc, "outcomes": OUTCOMES})


@router.post("/reports/{report_id}/decide", dependencies=[Depends(checked_csrf)])
def decide(report_id: int, justification: str = Form(...), outcome: str = Form(""),
           session: Session = Depends(work), actor: Actor = Depends(current_actor)):
    """Confirm (no outcome) or override; a WARNING is proposed and waits for a second person."""
    chosen = outcome or None
    if (chosen or triage.report_triage(session, report_id)["recommendation"]["outcome"]) == "WARNING":
        warning = flows.propose_warning(session, report_id, actor=actor, justification=justification)
        return RedirectResponse(f"/warnings/{warning.id}", status_code=303)
    triage.decide(session, report_id, actor=actor, justification=justification, outcome=chosen)
    return RedirectResponse(f"/reports/{report_id}", status_code=303)


@router.get("/subjects/{subject_id}")
def subject(request: Request, subject_id: int, session: Session = Depends(work),
            actor: Actor = Depends(current_actor)):
    history = flows.subject_history(session, subject_id, actor=actor, purpose=WEB)
    doc = documents.subject_document(session, subject_id, actor=actor, reason=WEB)
    return page(request, session, actor, "subject.html", {"history": history, "doc": doc})


@router.get("/warnings/{warning_id}")
def warning(request: Request, warning_id: int, session: Session = Depends(work),
            actor: Actor = Depends(current_actor)):
    return _warning_page(request, session, actor, warning_id)


def _warning_page(request: Request, session: Session, actor: Actor, warning_id: int, refused: str | None = None):
    doc = views.view_warning(session, warning_id, actor=actor, purpose="show", history=True)
    return page(request, session, actor, "warning.html", {"w": doc, "today": date.today().isoformat(),
                                                          "refused": refused},
                status_code=400 if refused else 200)


@router.post("/warnings/{warning_id}/approve", dependencies=[Depends(checked_csrf)])
def approve(request: Request, warning_id: int, note: str = Form(""), acknowledgement: str = Form(""),
            session: Session = Depends(work), actor: Actor = Depends(current_actor)):
    """Approve; a gate that stops it (earlier warnings, distribution, name, age) is shown on the
    warning's page above the form, with what it found, so the approver can act on it there."""
    try:
        flows.approve_warning(session, warning_id, actor=actor, note=note or None,
                              acknowledgement=acknowledgement or None)
    except registry.RegistryError as exc:  # raised before anything changed; the searches stay on record
        return _warning_page(request, session, actor, warning_id, refused=message(exc))
    return RedirectResponse(f"/warnings/{warning_id}", status_code=303)


@router.post("/warnings/{warning_id}/deliver", dependencies=[Depends(checked_csrf)])
def deliver(warning_id: int, on: date = Form(...), officer: str = Form(...), referral_accepted: str = Form(""),
            session: Session = Depends(work), actor: Actor = Depends(current_actor)):
    flows.deliver_warning(session, warning_id, actor=actor, on=on, officer=officer, referral_offered=True,
                          referral_accepted={"yes": True, "no": False}.get(referral_accepted))
    return RedirectResponse(f"/warnings/{warning_id}", status_code=303)


@router.get("/alerts")
def alerts(request: Request, session: Session = Depends(work), actor: Actor = Depends(current_actor)):
    docs = views.view_alerts(session, actor=actor, purpose=WEB)
    return page(request, session, actor, "alerts.html", {"alerts": docs})


@router.post("/alerts/{alert_id}/ack", dependencies=[Depends(checked_csrf)])
def acknowledge(alert_id: int, session: Session = Depends(work), actor: Actor = Depends(current_actor)):
    registry.acknowledge(session, alert_id, actor=actor)
    return RedirectResponse("/alerts", status_code=303)


@router.get("/ingest")
def ingest_form(request: Request, session: Session = Depends(work), actor: Actor = Depends(current_actor)):
    require(actor, "ingest")
    return page(request, session, actor, "ingest.html", {"summary": None})


@router.post("/ingest", dependencies=[Depends(checked_csrf)])
def ingest(request: Request, files: list[UploadFile] = File(...), session: Session = Depends(work),
           actor: Actor = Depends(current_actor)):
    """Report files (metadata and hashes: CyberTipline XML, tiptriage JSON, CSV lists) through the
    same path as `tiptriage ingest`; what is refused is listed with file, record, field and reason.
    The upload lives in a folder only this process may read, removed when the request ends."""
    with tempfile.TemporaryDirectory(prefix="tiptriage-upload-") as folder:  # made 0700
        for n, upload in enumerate(files):
            name = Path(upload.filename or f"upload-{n}").name or f"upload-{n}"
            (Path(folder) / name).write_bytes(upload.file.read())
        summary = pipeline.process(session, [folder], actor=actor)
        errors = [e | {"file": Path(e["file"]).name if e.get("file") else ""} for e in summary.intake.errors]
    return page(request, session, actor, "ingest.html", {"summary": summary, "errors": errors})
