"""Triage services: recommend, explain, queue, decide, record risk items and verified dates of birth.

Entry points for other domains:
- `triage_reports(session, report_ids, *, actor, trigger="ingest")` after matching and linkage;
- `triage_pending(session, *, actor)`: reports never triaged, and those media (bank changes) or
  subjects (merge, split) queued for re-triage;
- `report_triage(session, report_id)`: the latest recommendation and its history, for report views.

A recommendation is stored only when something changed since the report's last one (facts,
policy, unit): triaging again is cheap and never buries the history under copies.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import case, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from tiptriage.accounts.actor import Actor, OutOfView, may_see, require, units_in_view
from tiptriage.audit import service as audit
from tiptriage.config import get_settings
from tiptriage.db import allocate_ids, chunks, utcnow
from tiptriage.i18n import Words, refusal
from tiptriage.i18n import lang as reading_language
from tiptriage.intake.models import FileRow, IpEventRow, Report, ReportedPersonRow
from tiptriage.media import service as media
from tiptriage.operations import assignments
from tiptriage.operations.units import Units, load_units
from tiptriage.registry import service as registry
from tiptriage.subjects import identity
from tiptriage.subjects.models import Identification, SubjectMember, has_address
from tiptriage.subjects.membership import SUBJECT_ROLE
from tiptriage.triage import inputs
from tiptriage.triage.facts import AGE_BANDS, RISK_ITEMS, FactSettings, age_band, derive_facts
from tiptriage.triage.models import (
    BIRTH_DATE_REGISTERS,
    DISTRIBUTION_SOURCES,
    Decision,
    DistributionFinding,
    Recommendation,
    RiskItem,
    TriagePolicy,
    TriageState,
    VerifiedBirthDate,
)
from tiptriage.triage.distribution import judge, load_services
from tiptriage.triage.places import load_ip_countries
from tiptriage.triage.policy import HARD_RULES, OUTCOMES, Policy, evaluate, parse_policy, policy_bytes
from tiptriage.triage.subjectlinks import SubjectLinks, default_links

BATCH = 1000
ESTIMATED_PLACES = ("estimatedLocation/city", "estimatedLocation/region")  # as intake keeps them, in details
OPEN_STATUSES = ("open", "reopened", "awaiting_approval")
CASE_OUTCOMES = ("URGENT", "CRIMINAL_CASE")


class DecisionError(ValueError):
    """A decision that is not allowed: no justification, a forbidden warning, the wrong state."""


@dataclass
class Triager:
    """Everything one triage run uses, read once: the policy, units, places, links and the day."""

    policy: Policy
    document: str
    units: Units
    places: inputs.Places
    links: SubjectLinks
    settings: FactSettings


def make_triager(links: SubjectLinks | None = None) -> Triager:
    settings = get_settings()
    data = policy_bytes(settings.policy_file)
    return Triager(parse_policy(data), data.decode("utf-8"), load_units(),
                   inputs.Places(load_ip_countries(settings.ip_countries_file), settings.jurisdiction,
                                 load_services(settings.services_file)),
                   links or default_links(), FactSettings(settings.jurisdiction, settings.youth_age))


@dataclass
class TriageSummary:
    trigger: str
    policy: str = ""
    triaged: int = 0
    recommended: int = 0  # new recommendations stored
    unchanged: int = 0
    by_outcome: Counter = field(default_factory=Counter)
    alerts: int = 0
    report_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"trigger": self.trigger, "policy": self.policy, "triaged": self.triaged,
                "recommended": self.recommended, "unchanged": self.unchanged,
                "by_outcome": dict(sorted(self.by_outcome.items())), "alerts": self.alerts,
                "report_ids": self.report_ids}


# --- recommending ----------------------------------------------------------------------------------

def triage_reports(session: Session, report_ids: list[int], *, actor: str, trigger: str = "ingest",
                   reason: str | None = None, links: SubjectLinks | None = None,
                   triager: Triager | None = None, checkpoint: Callable[[], None] | None = None) -> TriageSummary:
    """Derive facts, evaluate the policy and store what changed, in batches of BATCH reports; a job
    that commits batch by batch (the data path, `triage --all`) passes `checkpoint`, called after
    each batch (e.g. `session.commit`), otherwise it all belongs to the caller's transaction.

    Also takes the reports off media's and subjects' re-triage queues and raises alerts for
    re-reports after a warning and for subjects another unit already investigates.
    """
    triager = triager or make_triager(links)
    _remember_policy(session, triager)
    summary = TriageSummary(trigger, triager.policy.ref)
    for part in chunks(sorted(set(report_ids)), BATCH):
        _triage_batch(session, triager, part, actor, trigger, reason, summary)
        if checkpoint:
            checkpoint()
    return summary


def triage_pending(session: Session, *, actor: str, links: SubjectLinks | None = None,
                   checkpoint: Callable[[], None] | None = None) -> TriageSummary:
    """Reports never triaged, and reports queued again by media or subjects."""
    never = select(Report.id).where(~select(TriageState.report_id).where(TriageState.report_id == Report.id).exists())
    ids = set(session.execute(never).scalars()) | set(media.pending_retriage(session))
    links = links or default_links()
    ids |= set(links.pending_retriage(session))
    return triage_reports(session, sorted(ids), actor=actor, trigger="manual", links=links,
                          reason="pending: new reports, bank and subject changes", checkpoint=checkpoint)


def triage_all(session: Session, *, actor: str, reason: str | None = None, links: SubjectLinks | None = None,
               checkpoint: Callable[[], None] | None = None) -> TriageSummary:
    """Every stored report (after a policy change, or to bring everything up to date)."""
    ids = list(session.execute(select(Report.id).order_by(Report.id)).scalars())
    return triage_reports(session, ids, actor=actor, trigger="all", reason=reason, links=links,
                          checkpoint=checkpoint)


def _remember_policy(session: Session, triager: Triager) -> None:
    if session.get(TriagePolicy, triager.policy.sha256) is None:
        session.add(TriagePolicy(sha256=triager.policy.sha256, policy_id=triager.policy.id,
                                 version=triager.policy.version, document=triager.document, first_used_at=utcnow()))
        session.flush()


def _triage_batch(session: Session, triager: Triager, part: list[int], actor: str, trigger: str,
                  reason: str | None, summary: TriageSummary) -> None:
    loaded = inputs.load(session, part, triager.links, triager.places)
    previous = _previous(session, list(loaded))
    newest = _newest_versions(session, loaded)
    fresh, found = [], []
    placing = _placing(session, triager.units, loaded)
    for rid, item in loaded.items():
        facts = derive_facts(item.report, item.history, triager.settings).as_dict()
        result = evaluate(triager.policy, facts)
        unit = unit_for(triager.units, item, placing.get(rid))
        summary.by_outcome[result.outcome] += 1
        prev = previous.get(rid)
        if prev and (prev[1].policy_sha256, prev[1].facts, prev[1].unit) == (triager.policy.sha256, facts, unit):
            rec_id = prev[1].id
        else:
            rec_id = None
            fresh.append((rid, item, facts, result, unit, prev))
        found.append((rid, item, rec_id, unit, result.outcome))
    ids = _store(session, triager, fresh, newest, actor, trigger, reason)
    alerts = [e for rid, item, rec_id, unit, outcome in found
              for e in registry.escalations(rid, rec_id or ids[rid], unit, outcome, item.history.warnings,
                                            item.history.investigations, item.report.day,
                                            item.history.candidate_warnings)]
    summary.alerts += len(registry.raise_alerts(session, alerts, actor=actor))
    summary.triaged += len(loaded)
    summary.recommended += len(fresh)
    summary.unchanged += len(loaded) - len(fresh)
    summary.report_ids.extend(rid for rid, *_ in fresh)
    _leave_queues(session, triager.links, part)
    if fresh:
        audit.record(session, actor=actor, action="triage.recommend", entity="report",
                     entity_ids=[rid for rid, *_ in fresh], reason=reason,
                     details={"policy": triager.policy.ref, "trigger": trigger,
                              "by_outcome": dict(Counter(r.outcome for _, _, _, r, _, _ in fresh))})


def _leave_queues(session: Session, links: SubjectLinks, report_ids: list[int]) -> None:
    media.mark_retriaged(session, report_ids)
    links.mark_retriaged(session, report_ids)


@dataclass(frozen=True, slots=True)
class Placing:
    """What places a report's person when no Dutch address does: the places the platform's estimated
    location names, the IP addresses used, and the unit a person gave the subject."""

    places: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    assigned: str | None = None


def unit_for(units: Units, item: inputs.Loaded, placing: Placing | None = None) -> str:
    """The unit responsible: this report's own Dutch postcode, else the subject's latest known one,
    else the place of the platform's estimated location or an IP address (where the units' tables
    know them), else the unit a person assigned the subject; else the default unit, where the work
    waits on the list of the unassigned (`operations.geography`)."""
    placing = placing or Placing()
    postcodes = [*item.postcodes, *(pc for _, pc in sorted(item.subject_postcodes, reverse=True))]
    candidates = ([units.unit_for_postcode(pc) for pc in postcodes] + [units.unit_for_place(p) for p in placing.places]
                  + [units.unit_for_ip(ip) for ip in placing.ips] + [placing.assigned])
    return next((unit for unit in candidates if unit), units.default_unit)


def _placing(session: Session, units: Units, loaded: dict[int, inputs.Loaded]) -> dict[int, Placing]:
    """Per report without a Dutch postcode of its own or its subject's, what else may place it."""
    open_ = {rid: item for rid, item in loaded.items()
             if not any(units.unit_for_postcode(pc) for pc in (*item.postcodes, *(p for _, p in item.subject_postcodes)))}
    if not open_:
        return {}
    places, ips = defaultdict(list), defaultdict(list)
    for part in chunks(sorted(open_)):
        rows = session.execute(select(ReportedPersonRow.report_id, ReportedPersonRow.details)
                               .where(ReportedPersonRow.report_id.in_(part), ReportedPersonRow.role == "reported"))
        for rid, details in rows:
            places[rid] += [text for name, text in details or () if name in ESTIMATED_PLACES]
        if units.networks:
            for rid, ip in session.execute(select(ReportedPersonRow.report_id, IpEventRow.ip)
                                           .join(IpEventRow, IpEventRow.person_id == ReportedPersonRow.id)
                                           .where(ReportedPersonRow.report_id.in_(part),
                                                  ReportedPersonRow.role == "reported",
                                                  IpEventRow.possible_proxy.is_not(True))
                                           .order_by(IpEventRow.id)):
                ips[rid].append(ip)
    given = assignments.assigned(session, [s for item in open_.values() for s in item.history.subject_ids])
    return {rid: Placing(tuple(places[rid]), tuple(ips[rid]),
                         next((given[s] for s in item.history.subject_ids if s in given), None))
            for rid, item in open_.items()}


