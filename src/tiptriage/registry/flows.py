"""Registry actions with their consequences for triage (the orchestration above both services).

A warning proposed through a decision waits for a second person; approval settles the decision;
delivery or revocation, and closing an investigation, change what the subject's other reports
mean, so those are triaged again at once (escalation: a re-report after the warning now yields
CRIMINAL_CASE with the aggravation flag and an alert).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from tiptriage.registry import service as registry
from tiptriage.registry.models import Investigation, PoliceWarning, WarningReport
from tiptriage.triage import service as triage
from tiptriage.triage.subjectlinks import SubjectLinks


def propose_warning(session: Session, report_id: int, *, actor: str, justification: str, unit: str | None = None,
                    links: SubjectLinks | None = None) -> PoliceWarning:
    """Decide WARNING on a report (confirm or override, hard rules checked): the warning is proposed."""
    decision = triage.decide(session, report_id, actor=actor, justification=justification, outcome="WARNING",
                             unit=unit, links=links)
    return session.execute(select(PoliceWarning).where(PoliceWarning.decision_id == decision.id)).scalar_one()


def approve_warning(session: Session, warning_id: int, *, actor: str, note: str | None = None) -> PoliceWarning:
    warning = registry.approve(session, warning_id, actor=actor, note=note)
    triage.settle_warning(session, covered_reports(session, warning_id), approved=True)
    session.commit()
    return warning


def deliver_warning(session: Session, warning_id: int, *, actor: str, on: date, officer: str, unit: str | None = None,
                    referral_offered: bool, referral_accepted: bool | None = None,
                    links: SubjectLinks | None = None, as_of: date | None = None) -> PoliceWarning:
    warning = registry.deliver(session, warning_id, actor=actor, on=on, officer=officer, unit=unit,
                               referral_offered=referral_offered, referral_accepted=referral_accepted)
    session.commit()
    triage.retriage_related(session, covered_reports(session, warning_id), actor=actor, trigger="warning",
                            reason=f"warning {warning_id} delivered", links=links, as_of=as_of)
    return warning


def revoke_warning(session: Session, warning_id: int, *, actor: str, reason: str,
                   links: SubjectLinks | None = None) -> PoliceWarning:
    warning = registry.revoke(session, warning_id, actor=actor, reason=reason)
    reports = covered_reports(session, warning_id)
    triage.settle_warning(session, reports, approved=False)
    session.commit()
    triage.retriage_related(session, reports, actor=actor, trigger="warning", reason=f"warning {warning_id} revoked",
                            links=links)
    return warning


def close_investigation(session: Session, investigation_id: int, *, actor: str, reason: str,
                        links: SubjectLinks | None = None) -> Investigation:
    item = registry.close_investigation(session, investigation_id, actor=actor, reason=reason)
    session.commit()
    triage.retriage_related(session, [item.report_id], actor=actor, trigger="decision",
                            reason=f"investigation {investigation_id} closed", links=links)
    return item


def covered_reports(session: Session, warning_id: int) -> list[int]:
    return list(session.execute(select(WarningReport.report_id).where(WarningReport.warning_id == warning_id)
                                .order_by(WarningReport.report_id)).scalars())
