"""What combines domains, above their services (the data path has its own: `pipeline.py`).

Registry actions with their consequences for triage: a warning proposed through a decision waits for a second person; approval settles the decision;
delivery or revocation, and closing an investigation, change what the subject's other reports
mean, so those are triaged again at once (escalation: a re-report after the warning now yields
CRIMINAL_CASE with the aggravation flag and an alert).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from tiptriage.accounts.actor import OutOfView, require, same_identity, units_in_view
from tiptriage.audit import service as audit
from tiptriage.i18n import refusal
from tiptriage.intake.models import Report, ReportedPersonRow
from tiptriage.operations import assignments
from tiptriage.operations.plan import PlanItem, UnitPlan, plan_week
from tiptriage.operations.units import load_units
from tiptriage.registry import service as registry
from tiptriage.registry.earlier import possible_distribution, possible_earlier_warnings
from tiptriage.registry.models import Alert, Investigation, PoliceWarning, WarningReport
from tiptriage.subjects import actions, documents, identity, lookup, reviews
from tiptriage.subjects.models import Subject, SubjectReview
from tiptriage.triage import service as triage
from tiptriage.triage.models import Decision, Recommendation, TriageState
from tiptriage.triage.subjectlinks import SubjectLinks, default_links


def propose_warning(session: Session, report_id: int, *, actor: str, justification: str, unit: str | None = None,
                    links: SubjectLinks | None = None) -> PoliceWarning:
    """Decide WARNING on a report (confirm or override, hard rules checked): the warning is proposed."""
    _, warning = decide(session, report_id, actor=actor, justification=justification, outcome="WARNING", unit=unit,
                        links=links)
    return warning


def decide(session: Session, report_id: int, *, actor: str, justification: str, outcome: str | None = None,
           unit: str | None = None, links: SubjectLinks | None = None) -> tuple[Decision, PoliceWarning | None]:
    """Confirm (no outcome) or override a recommendation; a WARNING decided is a warning proposed,
    returned with the decision (it waits for a second person)."""
    decision = triage.decide(session, report_id, actor=actor, justification=justification, outcome=outcome,
                             unit=unit, links=links)
    if decision.outcome != "WARNING":
        return decision, None
    warning = session.execute(select(PoliceWarning).where(PoliceWarning.decision_id == decision.id)).scalar_one()
    return decision, warning


class Approval(NamedTuple):
    warning: PoliceWarning
    earlier: list[dict]  # the possible earlier warnings the approver acknowledged, with their evidence
    distribution: list[dict] = []  # subjects that distributed and may be this person, acknowledged


def approve_warning(session: Session, warning_id: int, *, actor: str, note: str | None = None,
                    acknowledgement: str | None = None, links: SubjectLinks | None = None) -> Approval:
    """Approve (four eyes); with possible earlier warnings only when `acknowledgement` says why;
    never while the person's age is unknown or a register check shows a minor (facts as they are
    now, so a check recorded a minute ago counts)."""
    warning = session.get(PoliceWarning, warning_id)
    if warning is None:
        raise refusal(LookupError, "no warning with id {id}", id=warning_id)
    found, spread, facts = [], [], {}
    # Only an approval that may go ahead looks at personal data; the others are refused below. The
    # searches are consultations: on record even when the approval is then refused.
    if warning.state == "proposed" and not same_identity(warning.proposed_by, actor):
        facts = triage.facts_now(session, covered_reports(session, warning_id), links=links)
        found = possible_earlier_warnings(session, warning, actor=actor, purpose="approve")
        spread = possible_distribution(session, warning, triage.distributing_persons(), actor=actor,
                                       purpose="approve")
    warning = registry.approve(session, warning_id, actor=actor, note=note, acknowledgement=acknowledgement,
                               earlier=[d["warning_id"] for d in found], facts=facts,
                               distribution=[d["subject_id"] for d in spread])
    triage.settle_warning(session, covered_reports(session, warning_id), approved=True)
    return Approval(warning, found, spread)


def unidentified_reports(session: Session, warning_id: int) -> list[int]:
    """The warning's reports whose warned person has no identification recorded: whoever delivers
    a warning knows whom they warned, and recorded, a re-report from a new account or a bare IP
    address still finds the person (docs/triage.md, Identification)."""
    rows = session.execute(select(WarningReport.report_id, WarningReport.person_id)
                           .where(WarningReport.warning_id == warning_id)).all()
    known = identity.newest(session, [person for _, person in rows])
    return sorted({report for report, person in rows if person not in known})


def deliver_warning(session: Session, warning_id: int, *, actor: str, on: date, officer: str, unit: str | None = None,
                    referral_offered: bool, referral_accepted: bool | None = None,
                    links: SubjectLinks | None = None) -> PoliceWarning:
    warning = registry.deliver(session, warning_id, actor=actor, on=on, officer=officer, unit=unit,
                               referral_offered=referral_offered, referral_accepted=referral_accepted)
    triage.retriage_related(session, covered_reports(session, warning_id), actor=actor, trigger="warning",
                            reason=f"warning {warning_id} delivered", links=links)
    return warning


def revoke_warning(session: Session, warning_id: int, *, actor: str, reason: str,
                   links: SubjectLinks | None = None) -> PoliceWarning:
    warning = registry.revoke(session, warning_id, actor=actor, reason=reason)
    reports = covered_reports(session, warning_id)
    triage.settle_warning(session, reports, approved=False)
    triage.retriage_related(session, reports, actor=actor, trigger="warning", reason=f"warning {warning_id} revoked",
                            links=links)
    return warning


def close_investigation(session: Session, investigation_id: int, *, actor: str, reason: str,
                        links: SubjectLinks | None = None) -> Investigation:
    item = registry.close_investigation(session, investigation_id, actor=actor, reason=reason)
    triage.retriage_related(session, [item.report_id], actor=actor, trigger="decision",
                            reason=f"investigation {investigation_id} closed", links=links)
    return item


def _may_see_subject(session: Session, subject_id: int, report_ids: list[int], actor: str) -> None:
    """A unit-bound actor sees a subject when one of its reports is their units' work; otherwise
    the subject is out of view (to a front door: not found) and the attempt is on record."""
    units = units_in_view(actor)
    if units is None:
        return
    theirs = _units_of(session, report_ids)
    if not theirs & units:
        audit.attempted(session, actor=actor, action="subject.view_refused", entity="subject",
                        entity_ids=[subject_id], details={"units": sorted(u for u in theirs if u)})
        raise refusal(OutOfView, "{actor} may not see subject {id}: none of its reports is work of their units",
                      actor=str(actor), id=subject_id)


def subject_document(session: Session, subject_id: int, *, actor: str, reason: str | None = None,
                     links: SubjectLinks | None = None) -> dict | None:
    """`subjects.documents.subject_document` for a front door: a subject none of whose reports is
    the actor's units' work is out of view (subjects know no units; triage does)."""
    report_ids = _reports_of_subject(session, subject_id, links)
    if report_ids:
        _may_see_subject(session, subject_id, report_ids, actor)
    return documents.subject_document(session, subject_id, actor=actor, reason=reason)


def shape_subjects(session: Session, change: str, *, actor: str, reason: str, review_id: int | None = None,
                   subject_id: int | None = None, other_id: int | None = None, persons: list[int] = (),
                   links: SubjectLinks | None = None) -> actions.ActionResult:
    """An analyst's change to who is who — confirm or reject a possible match, merge, split — and
    at once the triage of every report it touched, so the queue never shows a recommendation made
    on links that no longer hold (a confirmed match can make a report a re-report after a warning).
    The subjects changed must be in the actor's view (a review: its subject's)."""
    for changed in _changed_subjects(session, change, review_id, subject_id, other_id):
        report_ids = _reports_of_subject(session, changed, links)
        if report_ids:
            _may_see_subject(session, changed, report_ids, actor)
    if change == "confirm":
        result = reviews.confirm_review(session, review_id, actor=actor, reason=reason)
    elif change == "reject":
        result = reviews.reject_review(session, review_id, actor=actor, reason=reason)
    elif change == "merge":
        result = actions.merge(session, subject_id, other_id, actor=actor, reason=reason)
    else:
        result = actions.split(session, subject_id, list(persons), actor=actor, reason=reason)
    triage.triage_reports(session, list(result.affected_report_ids), actor=actor, trigger="subject",
                          reason=f"subjects: {change}", links=links)
    return result


def search_subjects(session: Session, value: str, *, actor: str, reason: str | None,
                    kind: str | None = None) -> dict:
    """Subjects carrying an identifier, for a person: those in the actor's view, and how many more
    another unit's work holds (that someone else knows this person is what de-confliction needs;
    who they are is not). The search is on record with its reason, found or not."""
    found = lookup.search(session, value, actor=actor, reason=reason, kind=kind)
    units = units_in_view(actor)
    mine = found if units is None else [s for s in found if _in_view(session, s, units)]
    return {"subjects": mine, "elsewhere": len(found) - len(mine)}


def _changed_subjects(session: Session, change: str, review_id: int | None, subject_id: int | None,
                      other_id: int | None) -> list[int]:
    if change in ("confirm", "reject"):
        review = session.get(SubjectReview, review_id)
        if review is None:
            raise refusal(LookupError, "no review with id {id}", id=review_id)
        return [review.subject_id]
    return [s for s in (subject_id, other_id) if s is not None]


def open_reviews(session: Session, *, actor: str, limit: int = 50) -> list[dict]:
    """Possible matches waiting for an analyst, strongest first: those of subjects in the actor's view."""
    units = units_in_view(actor)
    docs = [documents.review_doc(r) for r in reviews.open_reviews(session, limit=limit if units is None else None)]
    if units is not None:
        docs = [d for d in docs if _in_view(session, d["subject_id"], units)][:limit]
    return docs