def _previous(session: Session, report_ids: list[int]) -> dict[int, tuple[TriageState, Recommendation]]:
    out = {}
    for part in chunks(report_ids):
        rows = session.execute(select(TriageState, Recommendation)
                               .join(Recommendation, Recommendation.id == TriageState.recommendation_id)
                               .where(TriageState.report_id.in_(part)))
        out.update({state.report_id: (state, rec) for state, rec in rows})
    return out


def _newest_versions(session: Session, loaded: dict[int, inputs.Loaded]) -> dict[tuple[str, str], tuple[int, list]]:
    """Per report key, the newest version number and the ids of all stored versions."""
    externals = sorted({item.key[1] for item in loaded.values()})
    keys = {item.key for item in loaded.values()}
    out: dict[tuple[str, str], tuple[int, list]] = {}
    for part in chunks(externals):
        rows = session.execute(select(Report.id, Report.source, Report.external_id, Report.version)
                               .where(Report.external_id.in_(part)))
        for rid, source, external_id, version in rows:
            if (source, external_id) in keys:
                newest, ids = out.get((source, external_id), (0, []))
                out[(source, external_id)] = (max(newest, version), ids + [(rid, version)])
    return out


def _store(session: Session, triager: Triager, fresh: list, newest: dict, actor: str, trigger: str,
           reason: str | None) -> dict[int, int]:
    if not fresh:
        return {}
    now = utcnow()
    ids = allocate_ids(session.connection(), Recommendation.__table__, len(fresh))
    policy = triager.policy
    rows, inserts, updates = [], [], []
    for rec_id, (rid, item, facts, result, unit, prev) in zip(ids, fresh, strict=True):
        rows.append({"id": rec_id, "report_id": rid, "seq": prev[1].seq + 1 if prev else 1, "policy_id": policy.id,
                     "policy_version": policy.version, "policy_sha256": policy.sha256, "outcome": result.outcome,
                     "priority": result.priority, "decided_by": result.decided_by, "fired": list(result.fired),
                     "also_matched": list(result.also_matched), "flags": list(result.flags), "facts": facts,
                     "subject_ids": facts["subject_ids"], "unit": unit, "trigger": trigger, "reason": reason,
                     "created_at": now, "created_by": actor})
        superseded = newest.get(item.key, (item.version,))[0] > item.version
        state = {"report_id": rid, "recommendation_id": rec_id, "outcome": result.outcome,
                 "priority": result.priority, "unit": unit, "received_at": item.received_at, "updated_at": now,
                 "source": item.key[0], "age_band": age_band(facts["age"]),
                 "status": _status(prev[0] if prev else None, result.outcome, superseded, facts["warned_for_report"])}
        (updates if prev else inserts).append(state)
    session.execute(insert(Recommendation.__table__), rows)
    if inserts:
        session.execute(insert(TriageState.__table__), [s | {"decision_id": None} for s in inserts])
    if updates:
        session.execute(update(TriageState), updates)
    _supersede_older(session, fresh, newest)
    return {row["report_id"]: row["id"] for row in rows}


