"""Action weeks, across the domains: a national round of warnings delivered and homes searched.

Planning reads the registry (approved warnings not yet delivered) and triage (searches decided, with
the investigation still open) and places them with `operations.weekplan`; a work list names each
item's person and address (a disclosure of personal data, on record); an outcome recorded at the
door is kept on the item, and a delivered warning goes through the registry's delivery
(`flows.deliver_warning`), so the warning registry stays the one source of who was warned.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from tiptriage import flows
from tiptriage.accounts.actor import Actor, require, units_in_view
from tiptriage.audit import service as audit
from tiptriage.db import chunks, utcnow
from tiptriage.i18n import Words, _, language, number, refusal
from tiptriage.intake.models import AddressRow, ReportedPersonRow
from tiptriage.operations import weekplan
from tiptriage.operations.models import OUTCOMES_OF, ActionWeek, ActionWeekItem
from tiptriage.operations.units import load_units, postcode_digits
from tiptriage.registry.models import Investigation, PoliceWarning, WarningReport
from tiptriage.subjects import identity
from tiptriage.triage.models import Decision, Recommendation, TriageState
from tiptriage.triage.subjectlinks import default_links

SEARCH_OUTCOMES = ("CRIMINAL_CASE",)  # URGENT is never kept for a week: it is acted on at once
DONE = ("delivered", "refused", "search_done", "devices_seized")  # not_home: the item may be planned again


class ActionWeekError(ValueError):
    """An action week or an outcome that cannot be: dates, capacity, an item recorded twice."""


# --- planning ---------------------------------------------------------------------------------------

def parse_overrides(values: list[str]) -> dict[str, tuple[int | None, int | None]]:
    """Units' own capacity as people write it: UNIT=WARNINGS/SEARCHES a day, either number left
    empty for the week's (the CLI's --override, the web form's field, one per line or comma)."""
    out = {}
    for text in (part.strip() for value in values for part in value.replace(",", "\n").splitlines()):
        if not text:
            continue
        unit, sep, rest = text.partition("=")
        warnings, slash, searches = rest.partition("/")
        try:
            if not sep or not slash:
                raise ValueError(text)
            out[unit.strip()] = (int(warnings) if warnings.strip() else None, int(searches) if searches.strip() else None)
        except ValueError:
            raise refusal(ActionWeekError, "A capacity override is UNIT=WARNINGS/SEARCHES a day (e.g. Limburg=4/2), "
                                           "not {text}", text=text) from None
    return out


def plan(session: Session, *, actor: Actor, name: str, start: date, end: date, units: list[str],
         warnings_per_day: int, searches_per_day: int,
         overrides: dict[str, tuple[int | None, int | None]] | None = None) -> dict:
    """Plan an action week: its items on days per unit, and what is left over and why."""
    require(actor, "plan_actionweek")
    _check_week(session, name, start, end, units, warnings_per_day, searches_per_day, overrides or {})
    for unit in units:
        require(actor, "plan_actionweek", unit=unit)
    week = ActionWeek(name=name.strip(), starts_on=start, ends_on=end, units=list(units),
                      warnings_per_day=warnings_per_day, searches_per_day=searches_per_day,
                      overrides={u: {"warnings": w, "searches": s} for u, (w, s) in (overrides or {}).items()},
                      created_by=actor, created_at=utcnow())
    session.add(week)
    session.flush()
    found = candidates(session, units)
    placed = weekplan.plan([c for c, _ in found], weekplan.days_of(start, end), capacity(week))
    extra = {c.report_id: more for c, more in found}
    session.add_all(ActionWeekItem(week_id=week.id, kind=p.candidate.kind, report_id=p.candidate.report_id,
                                   unit=p.candidate.unit, priority=p.candidate.priority, area=p.candidate.area,
                                   day=p.day, left_over=p.left_over, **extra[p.candidate.report_id])
                    for p in placed)
    session.flush()
    audit.record(session, actor=actor, action="actionweek.plan", entity="action_week", entity_ids=[week.id],
                 details={"name": week.name, "from": start, "to": end, "units": list(units),
                          "planned": sum(p.day is not None for p in placed),
                          "left_over": sum(p.day is None for p in placed)})
    return week_doc(session, week.id, actor=actor)


