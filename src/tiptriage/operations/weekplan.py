"""The action week's plan: which warning is delivered and which home searched on which day.

Pure: candidates and the week's capacity in, every candidate placed on a day or left over with the
reason. The rules, chosen to be easy to defend:
- each unit plans its warnings and its searches separately, each against its own capacity a day;
- higher priority first (then the oldest): what does not fit is the lowest of the unit's list;
- the work is spread evenly over the days, not piled on the first;
- a day is filled by postcode area (the first two digits): the day's most urgent item brings the
  others of its area along, so officers drive to one part of the region, not across it;
- a candidate without an address cannot be visited and is left over, saying so.

Why an item is left over is kept as its message id and values (`Reason`), so each reader gets it in
their own language (`said`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import json

from tiptriage.i18n import N_, _


@dataclass(frozen=True, slots=True)
class Candidate:
    kind: str  # "warning" or "search"
    report_id: int
    unit: str
    priority: int
    area: str | None  # the postcode's first two digits; None: no address known
    since: datetime


NO_ADDRESS = N_("no address known: the officers cannot find the person; record an identification with an address "
                "first")
NO_CAPACITY = N_("unit {unit} takes no {kind} work in this week (capacity 0 a day)")
FULL = N_("capacity of {unit} reached: {per_day} a day over {days} days is {total} {kind} items, all taken by "
          "higher priority or older work")


def reason(msgid: str, **values: object) -> str:
    """Why an item is left over, as stored: the message id and its values (JSON)."""
    return json.dumps({"msgid": msgid, "values": values}, ensure_ascii=False)


def said(stored: str | None) -> str | None:
    """A stored reason in the reader's language (a kind among its values is a word to translate too)."""
    if not stored:
        return stored
    try:
        doc = json.loads(stored)
    except ValueError:  # written as text
        return stored
    values = {k: _(v) if k == "kind" else v for k, v in doc["values"].items()}
    return _(doc["msgid"], **values)


@dataclass(frozen=True, slots=True)
class Placed:
    candidate: Candidate
    day: date | None  # None: left over
    left_over: str | None = None  # why, as `reason` stores it


def days_of(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def plan(candidates: list[Candidate], days: list[date], capacity: dict[tuple[str, str], int]) -> list[Placed]:
    """`capacity` is per (unit, kind) the items a day; a unit or kind it lacks takes none."""
    groups: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
    for c in candidates:
        groups[c.unit, c.kind].append(c)
    placed: list[Placed] = []
    for (unit, kind), group in sorted(groups.items()):
        placed += _plan_group(sorted(group, key=lambda c: (-c.priority, c.since, c.report_id)), days,
                              capacity.get((unit, kind), 0), unit, kind)
    return placed


def _plan_group(ordered: list[Candidate], days: list[date], per_day: int, unit: str, kind: str) -> list[Placed]:
    out = [Placed(c, None, reason(NO_ADDRESS)) for c in ordered if c.area is None]
    visitable = [c for c in ordered if c.area is not None]
    total = per_day * len(days)
    if not per_day and visitable:
        why = reason(NO_CAPACITY, unit=unit, kind=kind)
        return out + [Placed(c, None, why) for c in visitable]
    fits, rest = visitable[:total], visitable[total:]
    for c in rest:
        out.append(Placed(c, None, reason(FULL, unit=unit, per_day=per_day, days=len(days), total=total, kind=kind)))
    quota = math.ceil(len(fits) / len(days)) if days else 0
    waiting = list(fits)
    for day in days:
        taken = _one_day(waiting, min(quota, per_day))
        out += [Placed(c, day) for c in taken]
        waiting = [c for c in waiting if c not in taken]
    return out


def _one_day(waiting: list[Candidate], room: int) -> list[Candidate]:
    """The day's most urgent item and the others of its postcode area, in their order; then the
    next most urgent area, until the day is full."""
    taken: list[Candidate] = []
    left = list(waiting)
    while left and len(taken) < room:
        area = left[0].area
        same = [c for c in left if c.area == area][:room - len(taken)]
        taken += same
        left = [c for c in left if c not in same]
    return taken