def _status(prev: TriageState | None, outcome: str, superseded: bool, warned: bool) -> str:
    """Where the report stands after a new recommendation: a changed outcome reopens a decision,
    but a report answered with an approved or delivered warning stays answered: what happens
    later to the person (a re-report, an investigation opened and closed) is judged on the later
    reports, and no second warning is proposed for the same report."""
    if superseded:
        return "superseded"
    if warned:
        return "decided"
    if prev is None or prev.status == "superseded":
        return "open"
    if prev.status in ("decided", "awaiting_approval") and prev.outcome != outcome:
        return "reopened"
    return prev.status


def _supersede_older(session: Session, fresh: list, newest: dict) -> None:
    """A newer version of a report replaces the older ones in the queue."""
    older = [rid for _, item, *_ in fresh for rid, version in newest.get(item.key, (0, []))[1]
             if version < item.version]
    for part in chunks(sorted(set(older))):
        session.execute(update(TriageState).where(TriageState.report_id.in_(part))
                        .values(status="superseded", updated_at=utcnow()))


# --- related reports -------------------------------------------------------------------------------

def related_reports(session: Session, report_ids: list[int], links: SubjectLinks) -> list[int]:
    """All reports of the subjects behind these reports' reported persons (themselves included)."""
    persons = list(session.execute(select(ReportedPersonRow.id).where(
        ReportedPersonRow.report_id.in_(report_ids), ReportedPersonRow.role == "reported")).scalars())
    subjects = sorted(set(links.subjects_of(session, persons).values()))
    members = sorted({m for ms in links.members_of(session, subjects).values() for m in ms})
    found = set(report_ids)
    for part in chunks(members):
        found.update(session.execute(select(ReportedPersonRow.report_id).where(ReportedPersonRow.id.in_(part))).scalars())
    return sorted(found)


