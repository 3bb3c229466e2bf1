"""The registry: official warnings (proposed → approved → delivered → expired/revoked),
investigations for de-confliction, and alerts for units.

Every change is audited and, for warnings, also kept as the warning's own event history. The
four-eyes rule: a warning is approved by someone other than who proposed it. Functions flush and
leave the commit to the caller (one transaction per user action).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tiptriage.accounts.actor import ACTION, Actor, may_see, require, same_identity
from tiptriage.audit import service as audit
from tiptriage.config import get_settings
from tiptriage.db import chunks, utcnow
from tiptriage.i18n import N_, Words, refusal, worded
from tiptriage.intake.models import Report, ReportedPersonRow
from tiptriage.registry.models import Alert, Investigation, PoliceWarning, WarningEvent, WarningReport
from tiptriage.registry.records import InvestigationInput, WarningInput


class RegistryError(ValueError):
    """A registry action that is not allowed in the warning's state, or by this person."""


class EarlierWarnings(RegistryError):
    """Approval refused: earlier warnings may concern the same person, and the approver has not
    said why a warning is still right (the promise: after a warning comes a case, never a second)."""

    def __init__(self, warning_id: int, earlier: list[int]):
        self.warning_id, self.earlier = warning_id, list(earlier)
        worded(self, N_("Warning {id} is not approved: earlier warnings {ids} may concern the same person."),
               steps={"cli": N_("Check them with `tiptriage warnings show {id}`; approve only with "
                                "--acknowledge-earlier REASON."),
                      "web": N_("Compare them under 'Possible earlier warnings' on this page; approve only with a "
                                "reason in the acknowledgement field.")},
               id=warning_id, ids=", ".join(map(str, earlier)))


class PossibleDistribution(RegistryError):
    """Approval refused: other subjects that distributed (or held new material) share something with
    this person, and the approver has not said why they are not this person (who would then get a
    case, not a warning)."""

    def __init__(self, warning_id: int, subjects: list[int]):
        self.warning_id, self.subjects = warning_id, list(subjects)
        worded(self, N_("Warning {id} is not approved: subjects {ids} distributed material (or held new material) and "
                        "share something with this person."),
               steps={"cli": N_("Check them with `tiptriage subjects show ID`; if one is this person, merge the "
                                "subjects (a case, not a warning, follows); approve only with --acknowledge-earlier "
                                "REASON."),
                      "web": N_("Open those subjects and compare; if one is this person, merge them on the subject's "
                                "page (a case, not a warning, follows); approve only with a reason in the "
                                "acknowledgement field.")},
               id=warning_id, ids=", ".join(map(str, subjects)))


class AgeUnknown(RegistryError):
    """Approval refused: no age is known for the person of these reports, so nothing shows that the
    youth track does not apply; a date of birth verified in a register settles it."""

    def __init__(self, warning_id: int, report_ids: list[int]):
        self.warning_id, self.report_ids = warning_id, list(report_ids)
        worded(self, N_("Warning {id} is not approved: the age at the incident of report {ids} is unknown."),
               steps={"cli": N_("Check the date of birth in the population register (BRP) and record it with "
                                "`tiptriage birth-date {report} --date YYYY-MM-DD --source BRP --note TEXT`; under "
                                "18 the youth track applies."),
                      "web": N_("Check the date of birth in the population register (BRP) and record it on the page "
                                "of report {report}; under 18 the youth track applies.")},
               id=warning_id, ids=", ".join(map(str, report_ids)), report=report_ids[0])


class Unnamed(RegistryError):
    """Approval refused: no report of the subject names the person and the unit has not identified
    them. An official warning is delivered to a person: who it is must be established first."""

    def __init__(self, warning_id: int, report_ids: list[int]):
        self.warning_id, self.report_ids = warning_id, list(report_ids)
        worded(self, N_("Warning {id} is not approved: no name is known for the person of report {ids}."),
               steps={"cli": N_("A warning is delivered to a person: identify them first with `tiptriage identify "
                                "{report} --given-name ... --family-name ... --source provider|BRP --reference ... "
                                "--note ...`."),
                      "web": N_("A warning is delivered to a person: identify them first on the page of report "
                                "{report}.")},
               id=warning_id, ids=", ".join(map(str, report_ids)), report=report_ids[0])


