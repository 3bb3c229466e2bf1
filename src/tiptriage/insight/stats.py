"""The caseload in figures: reports per month by source, outcomes, the backlog and its age, the time
from report to decision, the youth share by age band, per unit.

A report counts in the period by when it reached the unit (the queue's `received_at`) and in the
unit triage gave it; its outcome and age are those of its newest recommendation (the age at the
incident as triage knows it: register, identification, or the report). Reading needs `view_stats`,
is on record, and every count leaves suppressed below the minimum cell size (insight/scope.py).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from statistics import median, quantiles

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tiptriage.db import utcnow
from tiptriage.i18n import N_
from tiptriage.insight.scope import cell, min_cell, on_record, shown, units_for
from tiptriage.intake.models import Report
from tiptriage.outcomes import OUTCOMES
from tiptriage.registry.models import PoliceWarning
from tiptriage.triage.facts import AGE_BANDS, age_band
from tiptriage.triage.models import Decision, Recommendation, TriageState

BACKLOG_STATUSES = ("open", "reopened", "awaiting_approval")
# (name, up to this many days waiting)
BACKLOG_AGES = ((N_("under a week"), 7), (N_("1-4 weeks"), 28), (N_("1-3 months"), 91), (N_("3-12 months"), 365),
                (N_("over a year"), None))


def statistics(session: Session, *, actor, unit: str | None = None, since: date | None = None,
               until: date | None = None, purpose: str | None = None, today: date | None = None,
               minimum: int | None = None) -> dict:
    """The figures as one document; counts that may identify a person are strings "<N"."""
    units = units_for(actor, unit)
    minimum = minimum or min_cell()
    today = today or utcnow().date()
    rows = _reports(session, units, since, until)
    decided = _first_decisions(session, [r["id"] for r in rows])
    on_record(session, actor=actor, action="stats.view", units=units, since=since, until=until, purpose=purpose)
    doc = {"period": {"since": since, "until": until}, "units": sorted(units) if units else None,
           "as_of": today, "min_cell": minimum, **_figures(rows, decided, today, minimum)}
    per_unit = defaultdict(list)
    for r in rows:
        per_unit[r["unit"]].append(r)
    warned = _warnings_delivered(session, units, since, until)
    doc["warnings_delivered"] = cell(sum(warned.values()), minimum)
    doc["per_unit"] = [{"unit": name, **_unit_line(part, decided, today, minimum),
                        "warnings_delivered": cell(warned.get(name, 0), minimum)}
                       for name, part in sorted(per_unit.items())]
    return doc


def _reports(session: Session, units, since: date | None, until: date | None) -> list[dict]:
    q = (select(TriageState.report_id, TriageState.unit, TriageState.outcome, TriageState.status,
                TriageState.received_at, Report.source, Recommendation.facts["age"].as_integer())
         .join(Report, Report.id == TriageState.report_id)
         .join(Recommendation, Recommendation.id == TriageState.recommendation_id)
         .where(TriageState.status != "superseded"))
    if units:
        q = q.where(TriageState.unit.in_(units))
    if since:
        q = q.where(TriageState.received_at >= datetime.combine(since, time(), UTC))
    if until:
        q = q.where(TriageState.received_at < datetime.combine(until + timedelta(days=1), time(), UTC))
    keys = ("id", "unit", "outcome", "status", "received_at", "source", "age")
    return [dict(zip(keys, row, strict=True)) for row in session.execute(q)]


def _first_decisions(session: Session, report_ids: list[int]) -> dict[int, datetime]:
    if not report_ids:
        return {}
    rows = session.execute(select(Decision.report_id, func.min(Decision.at)).group_by(Decision.report_id))
    wanted = set(report_ids)
    return {rid: at for rid, at in rows if rid in wanted}


def _warnings_delivered(session: Session, units, since: date | None, until: date | None) -> Counter:
    q = select(PoliceWarning.unit, func.count()).where(PoliceWarning.state == "delivered")
    if units:
        q = q.where(PoliceWarning.unit.in_(units))
    if since:
        q = q.where(PoliceWarning.delivered_on >= since)
    if until:
        q = q.where(PoliceWarning.delivered_on <= until)
    return Counter(dict(session.execute(q.group_by(PoliceWarning.unit)).all()))


def _figures(rows: list[dict], decided: dict[int, datetime], today: date, minimum: int) -> dict:
    months = Counter((r["received_at"].strftime("%Y-%m"), r["source"]) for r in rows)
    outcomes = Counter(r["outcome"] for r in rows)
    decided_outcomes = Counter(r["outcome"] for r in rows if r["id"] in decided)
    return {
        "reports": cell(len(rows), minimum),
        "per_month": [{"month": m, "source": s, "reports": cell(n, minimum)} for (m, s), n in sorted(months.items())],
        "outcomes": [{"outcome": o, "reports": cell(outcomes[o], minimum), "decided": cell(decided_outcomes[o], minimum)}
                     for o in OUTCOMES if outcomes[o]],
        "backlog": _backlog(rows, today, minimum),
        "decision_days": _decision_days(rows, decided, minimum),
        "age_bands": _age_bands(rows, minimum),
    }


def _backlog(rows: list[dict], today: date, minimum: int) -> dict:
    waiting = [(today - r["received_at"].date()).days for r in rows if r["status"] in BACKLOG_STATUSES]
    bands = Counter(_backlog_band(days) for days in waiting)
    return {"open": cell(len(waiting), minimum),
            "median_age_days": shown(len(waiting), minimum, median(waiting) if waiting else None),
            "ages": [{"band": name, "reports": cell(bands[name], minimum)} for name, _ in BACKLOG_AGES]}


def _backlog_band(days: int) -> str:
    return next(name for name, most in BACKLOG_AGES if most is None or days <= most)


def _decision_days(rows: list[dict], decided: dict[int, datetime], minimum: int) -> dict:
    days = sorted((decided[r["id"]] - r["received_at"]).total_seconds() / 86400 for r in rows if r["id"] in decided)
    p90 = quantiles(days, n=10, method="inclusive")[-1] if len(days) >= 2 else (days[0] if days else None)
    return {"decided": cell(len(days), minimum),
            "median": shown(len(days), minimum, round(median(days), 1) if days else None),
            "p90": shown(len(days), minimum, round(p90, 1) if p90 is not None else None)}


def _age_bands(rows: list[dict], minimum: int) -> dict:
    bands = Counter(age_band(r["age"]) for r in rows)  # the bands of triage.facts, as the queue filters
    known = [r["age"] for r in rows if r["age"] is not None]
    young = sum(a < 18 for a in known)
    return {"bands": [{"band": words, "reports": cell(bands[code], minimum)} for code, words in AGE_BANDS.items()],
            # the share gives back both counts: shown only when neither is a small one
            "youth_share": (round(young / len(known), 3)
                            if known and not any(0 < k < minimum for k in (young, len(known) - young)) else None),
            "known": cell(len(known), minimum)}


def _unit_line(rows: list[dict], decided: dict[int, datetime], today: date, minimum: int) -> dict:
    figures = _figures(rows, decided, today, minimum)
    return {"reports": figures["reports"], "open": figures["backlog"]["open"],
            "median_backlog_days": figures["backlog"]["median_age_days"],
            "median_decision_days": figures["decision_days"]["median"],
            "youth_share": figures["age_bands"]["youth_share"]}
