"""Operations services: the week's plan per unit, from the triage queue and the units' capacity."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tiptriage.operations.plan import PlanItem, UnitPlan, plan_week
from tiptriage.operations.units import load_units
from tiptriage.triage import service as triage

PLANNED_STATUSES = ("open", "reopened", "awaiting_approval")


def plan(session: Session, *, actor: str, unit: str | None = None, shown: int | None = 50) -> dict[str, UnitPlan]:
    """What each unit (or one) can take up this week. The reports shown (the first `shown` planned
    and waiting per unit) are what the audit log records as consulted."""
    rows = triage.queue(session, unit=unit, statuses=PLANNED_STATUSES, limit=None)
    items = [PlanItem(r["report_id"], r["external_id"], r["outcome"], r["priority"], r["received_at"], r["unit"])
             for r in rows]
    plans = plan_week(items, load_units())
    if unit:
        plans = {unit: plans[unit]} if unit in plans else {}
    seen = [e["report_id"] for p in plans.values() for e in p.planned[:shown] + p.waiting[:shown]]
    triage.audit_view(session, actor=actor, action="plan.view", report_ids=seen,
                      details={"unit": unit, "queued": len(items)})
    return plans