class YouthTrack(RegistryError):
    """Approval refused: a date of birth verified in a register makes the person a minor at an
    incident the warning covers; the youth track applies, not a warning."""

    def __init__(self, warning_id: int, minors: list[tuple[int, int]]):
        self.warning_id, self.minors = warning_id, list(minors)  # (report id, age at its incident)
        report, age = minors[0]
        worded(self, N_("Warning {id} is not approved: according to the date of birth verified in the register the "
                        "person was {age} at the incident of report {report}. The youth track applies, not a "
                        "warning."),
               steps={"cli": N_("Revoke it with `tiptriage warnings revoke {id} --reason TEXT`."),
                      "web": N_("Revoke it below, with the reason.")},
               id=warning_id, age=age, report=report)


# --- warnings -----------------------------------------------------------------------------------

def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def shown_state(warning: PoliceWarning, today: date) -> str:
    """The state as people see it: a delivered warning past its end date is expired."""
    if warning.state == "delivered" and warning.expires_on is not None and warning.expires_on <= today:
        return N_("expired")
    return warning.state


def propose(session: Session, report_ids: list[int], *, actor: str, unit: str, justification: str,
            subject_id: int | None = None, decision_id: int | None = None) -> PoliceWarning:
    """Propose a warning for the reported persons of these reports."""
    if not justification.strip():
        raise refusal(RegistryError, "a warning needs a justification")
    persons = session.execute(select(ReportedPersonRow.id, ReportedPersonRow.report_id).where(
        ReportedPersonRow.report_id.in_(report_ids), ReportedPersonRow.role == "reported")).all()
    if {r for _, r in persons} != set(report_ids):
        raise refusal(RegistryError, "every report of a warning needs a reported person")
    given = session.execute(select(WarningReport.report_id, PoliceWarning.id, PoliceWarning.state)
                            .join(PoliceWarning, PoliceWarning.id == WarningReport.warning_id)
                            .where(WarningReport.report_id.in_(report_ids), PoliceWarning.state != "revoked")).first()
    if given is not None:
        raise refusal(RegistryError, "report {id} already has warning {warning} ({state}): no second warning for "
                      "the same report", id=given[0], warning=given[1], state=Words(given[2]))
    warning = PoliceWarning(subject_id=subject_id, state="proposed", unit=unit, proposed_by=actor,
                            proposed_at=utcnow(), justification=justification, decision_id=decision_id)
    session.add(warning)
    session.flush()
    session.add_all(WarningReport(warning_id=warning.id, report_id=r, person_id=p) for p, r in persons)
    _event(session, warning, actor, "warning.propose", {"report_ids": sorted(report_ids), "unit": unit,
                                                        "justification": justification})
    return warning


def approve(session: Session, warning_id: int, *, actor: Actor, note: str | None = None,
            earlier: list[int] = (), acknowledgement: str | None = None,
            facts: dict[int, dict] | None = None, distribution: list[int] = ()) -> PoliceWarning:
    """Approve a proposed warning; `earlier` are the possible earlier warnings found for it, which
    the approver must acknowledge with a reason (kept in the warning's history and the audit log);
    `facts` are the covered reports' facts as they stand now, whose age must be known and adult
    when a register says so."""
    warning = _get(session, warning_id)
    require(actor, "approve", unit=warning.unit)
    _require(warning, "proposed", "approve")
    if same_identity(warning.proposed_by, actor):
        raise refusal(RegistryError, "warning {id} was proposed by {actor}: a second person must approve it",
                      id=warning_id, actor=str(actor))
    check_age(warning_id, facts or {})
    if earlier and not (acknowledgement or "").strip():
        raise EarlierWarnings(warning_id, earlier)
    if distribution and not (acknowledgement or "").strip():
        raise PossibleDistribution(warning_id, distribution)
    warning.state, warning.approved_by, warning.approved_at = "approved", actor, utcnow()
    details = {"note": note}
    if earlier or distribution:
        details |= {"earlier_warnings": list(earlier), "possible_distribution": list(distribution),
                    "acknowledgement": acknowledgement}
    _event(session, warning, actor, "warning.approve", details)
    return warning