def _check_week(session: Session, name: str, start: date, end: date, units: list[str], warnings: int,
                searches: int, overrides: dict) -> None:
    known = load_units().names()
    if not name.strip():
        raise refusal(ActionWeekError, "an action week needs a name")
    if session.execute(select(ActionWeek.id).where(ActionWeek.name == name.strip())).first():
        raise refusal(ActionWeekError, "an action week named {name!r} exists already", name=name.strip())
    if end < start or (end - start).days > 30:
        raise refusal(ActionWeekError, "an action week runs from a day to the same or a later day, at most 31 days "
                                       "(from {start} to {end})", start=start, end=end)
    if not units:
        raise refusal(ActionWeekError, "an action week needs at least one participating unit")
    for unit in [*units, *overrides]:
        if unit not in known:
            raise refusal(ActionWeekError, "{unit!r} is not a unit; the units are {units}", unit=unit,
                          units=", ".join(known))
    for unit in overrides:
        if unit not in units:
            raise refusal(ActionWeekError, "capacity is given for {unit}, which does not take part", unit=unit)
    values = [warnings, searches, *(v for pair in overrides.values() for v in pair if v is not None)]
    if any(v < 0 for v in values):
        raise refusal(ActionWeekError, "capacity is a number of items a day, 0 or more")


def capacity(week: ActionWeek) -> dict[tuple[str, str], int]:
    out = {}
    for unit in week.units:
        given = week.overrides.get(unit, {})
        out[unit, "warning"] = week.warnings_per_day if given.get("warnings") is None else given["warnings"]
        out[unit, "search"] = week.searches_per_day if given.get("searches") is None else given["searches"]
    return out


def candidates(session: Session, units: list[str]) -> list[tuple[weekplan.Candidate, dict]]:
    """Approved warnings not yet delivered, and decided searches whose investigation is open, of
    these units; not those already in a week unless nobody was at home there."""
    busy = set(session.execute(select(ActionWeekItem.report_id).where(
        (ActionWeekItem.outcome.is_(None) & ActionWeekItem.day.is_not(None)) | ActionWeekItem.outcome.in_(DONE)))
        .scalars())
    warned = session.execute(select(PoliceWarning.id, PoliceWarning.unit, PoliceWarning.subject_id,
                                    WarningReport.report_id, WarningReport.person_id)
                             .join(WarningReport, WarningReport.warning_id == PoliceWarning.id)
                             .where(PoliceWarning.state == "approved", PoliceWarning.unit.in_(units))
                             .order_by(PoliceWarning.id, WarningReport.id)).all()
    first: dict[int, tuple] = {}
    for row in warned:
        first.setdefault(row.id, row)
    items = [("warning", r.report_id, r.unit, r.person_id, r.subject_id, r.id) for r in first.values()]
    searched = session.execute(select(Decision.report_id, Decision.unit, Recommendation.subject_ids)
                               .join(TriageState, TriageState.decision_id == Decision.id)
                               .join(Recommendation, Recommendation.id == TriageState.recommendation_id)
                               .join(Investigation, Investigation.decision_id == Decision.id)
                               .where(Decision.outcome.in_(SEARCH_OUTCOMES), TriageState.status == "decided",
                                      Decision.unit.in_(units), Investigation.closed_at.is_(None))
                               .order_by(Decision.report_id)).all()
    homes: set[int] = set()  # one search per subject: one home
    for report_id, unit, subjects in searched:
        subject = subjects[0] if subjects else None
        if subject is not None and subject in homes:
            continue
        if subject is not None:
            homes.add(subject)
        items.append(("search", report_id, unit, _reported_person(session, report_id), subject, None))
    items = [i for i in items if i[1] not in busy]
    states = {s.report_id: s for s in session.execute(select(TriageState).where(
        TriageState.report_id.in_([i[1] for i in items]))).scalars()} if items else {}
    people = persons(session, [(i[3], i[4]) for i in items])
    out = []
    for kind, report_id, unit, person_id, subject_id, warning_id in items:
        state, who = states.get(report_id), people.get(person_id, {})
        postcode = postcode_digits(who.get("postcode"))
        minor = _minor(session, state)
        out.append((weekplan.Candidate(kind, report_id, unit, state.priority if state else 0,
                                       str(postcode)[:2] if postcode else None,
                                       state.received_at if state else utcnow()),
                    {"warning_id": warning_id, "person_id": person_id, "subject_id": subject_id, "minor": minor}))
    return out