def retriage_related(session: Session, report_ids: list[int], *, actor: str, trigger: str, reason: str | None = None,
                     links: SubjectLinks | None = None) -> TriageSummary:
    """Something about a subject changed (a warning, a case, a risk item): triage all its reports."""
    links = links or default_links()
    return triage_reports(session, related_reports(session, report_ids, links), actor=actor, trigger=trigger,
                          reason=reason, links=links)


# --- decisions ---------------------------------------------------------------------------------------

def current(session: Session, report_id: int) -> tuple[TriageState, Recommendation]:
    # Locked and read anew: of two decisions at once, the second sees the first and is refused.
    state = session.get(TriageState, report_id, with_for_update=True, populate_existing=True)
    if state is None:
        raise refusal(LookupError, "report {id} has not been triaged", id=report_id)
    return state, session.get(Recommendation, state.recommendation_id)


def decide(session: Session, report_id: int, *, actor: Actor, justification: str, outcome: str | None = None,
           unit: str | None = None, links: SubjectLinks | None = None) -> Decision:
    """Confirm (no outcome, or the recommended one) or override a recommendation.

    A WARNING becomes a proposed warning awaiting a second person's approval; a search or an
    urgent case opens an investigation, which the subject's other reports then show.
    """
    require(actor, "decide")
    state, rec = current(session, report_id)
    may_see(actor, state.unit)  # a unit-bound analyst decides their own units' reports only
    final = outcome or rec.outcome
    _check_decision(state, rec, final, justification)
    running = registry.open_investigations_of(session, report_id) if final == "WARNING" else []
    if running:
        raise refusal(DecisionError, "report {id} has an open investigation ({investigations}): close it before a "
                                     "warning", id=report_id, investigations=", ".join(map(str, running)))
    decision = Decision(report_id=report_id, recommendation_id=rec.id, kind="confirm" if final == rec.outcome
                        else "override", outcome=final, justification=justification, unit=unit or rec.unit,
                        actor=actor, at=utcnow())
    session.add(decision)
    session.flush()
    audit.record(session, actor=actor, action="triage.decide", entity="report", entity_ids=[report_id],
                 reason=justification, details={"decision_id": decision.id, "kind": decision.kind, "outcome": final,
                                                "recommended": rec.outcome, "recommendation_id": rec.id})
    state.decision_id, state.updated_at = decision.id, utcnow()
    state.status = "awaiting_approval" if final == "WARNING" else "decided"
    subject = rec.subject_ids[0] if rec.subject_ids else None
    if final == "WARNING":
        registry.propose(session, [report_id], actor=actor, unit=decision.unit, justification=justification,
                         subject_id=subject, decision_id=decision.id)
    elif final in CASE_OUTCOMES:
        registry.open_investigation(session, report_id, unit=decision.unit, actor=actor, subject_id=subject,
                                    decision_id=decision.id)
    if final in CASE_OUTCOMES:
        retriage_related(session, [report_id], actor=actor, trigger="decision", links=links,
                         reason=f"decision {decision.id}: {final}")
    return decision


def _check_decision(state: TriageState, rec: Recommendation, final: str, justification: str) -> None:
    if final not in OUTCOMES:
        raise refusal(DecisionError, "outcome must be one of {outcomes}", outcomes=", ".join(OUTCOMES))
    if not justification.strip():
        raise refusal(DecisionError, "a decision needs a justification")
    if state.status in ("awaiting_approval", "superseded"):
        raise refusal(DecisionError, "report {id} is {status}: no decision now", id=state.report_id,
                      status=Words(state.status))
    if final == "WARNING" and rec.facts.get("warned_for_report"):
        raise refusal(DecisionError, "report {id} was answered with an official warning already: no second "
                      "warning for the same report", id=state.report_id)
    broken = [f for f in HARD_RULES if rec.facts.get(f)]
    if final == "WARNING" and broken:
        raise refusal(DecisionError, "no WARNING for report {id}: {rules} (hard rules)", id=state.report_id,
                      rules=Words(*(HARD_RULES[f] for f in broken), sep="; "))


# --- risk items -----------------------------------------------------------------------------------------