def view_review(session: Session, review_id: int, *, actor: str, reason: str | None = None) -> dict:
    """One possible match, both sides' evidence side by side; its subject must be in the actor's view."""
    review = session.get(SubjectReview, review_id)
    if review is None:
        raise refusal(LookupError, "no review with id {id}", id=review_id)
    _may_see_subject(session, review.subject_id, _reports_of_subject(session, review.subject_id), actor)
    return documents.view_review(session, review_id, actor=actor, reason=reason)


def _in_view(session: Session, subject_id: int, units: frozenset[str]) -> bool:
    return bool(_units_of(session, _reports_of_subject(session, subject_id)) & units)


def _units_of(session: Session, report_ids: list[int]) -> set[str]:
    """The units whose work these reports are."""
    if not report_ids:
        return set()
    return set(session.execute(select(TriageState.unit).where(TriageState.report_id.in_(report_ids))).scalars())


def _reports_of_subject(session: Session, subject_id: int, links: SubjectLinks | None = None) -> list[int]:
    persons = (links or default_links()).members_of(session, [subject_id]).get(subject_id, [])
    return _reports_of_persons(session, persons)


def _reports_of_persons(session: Session, persons: list[int]) -> list[int]:
    return sorted(set(session.execute(select(ReportedPersonRow.report_id).where(
        ReportedPersonRow.id.in_(persons))).scalars())) if persons else []