def _reported_person(session: Session, report_id: int) -> int | None:
    return session.execute(select(ReportedPersonRow.id).where(ReportedPersonRow.report_id == report_id,
                                                              ReportedPersonRow.role == "reported")
                           .order_by(ReportedPersonRow.id)).scalars().first()


def _minor(session: Session, state: TriageState | None) -> bool | None:
    if state is None:
        return None
    facts = session.get(Recommendation, state.recommendation_id).facts
    return facts.get("minor")


def persons(session: Session, wanted: list[tuple[int | None, int | None]]) -> dict[int | None, dict]:
    """Per (reported person, subject): the name, date of birth and Dutch address as the unit knows
    them — an identification it recorded counts before what a report says, the person's own report
    before the subject's others (newest first), where the own report names no one or no address."""
    subjects = sorted({s for _, s in wanted if s is not None})
    members = default_links().members_of(session, subjects) if subjects else {}
    ids = sorted({p for p, _ in wanted if p} | {m for ms in members.values() for m in ms})
    known = _person_facts(session, ids)
    out = {}
    for person_id, subject_id in wanted:
        order = [person_id] + sorted((m for m in members.get(subject_id, ()) if m != person_id), reverse=True)
        facts = [known[p] for p in order if p in known]
        named = next((f for f in facts if f["name"]), {})
        housed = next((f for f in facts if f["postcode"]), {})
        out[person_id] = {"name": named.get("name", ""), "date_of_birth": named.get("date_of_birth"),
                          "street": housed.get("street"), "postcode": housed.get("postcode"),
                          "city": housed.get("city")}
    return out


def _person_facts(session: Session, person_ids: list[int]) -> dict[int, dict]:
    out: dict[int, dict] = {}
    addresses: dict[int, AddressRow] = {}
    for part in chunks(person_ids):
        for a in session.execute(select(AddressRow).where(AddressRow.person_id.in_(part))
                                 .order_by(AddressRow.id)).scalars():
            if postcode_digits(a.postcode) is not None and a.street:
                addresses.setdefault(a.person_id, a)
    known = identity.newest(session, person_ids)
    for part in chunks(person_ids):
        for p in session.execute(select(ReportedPersonRow).where(ReportedPersonRow.id.in_(part))).scalars():
            ident, address = known.get(p.id), addresses.get(p.id)
            source = ident if ident is not None and ident.postcode and ident.street else address
            name = (f"{ident.given_name} {ident.family_name}" if ident else
                    " ".join(x for x in (p.given_name, p.family_name) if x))
            born = ident.date_of_birth if ident and ident.date_of_birth else p.date_of_birth
            out[p.id] = {"name": name, "date_of_birth": born.isoformat() if born else None,
                         "street": source.street if source else None, "postcode": source.postcode if source else None,
                         "city": source.city if source else None}
    return out


# --- reading ------------------------------------------------------------------------------------------

def get_week(session: Session, week: str | int) -> ActionWeek:
    """A week by id or by name; LookupError when there is none."""
    found = None
    if isinstance(week, int) or str(week).isdigit():
        found = session.get(ActionWeek, int(week))
    if found is None:
        found = session.execute(select(ActionWeek).where(ActionWeek.name == str(week))).scalar_one_or_none()
    if found is None:
        raise refusal(LookupError, "no action week {week}", week=str(week))
    return found


def list_weeks(session: Session, *, actor: Actor) -> list[dict]:
    units_in_view(actor)
    weeks = session.execute(select(ActionWeek).order_by(ActionWeek.starts_on.desc(), ActionWeek.id.desc())).scalars()
    return [_week_head(w) for w in weeks]


def _week_head(w: ActionWeek) -> dict:
    return {"id": w.id, "name": w.name, "from": w.starts_on, "to": w.ends_on, "units": list(w.units),
            "warnings_per_day": w.warnings_per_day, "searches_per_day": w.searches_per_day,
            "overrides": dict(w.overrides), "created_by": w.created_by}


