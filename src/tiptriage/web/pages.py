"""The screens: queue, report, subject, warning and alerts, and the forms that decide, approve,
deliver and acknowledge. Each handler reads or acts through the services (which check the role,
scope by unit and put every read of personal data on record) and renders what they return."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from tiptriage import dossier, flows
from tiptriage.accounts.actor import Actor, may, require, units_in_view
from tiptriage.i18n import message, refusal
from tiptriage.intake import documents
from tiptriage.outcomes import OUTCOMES
from tiptriage.registry import service as registry
from tiptriage.registry import views
from tiptriage.triage import service as triage
from tiptriage.triage.facts import AGE_BANDS
from tiptriage.subjects.identity import Identity
from tiptriage.subjects.lookup import SEARCH_KINDS
from tiptriage.subjects.models import IDENTIFICATION_SOURCES
from tiptriage.triage.models import BIRTH_DATE_REGISTERS, QUEUE_STATUSES
from tiptriage.web.auth import checked_csrf, current_actor, work
from tiptriage.web.render import render
from tiptriage.web.uploads import ingest_uploads

router = APIRouter()
PAGE = 50  # rows per queue page
QUARANTINE_PAGE = 25  # refused inputs per page of the ingest screen
WEB = "web"  # the purpose the audit log records for what a screen shows


def page(request: Request, session: Session, actor: Actor, name: str, context: dict, status_code: int = 200):
    """A screen with its header: who is logged in and the open alerts of their units (the badge)."""
    try:
        alerts = registry.count_open_alerts(session, units=units_in_view(actor))
    except PermissionError:  # a role that sees no cases sees no alerts either
        alerts = None
    return render(request, name, {"actor": actor, "alerts_open": alerts, **context}, status_code=status_code)


# The first screen of each kind of work: cases; else the banks (administrators), the ingest, the audit log.
HOME = (("view", "/queue"), ("view_banks", "/banks"), ("ingest", "/ingest"), ("read_audit", "/audit"))


@router.get("/")
def home(actor: Actor = Depends(current_actor)):
    """The first screen the user's roles open (an administrator has no queue to land on)."""
    return RedirectResponse(next((path for action, path in HOME if may(actor, action)), "/queue"), status_code=303)


@router.get("/queue")
def queue(request: Request, unit: str | None = None, outcome: str | None = None,
          status: list[str] = Query(default=[]), source: str | None = None, age_band: str | None = None,
          since: str | None = None, until: str | None = None, page_no: int = Query(1, alias="page", ge=1),
          session: Session = Depends(work), actor: Actor = Depends(current_actor)):
    """The filters come as the form sends them (an empty field is no filter) and stay in the URL, so
    a view can be bookmarked and shared."""
    unit, outcome = unit or None, outcome or None
    statuses = tuple(s for s in status if s in QUEUE_STATUSES) or triage.OPEN_STATUSES
    if outcome is not None and outcome not in OUTCOMES:
        raise ValueError(outcome)
    narrow = triage.Narrowing(source=source or None, age_band=age_band or None, since=_day(since), until=_day(until))
    counts = triage.queue_counts(session, actor=actor, unit=unit, statuses=statuses, narrow=narrow)
    rows = triage.view_queue(session, actor=actor, purpose=WEB, unit=unit, statuses=statuses, outcome=outcome,
                             limit=PAGE + 1, offset=(page_no - 1) * PAGE, counts=counts, narrow=narrow)
    filters = {"unit": unit or "", "outcome": outcome or "", "status": list(statuses), "source": source or "",
               "age_band": age_band or "", "since": since or "", "until": until or ""}
    context = {"rows": rows[:PAGE], "more": len(rows) > PAGE, "page_no": page_no, "filters": filters,
               "counts": counts, "outcomes": OUTCOMES, "statuses": QUEUE_STATUSES, "units": sorted(actor.units),
               "sources": triage.queue_sources(session), "age_bands": AGE_BANDS,
               "link": lambda **kw: "/queue?" + urlencode({k: v for k, v in {**filters, **kw}.items() if v},
                                                          doseq=True)}
    name = "queue_rows.html" if request.headers.get("hx-request") else "queue.html"
    return page(request, session, actor, name, context)