def covered_reports(session: Session, warning_id: int) -> list[int]:
    return list(session.execute(select(WarningReport.report_id).where(WarningReport.warning_id == warning_id)
                                .order_by(WarningReport.report_id)).scalars())


def _subject_in_view(session: Session, subject_id: int, actor: str,
                     links: SubjectLinks) -> tuple[list[int], list[int]]:
    """The subject's reported persons and reports, once it is known to exist and be in the actor's
    view (LookupError: no such subject; OutOfView: none of its reports is their units' work)."""
    persons = links.members_of(session, [subject_id]).get(subject_id, [])
    if not persons and session.get(Subject, subject_id) is None:
        raise refusal(LookupError, "no subject with id {id}", id=subject_id)
    report_ids = _reports_of_persons(session, persons)
    _may_see_subject(session, subject_id, report_ids, actor)
    return persons, report_ids


def subject_history(session: Session, subject_id: int, *, actor: str, purpose: str | None = None,
                    links: SubjectLinks | None = None) -> dict:
    """A subject's reports in time order with their recommendation, and its warnings, investigations
    and alerts: what a unit sees before it acts on the subject (a consultation on record).
    LookupError when there is no such subject."""
    links = links or default_links()
    persons, report_ids = _subject_in_view(session, subject_id, actor, links)
    rows = session.execute(select(Report, TriageState, Recommendation)
                           .outerjoin(TriageState, TriageState.report_id == Report.id)
                           .outerjoin(Recommendation, Recommendation.id == TriageState.recommendation_id)
                           .where(Report.id.in_(report_ids))).all()
    reports = sorted(({"report_id": r.id, "source": r.source, "external_id": r.external_id,
                       "incident_at": r.incident_at, "outcome": s.outcome if s else None,
                       "priority": s.priority if s else None, "status": s.status if s else None,
                       "unit": s.unit if s else None, "decided_by": rec.decided_by if rec else None,
                       "flags": rec.flags if rec else []} for r, s, rec in rows),
                     key=lambda d: (d["incident_at"] is None, d["incident_at"], d["report_id"]))
    warnings = registry.warnings_of_persons(session, persons)
    alerts = list(session.execute(select(Alert).where(Alert.report_id.in_(report_ids)).order_by(Alert.id)).scalars())
    investigations = list(session.execute(select(Investigation).where(Investigation.report_id.in_(report_ids))
                                          .order_by(Investigation.id)).scalars())
    audit.consulted_reports(session, actor=actor, action="subject.history.view", reason=purpose,
                            report_ids=report_ids, details={"subject_id": subject_id})
    return {"subject_id": subject_id, "reports": reports,
            "warnings": [registry.warning_doc(session, w, history=True) for w in warnings],
            "investigations": [{"id": i.id, "report_id": i.report_id, "unit": i.unit, "opened_at": i.opened_at,
                                "closed_at": i.closed_at} for i in investigations],
            "alerts": [registry.alert_doc(a) for a in alerts]}