def record_risk_item(session: Session, report_id: int, item: str, value: bool, *, actor: str, note: str,
                     links: SubjectLinks | None = None) -> RiskItem:
    """An analyst's structured risk item for the reported person of a report; the subject's
    reports are triaged again at once."""
    require(actor, "record")
    if item not in RISK_ITEMS:
        raise refusal(ValueError, "a risk item is one of {items}", items=", ".join(RISK_ITEMS))
    if not note.strip():
        raise refusal(ValueError, "say where the risk item comes from (a note)")
    person = reported_person(session, report_id)
    row = RiskItem(report_id=report_id, person_id=person, item=item, value=value, note=note, actor=actor, at=utcnow())
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="triage.risk_item", entity="report", entity_ids=[report_id],
                 reason=note, details={"item": item, "value": value, "risk_item_id": row.id, "person_id": person})
    retriage_related(session, [report_id], actor=actor, trigger="risk_item", links=links, reason=f"risk item {item}")
    return row


def report_in_view(session: Session, report_id: int, actor: str, refused: str = "report.view_refused") -> None:
    """Refuse a report of a unit the actor does not work for (OutOfView, a 404 on the web); the
    attempt is on record under `refused`, since guessing ids is how one looks where one may not."""
    state = session.get(TriageState, report_id)
    try:
        may_see(actor, state.unit if state else None)
    except OutOfView:
        audit.attempted(session, actor=actor, action=refused, entity="report", entity_ids=[report_id],
                        details={"unit": state.unit if state else None})
        raise


def record_birth_date(session: Session, report_id: int, born: date, *, source: str, actor: str, note: str,
                      links: SubjectLinks | None = None, retriage: bool = True) -> VerifiedBirthDate:
    """A date of birth an analyst verified in a register for the reported person of a report. It
    is added, never replaces an earlier check (the newest counts), and the subject's reports are
    triaged again at once unless `retriage` is off (a batch of checks triages once)."""
    require(actor, "record")
    report_in_view(session, report_id, actor, refused="report.record_refused")
    if source not in BIRTH_DATE_REGISTERS:
        raise refusal(ValueError, "a date of birth is verified in one of {registers}, not {source}",
                      registers=", ".join(BIRTH_DATE_REGISTERS), source=source)
    if not note.strip():
        raise refusal(ValueError, "say what was checked (a note)")
    if not date(1900, 1, 1) <= born <= utcnow().date():
        raise refusal(ValueError, "a date of birth between 1900-01-01 and today, not {date}", date=born.isoformat())
    person = reported_person(session, report_id)
    row = VerifiedBirthDate(report_id=report_id, person_id=person, date_of_birth=born, source=source, note=note,
                            actor=actor, at=utcnow())
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="triage.birth_date", entity="report", entity_ids=[report_id],
                 reason=note, details={"verified_birth_date_id": row.id, "person_id": person, "source": source,
                                       "date_of_birth": born.isoformat()})
    if retriage:
        retriage_related(session, [report_id], actor=actor, trigger="birth_date", links=links,
                         reason=f"date of birth verified in {source}")
    return row


def record_distribution(session: Session, report_id: int, *, distributed: bool, files: list[str] | None,
                        source: str, actor: str, note: str, links: SubjectLinks | None = None) -> list[DistributionFinding]:
    """What an analyst established about whether files of a report were distributed: the answer to
    the question an undetermined file raises (NCMEC says nothing per file). `files` are file refs;
    None means every file of the report. Added, never replacing an earlier finding (the newest
    counts); the subject's reports are triaged again, since distribution counts for the person."""
    require(actor, "record")
    report_in_view(session, report_id, actor, refused="report.record_refused")
    if source not in DISTRIBUTION_SOURCES:
        raise refusal(ValueError, "a finding comes from one of {sources}, not {source}",
                      sources=", ".join(DISTRIBUTION_SOURCES), source=source)
    if not note.strip():
        raise refusal(ValueError, "say how it was established (a note)")
    if session.get(Report, report_id) is None:
        raise refusal(LookupError, "no report with id {id}", id=report_id)
    stored = dict(session.execute(select(FileRow.ref, FileRow.id).where(FileRow.report_id == report_id)).all())
    wanted = list(stored) if files is None else files
    unknown = [ref for ref in wanted if ref not in stored]
    if unknown or not wanted:
        raise refusal(ValueError, "report {id} has no file {refs} (its files: {known})", id=report_id,
                      refs=", ".join(unknown) or "-", known=", ".join(stored) or "-")
    now = utcnow()
    rows = [DistributionFinding(report_id=report_id, file_id=stored[ref], distributed=distributed, source=source,
                                note=note, actor=actor, at=now) for ref in wanted]
    session.add_all(rows)
    session.flush()
    audit.record(session, actor=actor, action="triage.distribution", entity="report", entity_ids=[report_id],
                 reason=note, details={"files": wanted, "distributed": distributed, "source": source,
                                       "finding_ids": [r.id for r in rows]})
    retriage_related(session, [report_id], actor=actor, trigger="distribution", links=links,
                     reason=f"distribution established ({source})")
    return rows


