"""`tiptriage plan` and `tiptriage units`."""

from __future__ import annotations

import typer
from rich.table import Table

from tiptriage.cliutil import EXIT_USAGE, actor, console, emit_json, err_console, session
from tiptriage.i18n import _, message, number
from tiptriage import flows
from tiptriage.operations.units import UnitsError, load_units


def plan(unit: str | None = typer.Option(None, help="Only this unit."),
         show: int = typer.Option(20, min=0, help="Reports listed per unit, planned and waiting."),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """This week's plan per unit: what fits the unit's capacity in queue order, what waits and why."""
    with session() as s:
        plans = flows.plan(s, actor=actor(), unit=unit, shown=show)
    if as_json:
        emit_json([p.as_dict(limit=show) for p in plans.values()])
        return
    table = Table(title=_("This week's plan"))
    for column in (_("Unit"), _("Capacity (h)"), _("Planned"), _("Planned (h)"), _("Over capacity (h)"),
                   _("Waiting"), _("Waiting (h)")):
        table.add_column(column, justify="right")
    for p in plans.values():
        d = p.as_dict()
        table.add_row(p.unit, number(p.capacity), number(d["planned_count"]), number(p.used),
                      number(p.over_capacity), number(d["waiting_count"]), number(d["waiting_hours"]))
    console.print(table)
    for p in plans.values():
        for w in p.waiting[:show]:
            console.print(f"  {p.unit}: {_('waits')} {w['report_id']} {_(w['outcome'])} — {w['reason']}")


def units(as_json: bool = typer.Option(False, "--json")) -> None:
    """The units: postcode ranges, weekly capacity, and the hours each outcome costs."""
    try:
        table_ = load_units()
    except (UnitsError, OSError) as exc:
        err_console.print(message(exc))
        raise typer.Exit(EXIT_USAGE) from None
    doc = {"default_unit": table_.default_unit, "costs": table_.costs,
           "units": [{"name": u.name, "capacity_hours": u.capacity, "postcodes": [f"{a}-{b}" for a, b in u.ranges]}
                     for u in table_.units]}
    if as_json:
        emit_json(doc)
        return
    table = Table(title=_("Units"))
    for column in (_("Unit"), _("Capacity (h)"), _("Postcodes")):
        table.add_column(column, overflow="fold")
    for u in doc["units"]:
        table.add_row(u["name"], number(u["capacity_hours"]), ", ".join(u["postcodes"]) or _("(default unit)"))
    console.print(table)
