"""The week's plan: what each unit can take up this week, and what waits, and why.

Pure: the queue (already in its order: outcome class, priority, age) and the units' capacity in,
the plan out. The rules, chosen to be easy to defend:
- a unit takes its queue in order and stops at the first report that no longer fits: nothing
  lower in the queue is taken before something higher;
- URGENT reports are never deferred: they are planned even past capacity, and the plan says by
  how much the unit is over;
- outcomes that cost nothing (NO_ACTION) are not planned work and are only counted;
- an approved warning not yet delivered is work too (task "deliver"), taken with the WARNING class,
  before the reports still to be decided there;
- every waiting report gets the week it would be reached at this capacity (0 = this week).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from tiptriage.i18n import _
from tiptriage.operations.units import Units


@dataclass(frozen=True, slots=True)
class PlanItem:
    report_id: int
    external_id: str
    outcome: str
    priority: int
    received_at: datetime
    unit: str
    task: str = "decide"  # or "deliver": an approved warning to hand over
    warning_id: int | None = None


@dataclass
class UnitPlan:
    unit: str
    capacity: float
    used: float = 0.0
    planned: list[dict] = field(default_factory=list)
    waiting: list[dict] = field(default_factory=list)
    not_planned: int = 0  # outcomes that cost nothing

    @property
    def over_capacity(self) -> float:
        return max(0.0, self.used - self.capacity)

    def as_dict(self, *, limit: int | None = None) -> dict:
        return {"unit": self.unit, "capacity_hours": self.capacity, "planned_hours": self.used,
                "over_capacity_hours": self.over_capacity, "planned": self.planned[:limit],
                "planned_count": len(self.planned), "waiting": self.waiting[:limit], "waiting_count": len(self.waiting),
                "waiting_hours": sum(w["cost_hours"] for w in self.waiting), "not_planned": self.not_planned}


def plan_week(items: list[PlanItem], units: Units) -> dict[str, UnitPlan]:
    plans = {u.name: UnitPlan(u.name, u.capacity) for u in units.units}
    blocked: dict[str, float] = {}  # unit → hours queued ahead of the waiting reports
    for position, item in enumerate(items, 1):
        plan = plans.setdefault(item.unit, UnitPlan(item.unit, units.capacity(item.unit)))
        cost = units.costs.get(item.outcome, 1.0)
        if cost == 0:
            plan.not_planned += 1
            continue
        entry = {"report_id": item.report_id, "external_id": item.external_id, "outcome": item.outcome,
                 "priority": item.priority, "received_at": item.received_at, "cost_hours": cost, "task": item.task,
                 "warning_id": item.warning_id}
        if item.outcome == "URGENT" or (item.unit not in blocked and plan.used + cost <= plan.capacity):
            plan.used += cost
            plan.planned.append(entry | {"reason": _planned_reason(item, plan)})
            continue
        ahead = blocked.setdefault(item.unit, plan.used)
        blocked[item.unit] = ahead + cost
        week = math.ceil((ahead + cost) / plan.capacity) - 1 if plan.capacity else None
        plan.waiting.append(entry | {"week": week, "reason": _waiting_reason(plan, ahead, cost, week)})
    return plans


def _planned_reason(item: PlanItem, plan: UnitPlan) -> str:
    if item.outcome == "URGENT" and plan.used > plan.capacity:
        return _("urgent: never deferred, planned past capacity")
    return _("fits this week's capacity in queue order")


def _waiting_reason(plan: UnitPlan, ahead: float, cost: float, week: int | None) -> str:
    if week is None:
        return _("the unit has no capacity for this work")
    return _("capacity {capacity} h reached; {ahead} h queued ahead; reached in week +{week} at this capacity",
             capacity=f"{plan.capacity:g}", ahead=f"{ahead:g}", week=week)
