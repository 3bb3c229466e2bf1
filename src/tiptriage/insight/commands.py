"""`tiptriage stats` and `tiptriage evaluate`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from tiptriage.cliutil import EXIT_USAGE, actor, console, day, emit_json, err_console, session
from tiptriage.i18n import _, number
from tiptriage.insight import charts
from tiptriage.insight.evaluation import evaluate as evaluation
from tiptriage.insight.scope import p_value, suppressed
from tiptriage.insight.stats import statistics

CHART_HELP = "Also write the chart to this file (.png or .svg)."


def _chart_path(chart: Path | None) -> Path | None:
    if chart is not None and chart.suffix.lower() not in (".png", ".svg"):
        err_console.print(_("{path}: a chart is written as .png or .svg", path=chart))
        raise typer.Exit(EXIT_USAGE)
    return chart


def _n(value) -> str:
    if value is None:
        return "–"
    return value if suppressed(value) else number(value)


def stats(as_json: bool = typer.Option(False, "--json"),
          chart: Path | None = typer.Option(None, help=CHART_HELP),
          unit: str | None = typer.Option(None, help="Only this unit."),
          since: str | None = typer.Option(None, help="Reports received on or after this day (YYYY-MM-DD)."),
          until: str | None = typer.Option(None, help="Reports received on or before this day (YYYY-MM-DD).")) -> None:
    """The caseload in figures: reports per month by source, outcomes, backlog, time to decision, youth share, per unit.

    Counts below the minimum cell size (TIPTRIAGE_STATS_MIN_CELL) are shown as <N: these figures leave the unit.
    """
    chart = _chart_path(chart)
    with session() as s:
        doc = statistics(s, actor=actor(), unit=unit, since=since and day(since), until=until and day(until),
                         purpose="cli")
    if chart is not None:
        charts.write(charts.stats_chart(doc), chart)
    if as_json:
        emit_json(doc)
        return
    _print_stats(doc)
    if chart is not None:
        console.print(_("Chart written to {path}.", path=chart))


def _print_stats(doc: dict) -> None:
    console.print(_("Reports: {n}; warnings delivered: {w}; counts below {m} shown as <{m}.", n=_n(doc["reports"]),
                    w=_n(doc["warnings_delivered"]), m=doc["min_cell"]))
    table = Table(title=_("Outcomes"))
    for column in (_("Outcome"), _("Reports"), _("Decided")):
        table.add_column(column, justify="right")
    for o in doc["outcomes"]:
        table.add_row(_(o["outcome"]), _n(o["reports"]), _n(o["decided"]))
    console.print(table)
    b, d, a = doc["backlog"], doc["decision_days"], doc["age_bands"]
    console.print(_("Backlog: {n} open, median waiting {days} days; ", n=_n(b["open"]), days=_n(b["median_age_days"]))
                  + ", ".join(f"{_(x['band'])} {_n(x['reports'])}" for x in b["ages"]))
    console.print(_("Report to decision: {n} decided, median {median} days, p90 {p90} days.", n=_n(d["decided"]),
                    median=_n(d["median"]), p90=_n(d["p90"])))
    share = a["youth_share"]
    console.print(_("Age at the incident: ") + ", ".join(f"{_(x['band'])} {_n(x['reports'])}" for x in a["bands"])
                  + "; " + _("share under 18: {share}", share=f"{share:.0%}" if share is not None else "–"))
    months = Table(title=_("Reports per month by source"))
    for column in (_("Month received"), _("Source"), _("Reports")):
        months.add_column(column)
    for m in doc["per_month"]:
        months.add_row(m["month"], m["source"], _n(m["reports"]))
    console.print(months)
    units = Table(title=_("Per unit"))
    for column in (_("Unit"), _("Reports"), _("Open"), _("Median waiting (days)"), _("Median to decision (days)"),
                   _("Share under 18"), _("Warnings delivered")):
        units.add_column(column, justify="right")
    for u in doc["per_unit"]:
        share = u["youth_share"]
        units.add_row(u["unit"], _n(u["reports"]), _n(u["open"]), _n(u["median_backlog_days"]),
                      _n(u["median_decision_days"]), f"{share:.0%}" if share is not None else "–",
                      _n(u["warnings_delivered"]))
    console.print(units)


def evaluate(as_json: bool = typer.Option(False, "--json"),
             chart: Path | None = typer.Option(None, help=CHART_HELP),
             unit: str | None = typer.Option(None, help="Only this unit."),
             until: str | None = typer.Option(None, help="End of follow-up (YYYY-MM-DD; default: the newest incident).")
             ) -> None:
    """Does warning work? Time from a warning, a search or no action to the next report of the subject (Kaplan–Meier).

    Read the caveats it prints: the groups are not chosen by chance.
    """
    chart = _chart_path(chart)
    with session() as s:
        doc = evaluation(s, actor=actor(), unit=unit, until=until and day(until), purpose="cli")
    if chart is not None:
        charts.write(charts.evaluation_chart(doc), chart)
    if as_json:
        emit_json(doc)
        return
    table = Table(title=_("Time to the next report, until {until}", until=doc["until"]))
    for column in (_("Group"), _("Subjects"), _("Reported again"), _("Person-years"), _("Per year"),
                   _("95% interval"), _("Within a year")):
        table.add_column(column, justify="right")
    for g in doc["groups"]:
        ci, one = g["rate_ci"], g.get("one_year")
        table.add_row(_(g["group"]), _n(g["subjects"]), _n(g["events"]), _n(g["person_years"]),
                      _n(g["rate_per_year"]), f"{number(round(ci[0], 3))}–{number(round(ci[1], 3))}" if ci else "–",
                      f"{one['rereported']:.0%}" if one else "–")
    console.print(table)
    rank = doc["logrank"]
    if rank:
        console.print(_("Log-rank test ({groups}): chi² {stat} with {df} df, p {p}.",
                        groups=", ".join(_(g) for g in rank["groups"]), stat=number(rank["statistic"]),
                        df=rank["df"], p=p_value(rank["p_value"])))
    for caveat in doc["caveats"]:
        console.print("• " + _(caveat))
    if chart is not None:
        console.print(_("Chart written to {path}.", path=chart))