def record_identification(session: Session, report_id: int, person: identity.Identity, *, source: str,
                          reference: str, note: str, actor: str, person_ref: str | None = None,
                          links: SubjectLinks | None = None) -> identity.Identified:
    """Who the unit established stands behind the report (the answer to NEEDS_IDENTIFICATION):
    recorded, linked again (`subjects.identity`), and the reports of every subject it
    touched are triaged at once, so a warned person's re-report is escalated now."""
    require(actor, "record")
    report_in_view(session, report_id, actor, refused="report.record_refused")
    result = identity.identify(session, report_id, person, source=source, reference=reference, note=note,
                               actor=actor, person_ref=person_ref)
    triage_reports(session, list(result.retriage), actor=actor, trigger="identified", links=links,
                   reason=f"identified ({source} {reference.strip()})")
    return result


def reported_person(session: Session, report_id: int) -> int:
    """The reported person of a report (the first, when a report names several)."""
    person = session.execute(select(ReportedPersonRow.id).where(
        ReportedPersonRow.report_id == report_id, ReportedPersonRow.role == "reported")
        .order_by(ReportedPersonRow.id).limit(1)).scalar_one_or_none()
    if person is None:
        if session.execute(select(Report.id).where(Report.id == report_id)).first() is None:
            raise refusal(LookupError, "no report with id {id}", id=report_id)
        raise refusal(LookupError, "report {id} has no reported person", id=report_id)
    return person


def facts_now(session: Session, report_ids: list[int], *, links: SubjectLinks | None = None) -> dict[int, dict]:
    """The facts of these reports as they stand now, not stored: for a check before a step that
    cannot be undone, which must not rest on a recommendation made before the latest links or checks."""
    triager = make_triager(links)
    loaded = inputs.load(session, report_ids, triager.links, triager.places)
    return {rid: derive_facts(item.report, item.history, triager.settings).as_dict() for rid, item in loaded.items()}


def distribution_now(session: Session, report_ids: list[int], *, links: SubjectLinks | None = None
                     ) -> dict[int, list[dict]]:
    """Each file's distribution verdict and what it rests on, as triage judges it now (files in the
    order the store keeps them): for an analyst who must see which file raises the question."""
    triager = make_triager(links)
    loaded = inputs.load(session, report_ids, triager.links, triager.places)
    file_ids = {rid: list(session.execute(select(FileRow.id).where(FileRow.report_id == rid)
                                          .order_by(FileRow.id)).scalars()) for rid in loaded}
    out = {}
    for rid, item in loaded.items():
        out[rid] = [{"file_id": fid, **asdict(judge(f.action, f.publicly_available, item.report.evidence, f.recipients,
                                                      f.finding))}
                    for fid, f in zip(file_ids[rid], item.report.files, strict=True)]
    return out


# --- reading: explanation, history, queue ---------------------------------------------------------------

def stored_policy(session: Session, sha256: str) -> Policy:
    """The policy a recommendation was made with. Parsed once per process: its SHA-256 names its
    content, and parsing proves the hard rules (milliseconds a page of the queue need not spend)."""
    if sha256 not in _PARSED:
        _PARSED[sha256] = parse_policy(session.get(TriagePolicy, sha256).document.encode("utf-8"))
    return _PARSED[sha256]


_PARSED: dict[str, Policy] = {}


def explain_recommendation(session: Session, rec: Recommendation, lang: str) -> dict:
    """A recommendation with each rule that fired in the words of the policy that made it."""
    policy = stored_policy(session, rec.policy_sha256)
    return {"id": rec.id, "seq": rec.seq, "outcome": rec.outcome, "priority": rec.priority,
            "decided_by": rec.decided_by, "flags": rec.flags, "unit": rec.unit,
            "policy": {"id": rec.policy_id, "version": rec.policy_version, "sha256": rec.policy_sha256},
            "rules": [policy.rule(r).explain(rec.facts, lang) for r in rec.fired],
            "also_matched": [policy.rule(r).explain(rec.facts, lang) for r in rec.also_matched],
            "facts": rec.facts, "subject_ids": rec.subject_ids, "trigger": rec.trigger, "reason": rec.reason,
            "created_at": rec.created_at, "created_by": rec.created_by}


def report_triage(session: Session, report_id: int, *, lang: str = "nl") -> dict | None:
    """The latest recommendation explained, its history and the decisions (for report views)."""
    state = session.get(TriageState, report_id)
    if state is None:
        return None
    recs = list(session.execute(select(Recommendation).where(Recommendation.report_id == report_id)
                                .order_by(Recommendation.seq)).scalars())
    decisions = session.execute(select(Decision).where(Decision.report_id == report_id).order_by(Decision.id)).scalars()
    latest = next(r for r in recs if r.id == state.recommendation_id)
    return {"report_id": report_id, "status": state.status, "unit": state.unit,
            "recommendation": explain_recommendation(session, latest, lang),
            "history": [{"seq": r.seq, "outcome": r.outcome, "priority": r.priority, "decided_by": r.decided_by,
                         "flags": r.flags, "policy": f"{r.policy_id}@{r.policy_version}", "trigger": r.trigger,
                         "reason": r.reason, "created_at": r.created_at} for r in recs],
            "decisions": [{"id": d.id, "kind": d.kind, "outcome": d.outcome, "justification": d.justification,
                           "unit": d.unit, "actor": d.actor, "at": d.at, "recommendation_id": d.recommendation_id}
                          for d in decisions],
            "analyst_records": analyst_records(session, report_id)}


