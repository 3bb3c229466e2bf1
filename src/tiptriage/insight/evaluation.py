"""Does warning work? The time from an intervention to the next report of the same subject.

The groups, each subject in the group of its first intervention (so a warned person searched after
a re-report stays warned):
- `warned`: an official warning delivered (time zero: the day of delivery);
- `searched`: a report decided as a criminal case, which opens the search (the day of the decision);
- `no_action`: a report decided NO_ACTION although the policy recommended a warning or a case —
  in practice: no capacity (the day of the decision).

The next report is the subject's first report (current membership, so merges and splits count)
whose incident lies on or after time zero, other than the intervention's own; its incident time is
the event time. A subject without one is censored at the end of follow-up (`until`, by default the
newest incident in the store). Kaplan–Meier curves with 95% bands and numbers at risk per group
(lifelines), the exponential rate per group (events / person-years, the model's maximum-likelihood
estimate, with the exact Poisson interval), per age band at time zero, and a log-rank test.
Reading it needs `view_stats` and is on record; small counts are suppressed (insight/scope.py), and
a group's rate, one-year share and curve only shown when its subjects and its re-reports are each
at least the minimum cell size (or no re-report): those figures give the number back.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from tiptriage.db import chunks
from tiptriage.i18n import N_
from tiptriage.insight.scope import cell, min_cell, on_record, units_for
from tiptriage.intake.models import Report, ReportedPersonRow
from tiptriage.registry.models import PoliceWarning, WarningReport
from tiptriage.subjects.models import SubjectMember
from tiptriage.triage.facts import AGE_BANDS, age_band
from tiptriage.triage.models import Decision, Recommendation, TriageState

GROUPS = (N_("warned"), N_("searched"), N_("no_action"))
SEARCH_OUTCOMES = ("CRIMINAL_CASE",)
ACTION_RECOMMENDED = ("WARNING", "CRIMINAL_CASE")  # a NO_ACTION decision on these: no capacity
# The bands of triage.facts, the youth track's three as one: re-reports per group are few, and
# finer bands would leave mostly suppressed cells.
YOUTH = N_("under 18")
YOUTH_BANDS = ("0-13", "14-15", "16-17")
AGE_GROUPS = (YOUTH,) + tuple(words for code, words in AGE_BANDS.items() if code not in YOUTH_BANDS)
AT_RISK_YEARS = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5)
YEAR_DAYS = 365.25
CAVEATS = (
    N_("Selection: who is warned, searched or left is decided by policy and capacity, not by chance; the groups "
       "differ before the intervention (a search follows distribution), so a difference between the curves is no "
       "proof that the intervention caused it."),
    N_("Unreported reoffending: only what platforms detect and report is seen; a person who moves to services that "
       "do not report is counted as not reported again."),
    N_("Follow-up time: subjects warned recently have been followed for a short time only; the curves are cut off "
       "where few subjects remain at risk, and the end of follow-up is the newest report in the store."),
    N_("Linkage: the next report counts only when linkage joined it to the subject; a missed link hides a re-report, "
       "a wrong one adds one."),
)


@dataclass(frozen=True, slots=True)
class Followed:
    """One subject's follow-up after its first intervention."""

    subject_id: int
    group: str
    unit: str
    origin: date
    years: float  # to the next report, or to the end of follow-up
    event: bool
    age: int | None


@dataclass(frozen=True, slots=True)
class _Intervention:
    group: str
    unit: str
    day: date
    reports: frozenset[int]


def evaluate(session: Session, *, actor, unit: str | None = None, until: date | None = None,
             purpose: str | None = None, minimum: int | None = None) -> dict:
    """The evaluation as a document (see the module docstring); counts suppressed below `minimum`."""
    units = units_for(actor, unit)
    minimum = minimum or min_cell()
    end = until or newest_incident(session)
    followed = follow_up(session, units=units, until=end) if end else []
    on_record(session, actor=actor, action="stats.evaluation", units=units, since=None, until=end, purpose=purpose)
    doc = analyse(followed, minimum)
    doc.update(until=end, units=sorted(units) if units else None, min_cell=minimum, caveats=list(CAVEATS))
    return doc


def newest_incident(session: Session) -> date | None:
    newest = session.execute(select(func.max(func.coalesce(Report.incident_at, Report.reported_at)))).scalar()
    if newest is None:
        return None
    return newest.date() if isinstance(newest, datetime) else date.fromisoformat(str(newest)[:10])


