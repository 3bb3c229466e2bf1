"""The REST API under /api/v1: the same services as the screens, for service accounts and automated
feeds. A request carries `Authorization: Bearer <token>` (`tiptriage tokens add`); it acts as the
token's account — whose roles and units the services still check — and only within the token's
scopes. No cookies, so no CSRF token: a browser's session is not accepted here."""

from __future__ import annotations

import json
from datetime import date
from typing import Literal
from pathlib import Path

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from tiptriage import dossier, flows
from tiptriage.accounts import tokens, users
from tiptriage.accounts.actor import Actor
from tiptriage.i18n import _
from tiptriage.intake.formats import __file__ as formats_file
from tiptriage.media import service as media
from tiptriage.media.banks import BankFormatError
from tiptriage.registry import service as registry
from tiptriage.registry import views
from tiptriage.subjects.identity import Identity
from tiptriage.triage import service as triage
from tiptriage.triage.models import QUEUE_STATUSES
from tiptriage.web.auth import NotLoggedIn, work
from tiptriage.web.banks import import_settings
from tiptriage.web.uploads import import_bank_upload, ingest_uploads

router = APIRouter(prefix="/api/v1", tags=["tiptriage"])
PURPOSE = "api"


class Caller:
    """Who calls, and what their token allows."""

    def __init__(self, actor: Actor, scopes: frozenset[str]):
        self.actor, self.scopes = actor, scopes

    def may(self, scope: str) -> Actor:
        tokens.require_scope(self.scopes, scope, self.actor)
        return self.actor


def caller(request: Request, session: Session = Depends(work)) -> Caller:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    found = tokens.resolve(session, token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if found is None:
        raise NotLoggedIn()
    user, scopes = found
    return Caller(users.actor_of(user), scopes)


class DecideBody(BaseModel):
    justification: str = Field(min_length=1)
    outcome: str | None = Field(None, description="Override with this outcome; none confirms the recommendation.")


class ApproveBody(BaseModel):
    note: str | None = None
    acknowledgement: str | None = Field(None, description="Why it is right although possible earlier warnings "
                                                          "or distribution were found.")


class ReasonBody(BaseModel):
    reason: str = Field(min_length=1, description="Why (kept in the audit log).")


class MergeBody(ReasonBody):
    other_id: int = Field(description="The subject merged into this one.")


class SplitBody(ReasonBody):
    persons: list[int] = Field(min_length=1, description="Reported persons moved to a new subject.")


class BirthDateBody(BaseModel):
    born: date
    source: str = Field(description="The register: BRP or RNI.")
    note: str = Field(min_length=1, description="What was checked, e.g. the query's reference.")


class IdentifyBody(BaseModel):
    given_name: str = Field(min_length=1)
    family_name: str = Field(min_length=1)
    born: date | None = None
    street: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str = "NL"
    source: str = Field(description="provider, BRP, RNI or investigation.")
    reference: str = Field(min_length=1)
    note: str = Field(min_length=1)
    person: str | None = Field(None, description="Which reported person (p1, p2, ...) when the report names several.")


class DeliverBody(BaseModel):
    on: date
    officer: str = Field(min_length=1)
    referral_offered: bool = True
    referral_accepted: bool | None = None


@router.get("/queue")
def queue(unit: str | None = None, outcome: str | None = None, status: list[str] = Query(default=[]),
          source: str | None = None, age_band: str | None = None, since: date | None = None,
          until: date | None = None, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0),
          session: Session = Depends(work), who: Caller = Depends(caller)) -> list[dict]:
    """The work queue, as `tiptriage queue --json`; `age_band` is one of the bands of
    `triage.facts.AGE_BANDS`, `since`/`until` the days received (inclusive)."""
    statuses = tuple(s for s in status if s in QUEUE_STATUSES) or triage.OPEN_STATUSES
    narrow = triage.Narrowing(source=source, age_band=age_band, since=since, until=until)
    return triage.view_queue(session, actor=who.may("read"), purpose=PURPOSE, unit=unit, statuses=statuses,
                             outcome=outcome, limit=limit, offset=offset, narrow=narrow)