def check_age(warning_id: int, facts: dict[int, dict]) -> None:
    """A warning is for a known adult: refuse it while no name is known for the person (whom would
    it be delivered to?), while the age at any covered incident is unknown, and when a register
    check shows a minor. A minor by a stated age alone was the deciding analyst's call."""
    unnamed = sorted(r for r, f in facts.items() if not f.get("named", True))  # snapshots before the fact
    if unnamed:
        raise Unnamed(warning_id, unnamed)
    unknown = sorted(r for r, f in facts.items() if f["minor"] is None)
    if unknown:
        raise AgeUnknown(warning_id, unknown)
    minors = sorted((r, f["age"]) for r, f in facts.items() if f["minor"] and f["age_source"] == "register")
    if minors:
        raise YouthTrack(warning_id, minors)


def deliver(session: Session, warning_id: int, *, actor: Actor, on: date, officer: str, unit: str | None = None,
            referral_offered: bool, referral_accepted: bool | None = None) -> PoliceWarning:
    warning = _get(session, warning_id)
    require(actor, "deliver", unit=unit or warning.unit)
    _require(warning, "approved", "deliver")
    if referral_accepted and not referral_offered:
        raise refusal(RegistryError, "a referral can only be accepted when it was offered")
    years = get_settings().warning_active_years
    warning.state, warning.delivered_on, warning.delivered_by = "delivered", on, officer
    warning.unit = unit or warning.unit
    warning.referral_offered, warning.referral_accepted = referral_offered, referral_accepted
    warning.expires_on = add_years(on, years)
    _event(session, warning, actor, "warning.deliver", {
        "delivered_on": on.isoformat(), "officer": officer, "unit": warning.unit, "referral_offered": referral_offered,
        "referral_accepted": referral_accepted, "expires_on": warning.expires_on.isoformat()})
    return warning


def revoke(session: Session, warning_id: int, *, actor: Actor, reason: str) -> PoliceWarning:
    warning = _get(session, warning_id)
    require(actor, "revoke", unit=warning.unit)
    if warning.state == "revoked":
        raise refusal(RegistryError, "warning {id} is already revoked", id=warning_id)
    if not reason.strip():
        raise refusal(RegistryError, "revoking a warning needs a reason")
    warning.state, warning.revoked_at, warning.revoked_by, warning.revoke_reason = "revoked", utcnow(), actor, reason
    _event(session, warning, actor, "warning.revoke", {"reason": reason})
    return warning


def _get(session: Session, warning_id: int) -> PoliceWarning:
    # Locked and read anew: of two approvals (or deliveries) at once, the second sees the first.
    warning = session.get(PoliceWarning, warning_id, with_for_update=True, populate_existing=True)
    if warning is None:
        raise refusal(LookupError, "no warning with id {id}", id=warning_id)
    return warning


def _require(warning: PoliceWarning, state: str, action: str) -> None:
    if warning.state != state:
        raise refusal(RegistryError, "warning {id} is {state}: only a {required} warning can {action}", id=warning.id,
                      state=Words(warning.state), required=Words(state),
                      action=Words(action, context=ACTION))


def _event(session: Session, warning: PoliceWarning, actor: str, action: str, details: dict) -> None:
    session.flush()
    session.add(WarningEvent(warning_id=warning.id, state=warning.state, at=utcnow(), actor=actor, details=details))
    audit.record(session, actor=actor, action=action, entity="warning", entity_ids=[warning.id],
                 reason=details.get("justification") or details.get("reason") or details.get("acknowledgement")
                 or details.get("note"), details=details)