def week_doc(session: Session, week_id: int | str, *, actor: Actor, unit: str | None = None) -> dict:
    """The week as planned, per unit the actor sees: counts per day, the items (ids, kinds, days,
    areas, outcomes: no names) and what is left over and why."""
    week = get_week(session, week_id)
    scope = _scope(actor, week, unit)
    items = _items(session, week.id, scope)
    per_unit = {}
    for u in sorted(scope):
        mine = [i for i in items if i.unit == u]
        per_unit[u] = {"planned": sum(i.day is not None for i in mine), "left_over": sum(i.day is None for i in mine),
                       "per_day": {d.isoformat(): {k: sum(i.day == d and i.kind == k for i in mine)
                                                   for k in ("warning", "search")}
                                   for d in weekplan.days_of(week.starts_on, week.ends_on)}}
    audit.consulted_reports(session, actor=actor, action="actionweek.view", report_ids=[i.report_id for i in items],
                            details={"week_id": week.id, "unit": unit})
    return _week_head(week) | {"per_unit": per_unit, "items": [_item_doc(i) for i in items]}


def _scope(actor: Actor, week: ActionWeek, unit: str | None) -> set[str]:
    if unit is not None and unit not in week.units:
        raise refusal(LookupError, "unit {unit} does not take part in action week {week}", unit=unit, week=week.name)
    seen = units_in_view(actor, unit)
    return {u for u in week.units if seen is None or u in seen}


def _items(session: Session, week_id: int, units: set[str]) -> list[ActionWeekItem]:
    return list(session.execute(select(ActionWeekItem).where(ActionWeekItem.week_id == week_id,
                                                             ActionWeekItem.unit.in_(sorted(units)))
                                .order_by(ActionWeekItem.unit, ActionWeekItem.day, ActionWeekItem.area,
                                          ActionWeekItem.id)).scalars())


def _item_doc(i: ActionWeekItem) -> dict:
    return {"item_id": i.id, "kind": i.kind, "unit": i.unit, "day": i.day, "area": i.area, "priority": i.priority,
            "report_id": i.report_id, "warning_id": i.warning_id, "subject_id": i.subject_id,
            "left_over": weekplan.said(i.left_over), "outcome": i.outcome, "outcome_on": i.outcome_on, "officer": i.officer}


def worklist(session: Session, week_id: int | str, unit: str, *, actor: Actor, purpose: str) -> tuple[dict, list[dict]]:
    """A unit's planned items with the person's name and address, for a work list that leaves the
    system: a disclosure, on record with who, why and which reports."""
    week = get_week(session, week_id)
    require(actor, "export_worklist", unit=unit)
    _scope(actor, week, unit)
    items = [i for i in _items(session, week.id, {unit}) if i.day is not None]
    people = persons(session, [(i.person_id, i.subject_id) for i in items])
    rows = []
    for i in items:
        who = people.get(i.person_id, {})
        address = ", ".join(x for x in (who.get("street"), " ".join(x for x in (who.get("postcode"), who.get("city"))
                                                                   if x)) if x)
        rows.append(_item_doc(i) | {"name": who.get("name") or "", "date_of_birth": who.get("date_of_birth"),
                                    "address": address})
    audit.record(session, actor=actor, action="actionweek.worklist.export", entity="report",
                 entity_ids=[i.report_id for i in items], reason=purpose,
                 details={"week_id": week.id, "unit": unit, "items": len(items)})
    return _week_head(week) | {"starts_on": week.starts_on, "ends_on": week.ends_on}, rows


# --- outcomes ------------------------------------------------------------------------------------------