@router.get("/reports/{report_id}")
def report(report_id: int, session: Session = Depends(work), who: Caller = Depends(caller)) -> dict:
    """Everything known about a report, as `tiptriage reports show --json`."""
    doc = dossier.report_dossier(session, report_id, actor=who.may("read"), reason=PURPOSE)
    if doc is None:
        raise LookupError(report_id)
    return doc


@router.get("/subjects/{subject_id}")
def subject(subject_id: int, session: Session = Depends(work), who: Caller = Depends(caller)) -> dict:
    """A subject's history, as `tiptriage history --json`."""
    return flows.subject_history(session, subject_id, actor=who.may("read"), purpose=PURPOSE)


@router.get("/subjects")
def search(identifier: str, reason: str, kind: str | None = None, session: Session = Depends(work),
           who: Caller = Depends(caller)) -> dict:
    """Subjects carrying an identifier, as `tiptriage subjects search --json`; the reason is on record."""
    return flows.search_subjects(session, identifier, actor=who.may("read"), reason=reason, kind=kind)


@router.get("/alerts")
def alerts(unit: str | None = None, session: Session = Depends(work), who: Caller = Depends(caller)) -> list[dict]:
    return views.view_alerts(session, actor=who.may("read"), unit=unit, purpose=PURPOSE)


@router.post("/alerts/{alert_id}/ack")
def acknowledge(alert_id: int, session: Session = Depends(work), who: Caller = Depends(caller)) -> dict:
    alert = registry.acknowledge(session, alert_id, actor=who.may("decide"))
    return registry.alert_doc(alert)


@router.post("/reports/{report_id}/decide")
def decide(report_id: int, body: DecideBody, session: Session = Depends(work), who: Caller = Depends(caller)) -> dict:
    """Confirm or override; a WARNING is proposed and waits for a second person."""
    d, warning = flows.decide(session, report_id, actor=who.may("decide"), justification=body.justification,
                              outcome=body.outcome)
    return {"report_id": report_id, "decision_id": d.id, "kind": d.kind, "outcome": d.outcome, "unit": d.unit,
            "warning_id": warning.id if warning else None}


@router.post("/warnings/{warning_id}/approve")
def approve(warning_id: int, body: ApproveBody, session: Session = Depends(work),
            who: Caller = Depends(caller)) -> dict:
    approval = flows.approve_warning(session, warning_id, actor=who.may("approve"), note=body.note,
                                     acknowledgement=body.acknowledgement)
    return registry.warning_doc(session, approval.warning) | {"possible_earlier_warnings": approval.earlier,
                                                              "possible_distribution": approval.distribution}


@router.post("/warnings/{warning_id}/deliver")
def deliver(warning_id: int, body: DeliverBody, session: Session = Depends(work),
            who: Caller = Depends(caller)) -> dict:
    warning = flows.deliver_warning(session, warning_id, actor=who.may("deliver"), on=body.on, officer=body.officer,
                                    referral_offered=body.referral_offered, referral_accepted=body.referral_accepted)
    return registry.warning_doc(session, warning)


@router.post("/warnings/{warning_id}/revoke")
def revoke(warning_id: int, body: ReasonBody, session: Session = Depends(work), who: Caller = Depends(caller)) -> dict:
    """Revoke before delivery; the reports go back to the queue."""
    return registry.warning_doc(session, flows.revoke_warning(session, warning_id, actor=who.may("approve"),
                                                              reason=body.reason))


@router.post("/reports/{report_id}/birth-date")
def birth_date(report_id: int, body: BirthDateBody, session: Session = Depends(work),
               who: Caller = Depends(caller)) -> dict:
    """A date of birth verified in a register, as `tiptriage birth-date`; the reports are triaged again."""
    row = triage.record_birth_date(session, report_id, body.born, source=body.source, actor=who.may("record"),
                                   note=body.note)
    return {"report_id": report_id, "verified_birth_date_id": row.id,
            "outcome": triage.report_triage(session, report_id)["recommendation"]["outcome"]}


@router.post("/reports/{report_id}/identify")
def identify(report_id: int, body: IdentifyBody, session: Session = Depends(work), who: Caller = Depends(caller)) -> dict:
    """Who stands behind the report, as `tiptriage identify`; linked again and triaged."""
    person = Identity(body.given_name, body.family_name, body.born, body.street, body.postcode, body.city, body.country)
    result = triage.record_identification(session, report_id, person, source=body.source, reference=body.reference,
                                          note=body.note, actor=who.may("record"), person_ref=body.person)
    return {"report_id": report_id, "identification_id": result.identification_id, "subject_id": result.subject_id,
            "linkage": result.decision, "reviews": list(result.review_ids),
            "outcome": triage.report_triage(session, report_id)["recommendation"]["outcome"]}