def follow_up(session: Session, *, units: frozenset[str] | None, until: date) -> list[Followed]:
    """Every subject with an intervention in `units` (None: all), followed until the end of `until`."""
    first: dict[int, _Intervention] = {}
    persons_of = _subject_of_persons(session)
    for subject, found in _interventions(session, units, persons_of):
        held = first.get(subject)
        if held is None or found.day < held.day:
            first[subject] = found
    reports_of: dict[int, list[int]] = defaultdict(list)
    for subject, report in _members(session, first):
        reports_of[subject].append(report)
    times = _report_times(session, [r for rs in reports_of.values() for r in rs])
    ages = _ages(session, [min(i.reports) for i in first.values()])
    stop = datetime.combine(until + timedelta(days=1), time(), UTC)
    followed = []
    for subject, found in sorted(first.items()):
        start = datetime.combine(found.day, time(), UTC)
        if stop <= start:
            continue  # no follow-up yet
        later = [times[r] for r in reports_of.get(subject, ()) if r not in found.reports and r in times
                 and start <= times[r] < stop]
        next_at = min(later, default=None)
        years = ((next_at or stop) - start).total_seconds() / 86400 / YEAR_DAYS
        followed.append(Followed(subject, found.group, found.unit, found.day, years, next_at is not None,
                                 ages.get(min(found.reports))))
    return followed


def _subject_of_persons(session: Session) -> dict:
    """Each reported person's subject now (membership follows merges and splits)."""
    rows = session.execute(select(SubjectMember.reported_person_id, SubjectMember.subject_id)
                           .where(SubjectMember.until.is_(None))).all()
    return {person: subject for person, subject in rows}


def _members(session: Session, subjects: dict[int, _Intervention]) -> set[tuple[int, int]]:
    found = set()
    for part in chunks(sorted(subjects)):
        found.update(session.execute(select(SubjectMember.subject_id, SubjectMember.report_id)
                                     .where(SubjectMember.until.is_(None), SubjectMember.subject_id.in_(part))).all())
    return found


def _interventions(session: Session, units, persons_of: dict[int, int]):
    """(subject, intervention) for every delivered warning and every decision that counts."""
    warnings = select(PoliceWarning.id, PoliceWarning.delivered_on, PoliceWarning.unit, WarningReport.person_id,
                      WarningReport.report_id).join(WarningReport, WarningReport.warning_id == PoliceWarning.id) \
        .where(PoliceWarning.state == "delivered", PoliceWarning.delivered_on.is_not(None))
    if units:
        warnings = warnings.where(PoliceWarning.unit.in_(units))
    by_warning: dict[tuple[int, int], set[int]] = defaultdict(set)
    meta = {}
    for wid, on, unit, person, report in session.execute(warnings):
        subject = persons_of.get(person)
        if subject is not None:
            by_warning[(wid, subject)].add(report)
            meta[(wid, subject)] = (on, unit)
    for (wid, subject), reports in by_warning.items():
        on, unit = meta[(wid, subject)]
        yield subject, _Intervention("warned", unit, on, frozenset(reports))
    decisions = select(Decision.report_id, Decision.outcome, Decision.at, Decision.unit, ReportedPersonRow.id) \
        .join(Recommendation, Recommendation.id == Decision.recommendation_id) \
        .join(ReportedPersonRow, and_(ReportedPersonRow.report_id == Decision.report_id,
                                      ReportedPersonRow.role == "reported")) \
        .where(or_(Decision.outcome.in_(SEARCH_OUTCOMES),
                   and_(Decision.outcome == "NO_ACTION", Recommendation.outcome.in_(ACTION_RECOMMENDED))))
    if units:
        decisions = decisions.where(Decision.unit.in_(units))
    for report, outcome, at, unit, person in session.execute(decisions):
        subject = persons_of.get(person)
        if subject is not None:
            group = "searched" if outcome in SEARCH_OUTCOMES else "no_action"
            yield subject, _Intervention(group, unit, at.date(), frozenset({report}))


def _report_times(session: Session, report_ids: list[int]) -> dict[int, datetime]:
    """When each report's incident happened (else when it was reported, else received)."""
    times = {}
    for part in chunks(sorted(set(report_ids))):
        rows = session.execute(select(Report.id, Report.incident_at, Report.reported_at, TriageState.received_at)
                               .outerjoin(TriageState, TriageState.report_id == Report.id)
                               .where(Report.id.in_(part)))
        for rid, incident, reported, received in rows:
            at = incident or reported or received
            if at is not None:
                times[rid] = at
    return times


def _ages(session: Session, report_ids: list[int]) -> dict[int, int]:
    """The age at the incident as triage knows it (register, identification or the report)."""
    ages = {}
    for part in chunks(sorted(set(report_ids))):
        rows = session.execute(select(TriageState.report_id, Recommendation.facts["age"].as_integer())
                               .join(Recommendation, Recommendation.id == TriageState.recommendation_id)
                               .where(TriageState.report_id.in_(part)))
        ages.update({rid: age for rid, age in rows if age is not None})
    return ages