def record_outcome(session: Session, week_id: int | str, item_id: int, *, actor: Actor, outcome: str, on: date,
                   officer: str, note: str | None = None, referral_accepted: bool | None = None) -> dict:
    """What happened at the door. A delivered warning is delivered in the registry as well."""
    week = get_week(session, week_id)
    item = session.get(ActionWeekItem, item_id, with_for_update=True, populate_existing=True)
    if item is None or item.week_id != week.id:
        raise refusal(LookupError, "item {item} is not part of action week {week}", item=item_id, week=week.name)
    require(actor, "record_outcome", unit=item.unit)
    _check_outcome(week, item, outcome, on, officer)
    if outcome == "delivered":
        flows.deliver_warning(session, item.warning_id, actor=actor, on=on, officer=officer.strip(), unit=item.unit,
                              referral_offered=True, referral_accepted=referral_accepted)
    item.outcome, item.outcome_on, item.officer, item.note = outcome, on, officer.strip(), note
    item.recorded_by, item.recorded_at = actor, utcnow()
    session.flush()
    audit.record(session, actor=actor, action="actionweek.outcome", entity="report", entity_ids=[item.report_id],
                 reason=note, details={"week_id": week.id, "item_id": item.id, "outcome": outcome, "on": on,
                                       "officer": officer.strip(), "warning_id": item.warning_id})
    return _item_doc(item)


def _check_outcome(week: ActionWeek, item: ActionWeekItem, outcome: str, on: date, officer: str) -> None:
    if item.outcome is not None:
        raise refusal(ActionWeekError, "item {item} has its outcome already: {outcome} on {on} by {officer}",
                      item=item.id, outcome=Words(item.outcome), on=item.outcome_on, officer=item.officer)
    if item.day is None:
        raise refusal(ActionWeekError, "item {item} is not planned in this week: {reason}", item=item.id,
                      reason=weekplan.said(item.left_over) or "")
    allowed = OUTCOMES_OF[item.kind]
    if outcome not in allowed:
        raise refusal(ActionWeekError, "the outcome of a {kind} item is one of {outcomes}, not {outcome!r}",
                      kind=Words(item.kind), outcomes=Words(*allowed), outcome=outcome)
    if not week.starts_on <= on <= week.ends_on:
        raise refusal(ActionWeekError, "{on} is outside action week {week} ({start} to {end})", on=on,
                      week=week.name, start=week.starts_on, end=week.ends_on)
    if on > utcnow().date():
        raise refusal(ActionWeekError, "{on} lies in the future: record an outcome when it happened", on=on)
    if not officer.strip():
        raise refusal(ActionWeekError, "an outcome names the officer")


# --- the summary ------------------------------------------------------------------------------------------

def summary(session: Session, week_id: int | str, *, actor: Actor) -> dict:
    """The week's outcomes as counts (no personal data), with the closing sentence in Dutch and English."""
    week = get_week(session, week_id)
    scope = _scope(actor, week, None)
    items = _items(session, week.id, scope)
    counts = Counter(i.outcome for i in items if i.outcome)
    per_unit = {u: dict(Counter(i.outcome for i in items if i.unit == u and i.outcome)) for u in sorted(scope)}
    acted = [i for i in items if i.outcome in ("delivered", "search_done", "devices_seized")]
    youth = sum(bool(i.minor) for i in acted)
    doc = {"week": _week_head(week), "planned": sum(i.day is not None for i in items),
           "left_over": sum(i.day is None for i in items), "open": sum(i.day is not None and not i.outcome for i in items),
           "warned": counts["delivered"], "searched": counts["search_done"] + counts["devices_seized"],
           "devices_seized": counts["devices_seized"], "not_home": counts["not_home"], "refused": counts["refused"],
           "persons": len(acted), "youth": youth, "youth_share": round(youth / len(acted), 3) if acted else None,
           "per_unit": per_unit}
    doc["text"] = {code: _sentence(doc, week, code) for code in ("nl", "en")}
    return doc


def _sentence(doc: dict, week: ActionWeek, code: str) -> str:
    with language(code):
        share = f"{number(round(100 * doc['youth_share']))}%" if doc["youth_share"] is not None else "–"
        return _("{warned} persons warned, {searched} homes searched: in action week {name} ({start} to {end}) "
                 "{units} units warned {warned} persons and searched {searched} homes, seizing data carriers in "
                 "{seized}. {youth} of the {persons} persons ({share}) were under 18. Nobody at home: {not_home}; "
                 "refused: {refused}.", warned=number(doc["warned"]), searched=number(doc["searched"]),
                 name=week.name, start=week.starts_on, end=week.ends_on, units=number(len(week.units)),
                 seized=number(doc["devices_seized"]), youth=number(doc["youth"]), persons=number(doc["persons"]),
                 share=share, not_home=number(doc["not_home"]), refused=number(doc["refused"]))