def analyst_records(session: Session, report_id: int) -> list[dict]:
    """What analysts recorded for this report's persons, oldest first: risk items, dates of birth
    checked in a register and identifications (the facts use the newest of each)."""
    risks = session.execute(select(RiskItem).where(RiskItem.report_id == report_id)).scalars()
    births = session.execute(select(VerifiedBirthDate).where(VerifiedBirthDate.report_id == report_id)).scalars()
    records = [{"kind": "risk_item", "item": r.item, "value": r.value, "note": r.note, "actor": r.actor,
                "at": r.at, "person_id": r.person_id} for r in risks]
    records += [{"kind": "birth_date", "date_of_birth": b.date_of_birth.isoformat(), "source": b.source,
                 "note": b.note, "actor": b.actor, "at": b.at, "person_id": b.person_id} for b in births]
    found = session.execute(select(Identification).where(Identification.report_id == report_id)).scalars()
    records += [{"kind": "identification", "name": f"{i.given_name} {i.family_name}",
                 "date_of_birth": i.date_of_birth.isoformat() if i.date_of_birth else None,
                 "address": ", ".join(x for x in (i.street, i.postcode, i.city) if x) + (
                     f" ({i.country})" if has_address(i) else ""),
                 "source": i.source, "reference": i.reference, "note": i.note, "actor": i.actor, "at": i.at,
                 "person_id": i.person_id} for i in found]
    return sorted(records, key=lambda r: r["at"])


@dataclass(frozen=True, slots=True)
class Narrowing:
    """What a queue view narrows to besides unit, status and outcome: the report's source, the
    person's age band (triage.facts.AGE_BANDS) and the days it was received on (inclusive)."""

    source: str | None = None
    age_band: str | None = None
    since: date | None = None
    until: date | None = None

    def __post_init__(self):
        if self.age_band is not None and self.age_band not in AGE_BANDS:
            raise refusal(ValueError, "unknown age band {band!r}; choose one of {bands}", band=self.age_band,
                          bands=", ".join(AGE_BANDS))
        if self.since and self.until and self.since > self.until:
            raise refusal(ValueError, "the period starts ({since}) after it ends ({until})", since=self.since,
                          until=self.until)

    def apply(self, query):
        if self.source:
            query = query.where(TriageState.source == self.source)
        if self.age_band:
            query = query.where(TriageState.age_band == self.age_band)
        if self.since:
            query = query.where(TriageState.received_at >= _day_start(self.since))
        if self.until:
            query = query.where(TriageState.received_at < _day_start(self.until + timedelta(days=1)))
        return query

    def as_dict(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(self).items() if v}


EVERYTHING = Narrowing()


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=timezone.utc)


def queue(session: Session, *, unit: str | None = None, units: Collection[str] | None = None,
          statuses: tuple[str, ...] = OPEN_STATUSES, outcome: str | None = None, limit: int | None = 100,
          offset: int = 0, order: tuple[str, ...] | None = None, counts: dict[str, int] | None = None,
          narrow: Narrowing = EVERYTHING) -> list[dict]:
    """The work queue: by outcome class (the policy's order), then priority, then age; of one unit,
    or of `units` (what an actor may see: `accounts.actor.units_in_view`). `counts` are the
    reports per outcome under the same filters, when the caller has them already (`queue_counts`).

    Read one outcome class at a time, each in the order of the index on (outcome, priority,
    received_at): ordering all open reports by the policy's class took 300 ms a page at 100k
    reports; the counts per class say which classes a page's offset skips."""
    order = order or make_order()
    counts = _counts(session, unit, units, statuses, narrow) if counts is None else counts
    classes = [o for o in order if o in counts] + sorted(set(counts) - set(order))
    rows: list[dict] = []
    skip = offset
    for shown in classes if outcome is None else [outcome]:
        if skip >= counts.get(shown, 0):
            skip -= counts.get(shown, 0)
            continue
        rows += _queue_class(session, shown, unit, units, statuses, narrow, skip,
                             None if limit is None else limit - len(rows))
        skip = 0
        if limit is not None and len(rows) >= limit:
            break
    alerts = registry.open_alert_kinds(session, [r["report_id"] for r in rows])
    return [r | {"alerts": alerts.get(r["report_id"], [])} for r in rows]


def _counts(session: Session, unit: str | None, units: Collection[str] | None,
            statuses: tuple[str, ...], narrow: Narrowing = EVERYTHING) -> dict[str, int]:
    query = _where(select(TriageState.outcome, func.count()), unit, units, statuses, narrow)
    return dict(session.execute(query.group_by(TriageState.outcome)).all())


def _where(query, unit: str | None, units: Collection[str] | None, statuses: tuple[str, ...],
           narrow: Narrowing = EVERYTHING):
    query = query.where(TriageState.status.in_(statuses))
    if unit:
        query = query.where(TriageState.unit == unit)
    if units is not None:
        query = query.where(TriageState.unit.in_(sorted(units)))
    return narrow.apply(query)