def _day(value: str | None) -> date | None:
    """A day from a form's date field; what is not one is refused in the user's words."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise refusal(ValueError, "{value!r} is not a date (YYYY-MM-DD)", value=value) from None


@router.get("/reports/{report_id}")
def report(request: Request, report_id: int, session: Session = Depends(work), actor: Actor = Depends(current_actor)):
    doc = dossier.report_dossier(session, report_id, actor=actor, reason=WEB)
    if doc is None:
        raise LookupError(report_id)
    return page(request, session, actor, "report.html", {"doc": doc, "outcomes": OUTCOMES,
                                                         "registers": BIRTH_DATE_REGISTERS,
                                                         "id_sources": IDENTIFICATION_SOURCES})


@router.post("/reports/{report_id}/decide", dependencies=[Depends(checked_csrf)])
def decide(report_id: int, justification: str = Form(...), outcome: str = Form(""),
           session: Session = Depends(work), actor: Actor = Depends(current_actor)):
    """Confirm (no outcome) or override; a WARNING is proposed and waits for a second person."""
    _, warning = flows.decide(session, report_id, actor=actor, justification=justification, outcome=outcome or None)
    return RedirectResponse(f"/warnings/{warning.id}" if warning else f"/reports/{report_id}", status_code=303)


@router.post("/reports/{report_id}/birth-date", dependencies=[Depends(checked_csrf)])
def birth_date(report_id: int, born: date = Form(...), source: str = Form(...), note: str = Form(...),
               session: Session = Depends(work), actor: Actor = Depends(current_actor)):
    """A date of birth checked in a register (the age gate of a warning); the reports are triaged again."""
    triage.record_birth_date(session, report_id, born, source=source, actor=actor, note=note)
    return RedirectResponse(f"/reports/{report_id}", status_code=303)


@router.post("/reports/{report_id}/identify", dependencies=[Depends(checked_csrf)])
def identify(report_id: int, given_name: str = Form(...), family_name: str = Form(...), born: str = Form(""),
             street: str = Form(""), postcode: str = Form(""), city: str = Form(""), country: str = Form("NL"),
             source: str = Form(...), reference: str = Form(...), note: str = Form(...),
             session: Session = Depends(work), actor: Actor = Depends(current_actor)):
    """Who stands behind the report (NEEDS_IDENTIFICATION, the name gate of a warning); linked again and triaged."""
    person = Identity(given_name, family_name, _day(born), street or None, postcode or None, city or None, country)
    triage.record_identification(session, report_id, person, source=source, reference=reference, note=note,
                                 actor=actor)
    return RedirectResponse(f"/reports/{report_id}", status_code=303)


@router.get("/subjects/{subject_id}")
def subject(request: Request, subject_id: int, session: Session = Depends(work),
            actor: Actor = Depends(current_actor)):
    history = flows.subject_history(session, subject_id, actor=actor, purpose=WEB)
    doc = flows.subject_document(session, subject_id, actor=actor, reason=WEB)
    return page(request, session, actor, "subject.html", {"history": history, "doc": doc})


@router.get("/search")
def search(request: Request, identifier: str = "", kind: str = "", reason: str = "",
           session: Session = Depends(work), actor: Actor = Depends(current_actor)):
    """Subjects by identifier (e-mail, phone, device id, platform:account). A search is a
    consultation of personal data: it asks why, and the why is on record with the search."""
    found = None
    if identifier:
        found = flows.search_subjects(session, identifier, actor=actor, reason=reason, kind=kind or None)
    else:
        require(actor, "view")
    return page(request, session, actor, "search.html", {"found": found, "kinds": SEARCH_KINDS,
                                                         "form": {"identifier": identifier, "kind": kind,
                                                                  "reason": reason}})


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
        return _warning_page(request, session, actor, warning_id, refused=message(exc, channel="web"))
    return RedirectResponse(f"/warnings/{warning_id}", status_code=303)


@router.post("/warnings/{warning_id}/revoke", dependencies=[Depends(checked_csrf)])
def revoke(warning_id: int, reason: str = Form(...), session: Session = Depends(work),
           actor: Actor = Depends(current_actor)):
    """Revoke before delivery (e.g. the youth track applies); the reports go back to the queue."""
    flows.revoke_warning(session, warning_id, actor=actor, reason=reason)
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
def ingest_form(request: Request, page_no: int = Query(1, alias="page", ge=1), session: Session = Depends(work),
                actor: Actor = Depends(current_actor)):
    require(actor, "ingest")
    return _ingest_page(request, session, actor, {"summary": None}, page_no)


@router.post("/ingest", dependencies=[Depends(checked_csrf)])
def ingest(request: Request, files: list[UploadFile] = File(...), session: Session = Depends(work),
           actor: Actor = Depends(current_actor)):
    """Report files (metadata and hashes: CyberTipline XML, tiptriage JSON, CSV lists) through the
    same path as `tiptriage ingest`; what is refused is listed with file, record, field and reason.
    The upload lives in a folder only this process may read, removed when the request ends."""
    summary = ingest_uploads(session, files, actor=actor)
    errors = [e | {"file": Path(e["file"]).name if e.get("file") else ""} for e in summary.intake.errors]
    return _ingest_page(request, session, actor, {"summary": summary, "errors": errors}, 1)


def _ingest_page(request: Request, session: Session, actor: Actor, context: dict, page_no: int):
    """The ingest screen with the quarantine below it, newest first, a page at a time (its reading
    is on record: a reason may quote a refused value)."""
    rows = documents.view_quarantine(session, actor=actor, purpose=WEB, limit=QUARANTINE_PAGE + 1,
                                     offset=(page_no - 1) * QUARANTINE_PAGE)
    quarantine = [q | {"name": Path(q["file"]).name} for q in rows[:QUARANTINE_PAGE]]
    return page(request, session, actor, "ingest.html",
                context | {"quarantine": quarantine, "page_no": page_no, "more": len(rows) > QUARANTINE_PAGE})


@router.get("/audit")
def audit_log(request: Request, who: str = "", action: str = "", entity: str = "", entity_id: int | None = None,
              since: date | None = None, until: date | None = None, verify: bool = False,
              session: Session = Depends(work), actor: Actor = Depends(current_actor)):
    """The audit log by user, action, subject or report and period, for auditors."""
    doc = flows.audit_log(session, actor=actor, who=who or None, action=action or None, entity=entity or None,
                          entity_id=entity_id, since=since, until=until, verify=verify)
    filters = {"who": who, "action": action, "entity": entity, "entity_id": entity_id or "",
               "since": since or "", "until": until or ""}
    return page(request, session, actor, "audit.html", {"doc": doc, "filters": filters})


@router.get("/reviews")
def reviews_list(request: Request, session: Session = Depends(work), actor: Actor = Depends(current_actor)):
    """Possible matches waiting for an analyst, strongest first (of the actor's units)."""
    docs = flows.open_reviews(session, actor=actor)
    return page(request, session, actor, "reviews.html", {"reviews": docs})


@router.get("/reviews/{review_id}")
def review(request: Request, review_id: int, session: Session = Depends(work), actor: Actor = Depends(current_actor)):
    doc = flows.view_review(session, review_id, actor=actor, reason=WEB)
    return page(request, session, actor, "review.html", {"r": doc})


@router.post("/reviews/{review_id}/{answer}", dependencies=[Depends(checked_csrf)])
def answer_review(review_id: int, answer: str, reason: str = Form(...), session: Session = Depends(work),
                  actor: Actor = Depends(current_actor)):
    """Same person (confirm) or not (reject), with the reason; the reports touched are triaged at once."""
    if answer not in ("confirm", "reject"):
        raise LookupError(answer)
    result = flows.shape_subjects(session, answer, review_id=review_id, actor=actor, reason=reason)
    return RedirectResponse(f"/subjects/{result.subject_ids[0]}", status_code=303)


@router.post("/subjects/{subject_id}/merge", dependencies=[Depends(checked_csrf)])
def merge(subject_id: int, other_id: int = Form(...), reason: str = Form(...), session: Session = Depends(work),
          actor: Actor = Depends(current_actor)):
    flows.shape_subjects(session, "merge", subject_id=subject_id, other_id=other_id, actor=actor, reason=reason)
    return RedirectResponse(f"/subjects/{subject_id}", status_code=303)


@router.post("/subjects/{subject_id}/split", dependencies=[Depends(checked_csrf)])
def split(subject_id: int, person: list[int] = Form(...), reason: str = Form(...), session: Session = Depends(work),
          actor: Actor = Depends(current_actor)):
    result = flows.shape_subjects(session, "split", subject_id=subject_id, persons=person, actor=actor, reason=reason)
    return RedirectResponse(f"/subjects/{result.subject_ids[-1]}", status_code=303)