# --- the week's plan: the triage queue against the units' capacity ---------------------------------
PLANNED_STATUSES = ("open", "reopened", "awaiting_approval")


def plan(session: Session, *, actor: str, unit: str | None = None, shown: int | None = 50) -> dict[str, UnitPlan]:
    """What each unit the actor works for (or one of them) can take up this week. The reports shown
    (the first `shown` planned and waiting per unit) are what the audit log records as consulted."""
    scope = units_in_view(actor, unit)
    rows = triage.queue(session, units=scope, statuses=PLANNED_STATUSES, limit=None)
    items = [PlanItem(r["report_id"], r["external_id"], r["outcome"], r["priority"], r["received_at"], r["unit"])
             for r in rows]
    order = {o: n for n, o in enumerate(triage.make_order())}
    items = sorted(items + _deliveries(session, scope), key=lambda i: (order.get(i.outcome, len(order)),
                                                                        i.task != "deliver"))
    plans = plan_week(items, load_units())
    if scope is not None:
        plans = {u: p for u, p in plans.items() if u in scope}
    seen = [e["report_id"] for p in plans.values() for e in p.planned[:shown] + p.waiting[:shown]]
    audit.consulted_reports(session, actor=actor, action="plan.view", report_ids=seen,
                            details={"unit": unit, "queued": len(items)})
    return plans


def _deliveries(session: Session, scope: frozenset[str] | None) -> list[PlanItem]:
    """Approved warnings not yet delivered: work for the week as much as a report to decide."""
    query = (select(PoliceWarning.id, PoliceWarning.unit, PoliceWarning.approved_at, Report.id, Report.external_id,
                    TriageState.priority)
             .join(WarningReport, WarningReport.warning_id == PoliceWarning.id)
             .join(Report, Report.id == WarningReport.report_id)
             .outerjoin(TriageState, TriageState.report_id == Report.id)
             .where(PoliceWarning.state == "approved").order_by(PoliceWarning.approved_at, PoliceWarning.id))
    if scope is not None:
        query = query.where(PoliceWarning.unit.in_(sorted(scope)))
    seen: dict[int, PlanItem] = {}
    for wid, unit, approved_at, report_id, external_id, priority in session.execute(query):
        seen.setdefault(wid, PlanItem(report_id, external_id, "WARNING", priority or 0, approved_at, unit,
                                      task="deliver", warning_id=wid))
    return list(seen.values())


# --- units: who is responsible for work nothing placed -------------------------------------------
UNPLACED_OUTCOMES = ("NO_ACTION", "FORWARD")  # work no regional unit needs to take up