def age_group(age: int | None) -> str:
    code = age_band(age)
    return YOUTH if code in YOUTH_BANDS else AGE_BANDS[code]


# --- the analysis -----------------------------------------------------------------------------------

def rate(events: int, years: float) -> tuple[float | None, float | None, float | None]:
    """The exponential model's hazard per year (events / person-years) with its exact 95% Poisson
    interval (Garwood); None without person-time."""
    from scipy.stats import chi2

    if years <= 0:
        return None, None, None
    low = chi2.ppf(0.025, 2 * events) / 2 / years if events else 0.0
    high = chi2.ppf(0.975, 2 * events + 2) / 2 / years
    return events / years, float(low), float(high)


def _enough(rows: list[Followed], minimum: int) -> bool:
    """Whether a group's derived figures may leave: rate × person-years, a one-year share or the
    steps of a curve give back the number of re-reports, so both counts must be shown themselves."""
    d = sum(r.event for r in rows)
    return len(rows) >= minimum and (d == 0 or d >= minimum)


def _summary(rows: list[Followed], minimum: int) -> dict:
    n, d = len(rows), sum(r.event for r in rows)
    years = sum(r.years for r in rows)
    estimate, low, high = rate(d, years)
    enough = _enough(rows, minimum)
    return {"subjects": cell(n, minimum), "events": cell(d, minimum),
            "person_years": round(years, 2) if enough else None,
            "rate_per_year": _round(estimate) if enough else None,
            "rate_ci": [_round(low), _round(high)] if enough else None}


def _curve(rows: list[Followed], minimum: int) -> tuple[list[dict], dict]:
    """The curve with its band, cut off where fewer than `minimum` subjects remain at risk: a step
    there is one or two persons' re-report, and the band is too wide to read."""
    from lifelines import KaplanMeierFitter

    km = KaplanMeierFitter(alpha=0.05).fit([r.years for r in rows], [r.event for r in rows])
    survival = km.survival_function_.iloc[:, 0]
    band = km.confidence_interval_survival_function_
    at_risk = km.event_table["at_risk"].reindex(survival.index)
    points = [{"years": round(float(t), 4), "survival": round(float(s), 4), "low": round(float(lo), 4),
               "high": round(float(hi), 4)}
              for t, s, lo, hi, n in zip(survival.index, survival, band.iloc[:, 0], band.iloc[:, 1], at_risk,
                                         strict=True) if n >= minimum]
    at_one = [p for p in points if p["years"] <= 1.0][-1]
    one_year = {"rereported": round(1 - at_one["survival"], 4),
                "ci": [round(1 - at_one["high"], 4), round(1 - at_one["low"], 4)]}
    return points, one_year


def analyse(followed: list[Followed], minimum: int) -> dict:
    groups = []
    by_group = {g: [f for f in followed if f.group == g] for g in GROUPS}
    for group, rows in by_group.items():
        entry = {"group": group, **_summary(rows, minimum),
                 "at_risk": [{"years": t, "subjects": cell(sum(r.years >= t for r in rows), minimum)}
                             for t in AT_RISK_YEARS]}
        if _enough(rows, minimum) and rows:
            entry["curve"], entry["one_year"] = _curve(rows, minimum)
        groups.append(entry)
    by_age = []
    for group, rows in by_group.items():
        for band in AGE_GROUPS:
            part = [r for r in rows if age_group(r.age) == band]
            if part:
                by_age.append({"group": group, "age_band": band, **_summary(part, minimum)})
    return {"groups": groups, "by_age": by_age, "logrank": _logrank(by_group, minimum)}


def _logrank(by_group: dict[str, list[Followed]], minimum: int) -> dict | None:
    """Whether the curves differ (all groups with enough subjects), and each against the warned."""
    from lifelines.statistics import logrank_test, multivariate_logrank_test

    usable = {g: rows for g, rows in by_group.items() if _enough(rows, minimum) and rows}
    if len(usable) < 2:
        return None
    rows = [r for part in usable.values() for r in part]
    test = multivariate_logrank_test([r.years for r in rows], [r.group for r in rows], [r.event for r in rows])
    doc = {"groups": list(usable), "statistic": _round(test.test_statistic), "df": len(usable) - 1,
           "p_value": _round(test.p_value), "pairs": []}
    warned = usable.get("warned")
    for group, other in usable.items():
        if warned is None or group == "warned":
            continue
        pair = logrank_test([r.years for r in warned], [r.years for r in other], [r.event for r in warned],
                            [r.event for r in other])
        doc["pairs"].append({"groups": ["warned", group], "statistic": _round(pair.test_statistic),
                             "p_value": _round(pair.p_value)})
    return doc


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)
