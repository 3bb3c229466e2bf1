"""What the registry shows a person: warnings, alerts and investigations as documents, of the units
the person works for only, each read on record as a consultation (who, which reports, why), so every
front door scopes and logs it the same way."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tiptriage.accounts.actor import units_in_view
from tiptriage.audit import service as audit
from tiptriage.i18n import refusal
from tiptriage.intake.models import Report
from tiptriage.registry import service as registry
from tiptriage.registry.earlier import possible_earlier_warnings
from tiptriage.registry.models import PoliceWarning


def view_warnings(session: Session, *, actor: str, state: str | None = None, unit: str | None = None,
                  purpose: str | None = None) -> list[dict]:
    """Warnings, newest first (`registry.list_warnings`), as documents."""
    docs = [registry.warning_doc(session, w) for w in registry.list_warnings(session, state=state,
                                                                               units=units_in_view(actor, unit))]
    audit.consulted_reports(session, actor=actor, action="warning.view", reason=purpose,
                            report_ids=[r["report_id"] for d in docs for r in d["reports"]],
                            details={"state": state, "unit": unit})
    return docs


def view_warning(session: Session, warning_id: int, *, actor: str, purpose: str, history: bool = False) -> dict:
    """One warning with its reports and the earlier warnings that may concern the same person (that
    search is a consultation of its own); LookupError when there is no such warning."""
    warning = session.get(PoliceWarning, warning_id)
    if warning is None:
        raise refusal(LookupError, "no warning with id {id}", id=warning_id)
    units_in_view(actor, warning.unit)
    doc = registry.warning_doc(session, warning, history=history)
    doc["possible_earlier_warnings"] = possible_earlier_warnings(session, warning, actor=actor, purpose=purpose)
    audit.consulted_reports(session, actor=actor, action="warning.view", reason=purpose,
                            report_ids=[r["report_id"] for r in doc["reports"]], details={"warning_id": warning_id})
    return doc


def view_alerts(session: Session, *, actor: str, unit: str | None = None, open_only: bool = True,
                purpose: str | None = None) -> list[dict]:
    """Alerts, newest first, each with its report's source and external id."""
    rows = registry.list_alerts(session, units=units_in_view(actor, unit), open_only=open_only)
    reports = {r.id: r for r in session.execute(select(Report).where(Report.id.in_({a.report_id for a in rows})))
               .scalars()}
    audit.consulted_reports(session, actor=actor, action="alert.view", reason=purpose,
                            report_ids=[a.report_id for a in rows], details={"unit": unit})
    return [registry.alert_doc(a, reports.get(a.report_id)) for a in rows]


def view_investigations(session: Session, *, actor: str, open_only: bool = True, unit: str | None = None,
                        purpose: str | None = None) -> list[dict]:
    """Investigations units work on, for de-confliction."""
    rows = registry.list_investigations(session, open_only=open_only, units=units_in_view(actor, unit))
    audit.consulted_reports(session, actor=actor, action="investigation.view", reason=purpose,
                            report_ids=[i.report_id for i in rows], details={"unit": unit})
    return [{"id": i.id, "report_id": i.report_id, "subject_id": i.subject_id, "unit": i.unit,
             "opened_at": i.opened_at, "opened_by": i.opened_by, "closed_at": i.closed_at,
             "close_reason": i.close_reason} for i in rows]