def warning_reports(session: Session, warning_ids: list[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = defaultdict(list)
    rows = session.execute(select(WarningReport.warning_id, WarningReport.report_id, WarningReport.person_id,
                                  Report.source, Report.external_id)
                           .join(Report, Report.id == WarningReport.report_id)
                           .where(WarningReport.warning_id.in_(warning_ids)).order_by(WarningReport.id))
    for wid, rid, pid, source, external_id in rows:
        out[wid].append({"report_id": rid, "person_id": pid, "source": source, "external_id": external_id})
    return out


def warning_doc(session: Session, warning: PoliceWarning, *, history: bool = False) -> dict:
    today = utcnow().date()
    doc = {"id": warning.id, "state": shown_state(warning, today), "subject_id": warning.subject_id,
           "unit": warning.unit, "proposed_by": warning.proposed_by, "proposed_at": warning.proposed_at,
           "justification": warning.justification, "approved_by": warning.approved_by,
           "approved_at": warning.approved_at, "delivered_on": warning.delivered_on,
           "delivered_by": warning.delivered_by, "referral_offered": warning.referral_offered,
           "referral_accepted": warning.referral_accepted, "expires_on": warning.expires_on,
           "revoked_at": warning.revoked_at, "revoked_by": warning.revoked_by, "revoke_reason": warning.revoke_reason,
           "reports": warning_reports(session, [warning.id]).get(warning.id, [])}
    if history:
        events = session.execute(select(WarningEvent).where(WarningEvent.warning_id == warning.id)
                                 .order_by(WarningEvent.id)).scalars()
        doc["history"] = [{"state": e.state, "at": e.at, "actor": e.actor, "details": e.details} for e in events]
    return doc


def list_warnings(session: Session, *, state: str | None = None, unit: str | None = None,
                  units: Collection[str] | None = None, limit: int = 200) -> list[PoliceWarning]:
    query = select(PoliceWarning).order_by(PoliceWarning.id.desc()).limit(limit)
    today = utcnow().date()
    if state in ("delivered", "expired"):
        query = query.where(PoliceWarning.state == "delivered")
    elif state:
        query = query.where(PoliceWarning.state == state)
    if unit:
        query = query.where(PoliceWarning.unit == unit)
    if units is not None:
        query = query.where(PoliceWarning.unit.in_(sorted(units)))
    rows = list(session.execute(query).scalars())
    return [w for w in rows if state is None or shown_state(w, today) == state]


def warning_inputs(session: Session, person_ids: list[int]) -> dict[int, list[tuple[int, WarningInput]]]:
    """Per reported person, the warnings given for them (with the report each was given for)."""
    out: dict[int, list[tuple[int, WarningInput]]] = defaultdict(list)
    for part in chunks(person_ids):
        rows = session.execute(select(WarningReport.person_id, WarningReport.report_id, PoliceWarning)
                               .join(PoliceWarning, PoliceWarning.id == WarningReport.warning_id)
                               .where(WarningReport.person_id.in_(part)))
        for person_id, report_id, w in rows:
            out[person_id].append((report_id, WarningInput(w.id, w.state, w.delivered_on, w.expires_on, w.unit, False)))
    return out


def warnings_of_persons(session: Session, person_ids: list[int]) -> list[PoliceWarning]:
    ids = {w.warning_id for ws in warning_inputs(session, person_ids).values() for _, w in ws}
    if not ids:
        return []
    return list(session.execute(select(PoliceWarning).where(PoliceWarning.id.in_(sorted(ids)))
                                .order_by(PoliceWarning.id)).scalars())


# --- investigations -------------------------------------------------------------------------------

def open_investigation(session: Session, report_id: int, *, unit: str, actor: str, subject_id: int | None = None,
                       decision_id: int | None = None) -> Investigation:
    item = Investigation(report_id=report_id, subject_id=subject_id, unit=unit, decision_id=decision_id,
                         opened_at=utcnow(), opened_by=actor)
    session.add(item)
    session.flush()
    audit.record(session, actor=actor, action="investigation.open", entity="investigation", entity_ids=[item.id],
                 details={"report_id": report_id, "unit": unit, "decision_id": decision_id})
    return item


def open_investigations_of(session: Session, report_id: int) -> list[int]:
    """The investigations a decision on this report opened and nobody closed."""
    return list(session.execute(select(Investigation.id).where(
        Investigation.report_id == report_id, Investigation.closed_at.is_(None)).order_by(Investigation.id)).scalars())


def close_investigation(session: Session, investigation_id: int, *, actor: str, reason: str) -> Investigation:
    require(actor, "close")
    item = session.get(Investigation, investigation_id, with_for_update=True)
    if item is None:
        raise refusal(LookupError, "no investigation with id {id}", id=investigation_id)
    if item.closed_at is not None:
        raise refusal(RegistryError, "investigation {id} is already closed", id=investigation_id)
    if not reason.strip():
        raise refusal(RegistryError, "closing an investigation needs a reason")
    item.closed_at, item.closed_by, item.close_reason = utcnow(), actor, reason
    audit.record(session, actor=actor, action="investigation.close", entity="investigation",
                 entity_ids=[item.id], reason=reason, details={"report_id": item.report_id})
    return item


def investigation_inputs(session: Session, report_ids: list[int]) -> dict[int, list[tuple[int, InvestigationInput]]]:
    out: dict[int, list[tuple[int, InvestigationInput]]] = defaultdict(list)
    for part in chunks(report_ids):
        for item in session.execute(select(Investigation).where(Investigation.report_id.in_(part))).scalars():
            out[item.report_id].append((item.report_id, InvestigationInput(item.id, item.unit, item.closed_at is None,
                                                                           False)))
    return out


def list_investigations(session: Session, *, open_only: bool = True, unit: str | None = None,
                        units: Collection[str] | None = None) -> list[Investigation]:
    query = select(Investigation).order_by(Investigation.id)
    if open_only:
        query = query.where(Investigation.closed_at.is_(None))
    if unit:
        query = query.where(Investigation.unit == unit)
    if units is not None:
        query = query.where(Investigation.unit.in_(sorted(units)))
    return list(session.execute(query).scalars())


# --- alerts and escalation ----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Escalation:
    """Why a report must be brought to a unit's attention (from its facts and subject history)."""

    kind: str
    report_id: int
    recommendation_id: int
    unit: str
    other_unit: str | None
    warning_id: int | None = None
    investigation_id: int | None = None
    details: dict | None = None

    @property
    def key(self) -> str:
        cause = f"w{self.warning_id}" if self.warning_id else f"i{self.investigation_id}"
        return f"{self.kind}:{self.report_id}:{self.unit}:{cause}"


def escalations(report_id: int, recommendation_id: int, unit: str, outcome: str, warnings, investigations,
                day: date, candidates=()) -> list[Escalation]:
    """Alerts this report calls for: each warning delivered before its incident, each running
    investigation of the subject by a unit (the responsible unit and the other unit are told), and
    each warned subject linkage could not tell apart from this one (`candidates`)."""
    found = []
    for w in warnings:
        if w.state == "delivered" and w.delivered_on and w.delivered_on < day and not w.covers_report:
            details = {"warning_date": w.delivered_on.isoformat(), "warning_unit": w.unit,
                       "outcome": outcome, "aggravation": True}
            for target in dict.fromkeys((unit, w.unit or unit)):
                found.append(Escalation("rereport_after_warning", report_id, recommendation_id, target,
                                        w.unit if target == unit else unit, warning_id=w.warning_id, details=details))
    for subject, w in candidates:
        if w.state == "delivered" and w.delivered_on and w.delivered_on < day:
            details = {"warning_date": w.delivered_on.isoformat(), "warning_unit": w.unit, "outcome": outcome,
                       "possible_subject": subject}
            found.append(Escalation("possible_rereport", report_id, recommendation_id, unit, w.unit,
                                    warning_id=w.warning_id, details=details))
    for i in investigations:
        if i.open and not i.covers_report:
            details = {"investigating_unit": i.unit, "outcome": outcome}
            for target in dict.fromkeys((unit, i.unit)):
                found.append(Escalation("deconfliction", report_id, recommendation_id, target,
                                        i.unit if target == unit else unit, investigation_id=i.investigation_id,
                                        details=details))
    return found


def raise_alerts(session: Session, found: list[Escalation], *, actor: str) -> list[Alert]:
    """Store the alerts not raised before (one per kind, report, unit and cause); audited."""
    if not found:
        return []
    keys = [e.key for e in found]
    existing = set(session.execute(select(Alert.key).where(Alert.key.in_(keys))).scalars())
    now = utcnow()
    new = [Alert(key=e.key, kind=e.kind, report_id=e.report_id, recommendation_id=e.recommendation_id, unit=e.unit,
                 other_unit=e.other_unit, warning_id=e.warning_id, investigation_id=e.investigation_id,
                 details=e.details or {}, raised_at=now)
           for e in {e.key: e for e in found}.values() if e.key not in existing]
    if new:
        session.add_all(new)
        session.flush()
        audit.record(session, actor=actor, action="alert.raise", entity="alert", entity_ids=[a.id for a in new],
                     details={"reports": sorted({a.report_id for a in new}), "kinds": sorted({a.kind for a in new})})
    return new


def list_alerts(session: Session, *, unit: str | None = None, units: Collection[str] | None = None,
                open_only: bool = True, limit: int = 500) -> list[Alert]:
    query = select(Alert).order_by(Alert.id.desc()).limit(limit)
    if unit:
        query = query.where(Alert.unit == unit)
    if units is not None:
        query = query.where(Alert.unit.in_(sorted(units)))
    if open_only:
        query = query.where(Alert.acknowledged_at.is_(None))
    return list(session.execute(query).scalars())


def count_open_alerts(session: Session, *, units: Collection[str] | None = None) -> int:
    query = select(func.count()).select_from(Alert).where(Alert.acknowledged_at.is_(None))
    if units is not None:
        query = query.where(Alert.unit.in_(sorted(units)))
    return session.execute(query).scalar_one()


def open_alert_kinds(session: Session, report_ids: Collection[int]) -> dict[int, list[str]]:
    """The kinds of the open alerts each report raised (for the queue's highlighting)."""
    out: dict[int, list[str]] = {}
    for part in chunks(sorted(set(report_ids))):
        for rid, kind in session.execute(select(Alert.report_id, Alert.kind).where(
                Alert.report_id.in_(part), Alert.acknowledged_at.is_(None)).order_by(Alert.id)):
            out.setdefault(rid, []).append(kind)
    return out


def acknowledge(session: Session, alert_id: int, *, actor: str) -> Alert:
    require(actor, "acknowledge")
    alert = session.get(Alert, alert_id, with_for_update=True)
    if alert is None:
        raise refusal(LookupError, "no alert with id {id}", id=alert_id)
    may_see(actor, alert.unit)
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = utcnow(), actor
        audit.record(session, actor=actor, action="alert.acknowledge", entity="alert", entity_ids=[alert.id])
    return alert


def alert_doc(alert: Alert, report: Report | None = None) -> dict:
    doc = {"id": alert.id, "kind": alert.kind, "report_id": alert.report_id, "unit": alert.unit,
           "other_unit": alert.other_unit, "warning_id": alert.warning_id, "investigation_id": alert.investigation_id,
           "recommendation_id": alert.recommendation_id, "details": alert.details, "raised_at": alert.raised_at,
           "acknowledged_at": alert.acknowledged_at, "acknowledged_by": alert.acknowledged_by}
    if report is not None:
        doc |= {"source": report.source, "external_id": report.external_id}
    return doc