def unassigned(session: Session, *, actor: str, limit: int | None = 200) -> list[dict]:
    """Subjects whose open work waits at the default unit because nothing placed them (no Dutch
    address, no estimated location or IP address a table places) and no person gave them a unit:
    a person's work list, oldest first. The reports shown are on record as consulted."""
    units = load_units()
    scope = units_in_view(actor, units.default_unit)
    rows = session.execute(select(TriageState.report_id, TriageState.outcome, TriageState.priority,
                                  TriageState.received_at, Recommendation.subject_ids)
                           .join(Recommendation, Recommendation.id == TriageState.recommendation_id)
                           .where(TriageState.unit.in_(sorted(scope)), TriageState.status.in_(PLANNED_STATUSES),
                                  TriageState.outcome.not_in(UNPLACED_OUTCOMES))
                           .order_by(TriageState.received_at, TriageState.report_id)).all()
    given = assignments.assigned(session, [s for *_, subjects in rows for s in subjects or ()])
    by_subject: dict[int, dict] = {}
    for report_id, outcome, priority, received_at, subjects in rows:
        if not subjects or any(s in given for s in subjects):
            continue
        entry = by_subject.setdefault(subjects[0], {"subject_id": subjects[0], "reports": [], "outcomes": [],
                                                    "priority": priority, "waiting_since": received_at})
        entry["reports"].append(report_id)
        entry["outcomes"] = sorted(set(entry["outcomes"]) | {outcome})
        entry["priority"] = max(entry["priority"], priority)
    shown = list(by_subject.values())[:limit]
    audit.consulted_reports(session, actor=actor, action="units.unassigned.view",
                            report_ids=[r for d in shown for r in d["reports"]], details={"subjects": len(shown)})
    return shown


def assign_unit(session: Session, subject_id: int, unit: str, *, actor: str, reason: str,
                links: SubjectLinks | None = None) -> dict:
    """A person gives a subject nothing placed its unit; the subject's reports are triaged again at
    once, so they move to that unit's queue."""
    links = links or default_links()
    _, report_ids = _subject_in_view(session, subject_id, actor, links)
    row = assignments.assign(session, subject_id, unit, actor=actor, reason=reason, units=load_units())
    summary = triage.triage_reports(session, report_ids, actor=actor, trigger="subject",
                                    reason=f"unit {unit} assigned to subject {subject_id}", links=links)
    return {"subject_id": subject_id, "unit": row.unit, "reason": row.reason, "actor": str(row.actor),
            "at": row.at, "retriaged_reports": summary.report_ids}


# --- the audit log, for auditors ----------------------------------------------------------------------

def audit_checkpoint(session: Session, *, actor: str):
    """The chain verified and a checkpoint taken (audit.checkpoint), by an auditor or administrator."""
    require(actor, "read_audit")
    return audit.checkpoint(session, actor=actor)


def audit_log(session: Session, *, actor: str, who: str | None = None, action: str | None = None,
              entity: str | None = None, entity_id: int | None = None, since: date | None = None,
              until: date | None = None, limit: int = 200, verify: bool = False) -> dict:
    """The audit log as an auditor reads it (by user, action, subject or report, period), with the
    chain's state when `verify` asks for it (a walk of the whole chain); reading it is itself on record."""
    require(actor, "read_audit")
    start = datetime.combine(since, time.min, tzinfo=UTC) if since else None
    end = datetime.combine(until, time.min, tzinfo=UTC) + timedelta(days=1) if until else None
    rows = audit.events(session, limit=limit, action=action, actor=who, entity=entity, entity_id=entity_id,
                        since=start, until=end)
    state = audit.verify(session) if verify else None
    audit.consulted(session, actor=actor, action="audit.view", entity="audit", reason="audit",
                    details={"who": who, "action": action, "entity": entity, "entity_id": entity_id,
                             "since": since, "until": until, "shown": len(rows)})
    return {"chain": state and {"ok": state.ok, "events": state.events, "broken_seq": state.broken_seq,
                                "problem": state.problem},
            "events": [{"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "entity": e.entity,
                        "entity_ids": e.entity_ids, "reason": e.reason, "details": e.details} for e in rows]}