@router.get("/reviews")
def reviews(session: Session = Depends(work), who: Caller = Depends(caller)) -> list[dict]:
    """Possible matches waiting for an analyst, strongest first."""
    return flows.open_reviews(session, actor=who.may("read"))


@router.get("/reviews/{review_id}")
def review(review_id: int, session: Session = Depends(work), who: Caller = Depends(caller)) -> dict:
    """One possible match with both sides' evidence (a consultation of both persons)."""
    return flows.view_review(session, review_id, actor=who.may("read"), reason=PURPOSE)


@router.post("/reviews/{review_id}/{answer}")
def answer_review(review_id: int, answer: Literal["confirm", "reject"], body: ReasonBody,
                  session: Session = Depends(work), who: Caller = Depends(caller)) -> dict:
    """Same person (confirm) or not (reject); the reports touched are triaged at once."""
    return flows.shape_subjects(session, answer, review_id=review_id, actor=who.may("subjects"),
                                reason=body.reason).as_dict()


@router.post("/subjects/{subject_id}/merge")
def merge(subject_id: int, body: MergeBody, session: Session = Depends(work), who: Caller = Depends(caller)) -> dict:
    return flows.shape_subjects(session, "merge", subject_id=subject_id, other_id=body.other_id,
                                actor=who.may("subjects"), reason=body.reason).as_dict()


@router.post("/subjects/{subject_id}/split")
def split(subject_id: int, body: SplitBody, session: Session = Depends(work), who: Caller = Depends(caller)) -> dict:
    return flows.shape_subjects(session, "split", subject_id=subject_id, persons=body.persons,
                                actor=who.may("subjects"), reason=body.reason).as_dict()


@router.post("/ingest")
def ingest(files: list[UploadFile] = File(...), session: Session = Depends(work), who: Caller = Depends(caller)) -> dict:
    """Report files through the whole data path, as `tiptriage ingest --json`."""
    return ingest_uploads(session, files, actor=who.may("ingest")).as_dict()


@router.get("/banks")
def banks(session: Session = Depends(work), who: Caller = Depends(caller)) -> list[dict]:
    """The hash banks: format, current version (who imported it, when), live entries per category,
    as `tiptriage bank list --json`."""
    return media.list_banks(session, actor=who.may("read"))


@router.get("/banks/{name}")
def bank(name: str, session: Session = Depends(work), who: Caller = Depends(caller)) -> dict:
    """One bank with its category map, entries and versions, as `tiptriage bank show --json`."""
    doc = media.bank_detail(session, name, actor=who.may("read"))
    if doc is None:
        raise LookupError(name)
    return doc


@router.post("/banks/{name}/import", responses={422: {"description": "The file is refused; the bank is unchanged"}})
def import_bank(name: str, file: UploadFile = File(...), fmt: str = Form("", alias="format"),
                mapping: list[str] = Form([], alias="map", description="CODE=CATEGORY, as `--map`"),
                default_category: str = Form(""),
                hash_type: str = Form(""), session: Session = Depends(work), who: Caller = Depends(caller)):
    """A bank file as the bank's next version, then the retro-match, as `tiptriage bank import --json`
    (scope `import_bank`). A refused file answers 422 with each problem once: line, record, field."""
    actor = who.may("import_bank")
    try:
        return import_bank_upload(session, file, name=name, actor=actor,
                                  **import_settings(fmt, mapping, default_category, hash_type)).as_dict()
    except BankFormatError as exc:
        return JSONResponse({"error": _("Bank file {file} refused; the bank is unchanged", file=file.filename),
                             "problems": [p.as_dict() | {"message": p.said()} for p in exc.problems],
                             "more": exc.more}, status_code=422)


@router.get("/schemas/report.json")
def report_schema() -> dict:
    """The JSON Schema of a report in tiptriage JSON (what other senders deliver)."""
    return json.loads((Path(formats_file).parent / "tiptriage-report.schema.json").read_text(encoding="utf-8"))