def _queue_class(session: Session, outcome: str, unit: str | None, units: Collection[str] | None,
                 statuses: tuple[str, ...], narrow: Narrowing, offset: int, limit: int | None) -> list[dict]:
    query = _where(select(TriageState, Report.external_id, Recommendation)
                   .join(Report, Report.id == TriageState.report_id)
                   .join(Recommendation, Recommendation.id == TriageState.recommendation_id)
                   .where(TriageState.outcome == outcome), unit, units, statuses, narrow)
    query = query.order_by(TriageState.priority.desc(), TriageState.received_at, TriageState.report_id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [{"report_id": s.report_id, "source": s.source, "external_id": external_id, "outcome": s.outcome,
             "priority": s.priority, "unit": s.unit, "status": s.status, "received_at": s.received_at,
             "age_band": s.age_band, "decided_by": rec.decided_by, "why": _why(session, rec),
             "flags": rec.flags, "subject_ids": rec.subject_ids}
            for s, external_id, rec in session.execute(query)]


def _why(session: Session, rec: Recommendation) -> str:
    """The deciding rule's text in the reader's language, from the policy that made the recommendation."""
    rule = stored_policy(session, rec.policy_sha256).rule(rec.decided_by)
    return rule.explain(rec.facts, reading_language())["text"]


def view_queue(session: Session, *, actor: str, purpose: str | None = None, unit: str | None = None,
               statuses: tuple[str, ...] = OPEN_STATUSES, outcome: str | None = None, limit: int | None = 100,
               offset: int = 0, counts: dict[str, int] | None = None, narrow: Narrowing = EVERYTHING) -> list[dict]:
    """The queue as a person sees it (their units' work only); the reports shown are on record as
    consulted."""
    rows = queue(session, units=units_in_view(actor, unit), statuses=statuses, outcome=outcome, limit=limit,
                 offset=offset, counts=counts, narrow=narrow)
    audit.consulted_reports(session, actor=actor, action="triage.queue.view", report_ids=[r["report_id"] for r in rows],
                            reason=purpose, details={"unit": unit, "status": list(statuses), "outcome": outcome,
                                                     **narrow.as_dict()})
    return rows


def queue_counts(session: Session, *, actor: str, unit: str | None = None,
                 statuses: tuple[str, ...] = OPEN_STATUSES, narrow: Narrowing = EVERYTHING) -> dict[str, int]:
    """How many reports wait per outcome, in the actor's units: counts, no personal data."""
    return _counts(session, None, units_in_view(actor, unit), statuses, narrow)


def queue_sources(session: Session) -> list[str]:
    """The sources reports came from, for the queue's filter (names of organisations, no personal
    data). One index step per source, not a scan: DISTINCT read all 100k index entries (30 ms)."""
    first = select(func.min(TriageState.source).label("source")).cte("sources", recursive=True)
    following = select(select(func.min(TriageState.source)).where(TriageState.source > first.c.source)
                       .scalar_subquery()).where(first.c.source.is_not(None))
    walk = first.union_all(following)
    return list(session.execute(select(walk.c.source).where(walk.c.source.is_not(None))).scalars())


def view_report_triage(session: Session, report_id: int, *, actor: str, lang: str = "nl",
                       purpose: str | None = None) -> dict | None:
    """`report_triage` for a person (`explain`), on record as consulted; None when not triaged. A
    report of another unit than the actor's is refused."""
    doc = report_triage(session, report_id, lang=lang)
    if doc is not None:
        units_in_view(actor, doc["unit"])
        audit.consulted_reports(session, actor=actor, action="triage.view", report_ids=[report_id], reason=purpose)
    return doc


def make_order() -> tuple[str, ...]:
    return parse_policy(policy_bytes(get_settings().policy_file)).outcome_order


def settle_warning(session: Session, report_ids: list[int], *, approved: bool) -> None:
    """A proposed warning was approved (the decision stands) or revoked before delivery (reopen)."""
    status = "decided" if approved else "reopened"
    for part in chunks(sorted(set(report_ids))):
        session.execute(update(TriageState).where(TriageState.report_id.in_(part),
                                                  TriageState.status == "awaiting_approval")
                        .values(status=status, updated_at=utcnow()))


# --- who distributed: for the registry's looser search before a warning is approved ---------------

def distributing_persons():
    """(subject, reported person) for every current member of a subject with a report whose current
    recommendation found distribution or new material."""
    facts = Recommendation.facts
    spread = (select(ReportedPersonRow.id.label("person_id"))
              .join(TriageState, TriageState.report_id == ReportedPersonRow.report_id)
              .join(Recommendation, Recommendation.id == TriageState.recommendation_id)
              .where(ReportedPersonRow.role == SUBJECT_ROLE,
                     or_(facts["distributed"].as_boolean(), facts["new_material"].as_boolean()))).subquery()
    given, member = aliased(SubjectMember), aliased(SubjectMember)
    return (select(given.subject_id.label("target_id"), member.reported_person_id.label("person_id"))
            .join(spread, spread.c.person_id == given.reported_person_id)
            .join(member, (member.subject_id == given.subject_id) & member.until.is_(None))
            .where(given.until.is_(None)).distinct()).subquery()
