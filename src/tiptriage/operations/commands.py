"""`tiptriage plan`, `tiptriage units [unassigned|assign]` and `tiptriage actionweek ...`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from tiptriage import actionweeks, flows
from tiptriage.cliutil import EXIT_USAGE, actor, console, day, emit_json, err_console, fail, session
from tiptriage.i18n import _, message, number
from tiptriage.operations import worklists
from tiptriage.operations.units import UnitsError, load_units

units_app = typer.Typer(help="The units: postcodes, places and capacity; work nothing placed, and its assignment.")
actionweek_app = typer.Typer(no_args_is_help=True,
                             help="Action weeks: plan warnings and searches per unit and day, work lists, outcomes.")


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
        for w in p.planned[:show]:
            console.print(f"  {p.unit}: {_('plans')} {_task(w)} — {w['reason']}", highlight=False)
        for w in p.waiting[:show]:
            console.print(f"  {p.unit}: {_('waits')} {_task(w)} — {w['reason']}", highlight=False)


def _task(entry: dict) -> str:
    if entry["task"] == "deliver":
        return _("deliver warning {id} (report {report})", id=entry["warning_id"], report=entry["report_id"])
    return f"{entry['report_id']} {_(entry['outcome'])}"


@units_app.callback(invoke_without_command=True)
def units(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """The units: postcode ranges, weekly capacity, and the hours each outcome costs."""
    if ctx.invoked_subcommand is not None:
        return
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


@units_app.command("unassigned")
def units_unassigned(limit: int = typer.Option(200, min=1, help="Subjects listed at most."),
                     as_json: bool = typer.Option(False, "--json")) -> None:
    """Subjects whose open work nothing placed in a unit (no Dutch address, estimated location or IP
    address a table places): a person assigns them with `tiptriage units assign`."""
    with session() as s:
        docs = flows.unassigned(s, actor=actor(), limit=limit)
    if as_json:
        emit_json(docs)
        return
    table = Table(title=_("Subjects without a unit"))
    for column in (_("Subject"), _("Reports"), _("Outcomes"), _("Priority"), _("Waiting since")):
        table.add_column(column)
    for d in docs:
        table.add_row(str(d["subject_id"]), ", ".join(map(str, d["reports"])), ", ".join(_(o) for o in d["outcomes"]),
                      str(d["priority"]), f"{d['waiting_since']:%Y-%m-%d}")
    console.print(table)
    if not docs:
        console.print(_("Every subject with open work has a unit."))


@units_app.command("assign")
def units_assign(subject_id: int = typer.Argument(..., help="The subject."),
                 unit: str = typer.Argument(..., help="The unit responsible."),
                 reason: str = typer.Option(..., help="Why this unit (e.g. the address the provider gave)."),
                 as_json: bool = typer.Option(False, "--json")) -> None:
    """Give a subject nothing placed its unit; its reports are triaged again and move to that unit."""
    with session() as s:
        doc = flows.assign_unit(s, subject_id, unit, actor=actor(), reason=reason)
    if as_json:
        emit_json(doc)
        return
    console.print(_("Subject {id} is work of {unit} now; {n} reports triaged again.", id=subject_id, unit=unit,
                    n=number(len(doc["retriaged_reports"]))))


# --- action weeks ------------------------------------------------------------------------------------

@actionweek_app.command("plan")
def actionweek_plan(name: str = typer.Option(..., "--name", help="The week's name, e.g. 2024-voorjaar."),
                    start: str = typer.Option(..., "--from", help="First day (YYYY-MM-DD)."),
                    end: str = typer.Option(..., "--to", help="Last day (YYYY-MM-DD)."),
                    units: list[str] = typer.Option(..., "--unit", help="A participating unit (repeat for more)."),
                    warnings_per_day: int = typer.Option(..., help="Warnings a unit delivers a day."),
                    searches_per_day: int = typer.Option(..., help="Searches a unit does a day."),
                    override: list[str] = typer.Option([], help="A unit's own capacity: UNIT=WARNINGS/SEARCHES."),
                    as_json: bool = typer.Option(False, "--json")) -> None:
    """Plan an action week: approved warnings not yet delivered and decided searches, per unit on
    days by priority and postcode area; what is left over says why."""
    first, last = day(start), day(end)
    with session() as s:
        given = actionweeks.parse_overrides(override)
        doc = actionweeks.plan(s, actor=actor(), name=name, start=first, end=last, units=units,
                               warnings_per_day=warnings_per_day, searches_per_day=searches_per_day, overrides=given)
    _print_week(doc, as_json)


def _print_week(doc: dict, as_json: bool) -> None:
    if as_json:
        emit_json(doc)
        return
    console.print(_("Action week {id} {name}: {start} to {end}", id=doc["id"], name=doc["name"], start=doc["from"],
                    end=doc["to"]), highlight=False)
    table = Table()
    for column in (_("Unit"), _("Planned"), _("Left over"), _("Warnings a day"), _("Searches a day")):
        table.add_column(column, justify="right")
    for unit, u in doc["per_unit"].items():
        per_day = u["per_day"].values()
        table.add_row(unit, number(u["planned"]), number(u["left_over"]),
                      " ".join(str(d["warning"]) for d in per_day), " ".join(str(d["search"]) for d in per_day))
    console.print(table)
    for item in doc["items"]:
        if item["day"] is None:
            console.print("  " + _("left over: {unit} {kind} item {id} (report {report}): {reason}", unit=item["unit"],
                                   kind=_(item["kind"]), id=item["item_id"], report=item["report_id"],
                                   reason=item["left_over"]), highlight=False)


@actionweek_app.command("list")
def actionweek_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """The action weeks, newest first."""
    with session() as s:
        docs = actionweeks.list_weeks(s, actor=actor())
    if as_json:
        emit_json(docs)
        return
    for d in docs:
        console.print(f"{d['id']}  {d['name']}  {d['from']} – {d['to']}  {', '.join(d['units'])}", highlight=False)


@actionweek_app.command("show")
def actionweek_show(week: str = typer.Argument(..., help="The week's id or name."),
                    unit: str | None = typer.Option(None, help="Only this unit."),
                    as_json: bool = typer.Option(False, "--json")) -> None:
    """A week as planned: per unit and day, and what is left over and why."""
    with session() as s:
        doc = actionweeks.week_doc(s, week, actor=actor(), unit=unit)
    _print_week(doc, as_json)


@actionweek_app.command("worklist")
def actionweek_worklist(week: str = typer.Argument(..., help="The week's id or name."),
                        unit: str = typer.Option(..., help="The unit whose work list this is."),
                        out: Path = typer.Option(..., help="The file to write (never over an existing one)."),
                        format_: str = typer.Option("pdf", "--format", help="pdf or csv."),
                        reason: str = typer.Option("action week", help="Why the list is exported (audit log)."),
                        as_json: bool = typer.Option(False, "--json")) -> None:
    """Write a unit's work list: name, address, what to deliver and the texts to hand over, per day
    (a file only its owner may read; the export is in the audit log)."""
    if format_ not in ("pdf", "csv"):
        err_console.print(_("The format is pdf or csv, not {format}", format=format_))
        raise typer.Exit(EXIT_USAGE)
    with session() as s:
        head, rows = actionweeks.worklist(s, week, unit, actor=actor(), purpose=reason)
        data = worklists.as_csv(rows) if format_ == "csv" else worklists.as_pdf(head, unit, rows)
        try:
            worklists.write_private(out, data)
        except worklists.WorklistError as exc:
            fail(exc)
    if as_json:
        emit_json({"file": str(out), "format": format_, "unit": unit, "items": len(rows)})
        return
    console.print(_("Wrote the work list of {unit} ({n} items) to {file}", unit=unit, n=number(len(rows)),
                    file=str(out)), highlight=False)


@actionweek_app.command("record")
def actionweek_record(week: str = typer.Argument(..., help="The week's id or name."),
                      item: int = typer.Argument(..., help="The item's number on the work list."),
                      outcome: str = typer.Option(..., help="delivered, not_home, refused (a warning); search_done, "
                                                            "devices_seized, not_home (a search)."),
                      on: str = typer.Option(..., help="The day (YYYY-MM-DD)."),
                      officer: str = typer.Option(..., help="The officer."),
                      note: str | None = typer.Option(None, help="A note."),
                      referral_accepted: bool | None = typer.Option(None, "--referral-accepted/--referral-declined",
                                                                    help="The person took up Stop it Now!'s help."),
                      as_json: bool = typer.Option(False, "--json")) -> None:
    """Record what happened at the door; a delivered warning is delivered in the registry too."""
    when = day(on)
    with session() as s:
        doc = actionweeks.record_outcome(s, week, item, actor=actor(), outcome=outcome, on=when, officer=officer,
                                         note=note, referral_accepted=referral_accepted)
    if as_json:
        emit_json(doc)
        return
    console.print(_("Item {id}: {outcome} on {on}", id=item, outcome=_(outcome), on=when), highlight=False)


@actionweek_app.command("summary")
def actionweek_summary(week: str = typer.Argument(..., help="The week's id or name."),
                       as_json: bool = typer.Option(False, "--json")) -> None:
    """The week in numbers, with the closing sentence in Dutch and English."""
    with session() as s:
        doc = actionweeks.summary(s, week, actor=actor())
    if as_json:
        emit_json(doc)
        return
    console.print(doc["text"]["nl"], highlight=False)
    console.print(doc["text"]["en"], highlight=False)
