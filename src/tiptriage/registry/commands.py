"""`tiptriage warnings ...`, `tiptriage alerts [ack]` and `tiptriage investigations ...`."""

from __future__ import annotations

import typer
from rich.table import Table

from tiptriage.cliutil import EXIT_SOME_REFUSED, EXIT_USAGE, actor, console, day, emit_json, err_console, session
from tiptriage.i18n import N_, _, message
from tiptriage import flows
from tiptriage.registry import service as registry
from tiptriage.registry import views
from tiptriage.registry.models import WARNING_STATES
from tiptriage.triage.service import DecisionError

warnings_app = typer.Typer(no_args_is_help=True, help="Official police warnings: propose, approve, deliver, revoke.")
alerts_app = typer.Typer(help="Alerts for units: re-reports after a warning, subjects another unit works.")
investigations_app = typer.Typer(no_args_is_help=True, help="Investigations units work (for de-confliction).")

REFUSED = (registry.RegistryError, DecisionError, LookupError)


def _refuse(exc: Exception | str) -> None:
    err_console.print(message(exc) if isinstance(exc, Exception) else exc, highlight=False)
    raise typer.Exit(EXIT_SOME_REFUSED)


def _print_warning(doc: dict, as_json: bool) -> None:
    if as_json:
        emit_json(doc)
        return
    console.print(_("Warning {id}: {state}, unit {unit}", id=doc["id"], state=_(doc["state"]), unit=doc["unit"]))
    for key in (N_("proposed_by"), N_("approved_by"), N_("delivered_on"), N_("delivered_by"), N_("referral_offered"),
                N_("referral_accepted"), N_("expires_on"), N_("revoked_by"), N_("revoke_reason")):
        if doc.get(key) is not None:
            value = doc[key]
            console.print(f"  {_(key)}: {(_('yes') if value else _('no')) if isinstance(value, bool) else value}")
    for r in doc["reports"]:
        console.print("  " + _("report {id} ({source} {external_id})", id=r["report_id"], source=r["source"],
                               external_id=r["external_id"]))
    for e in doc.get("history", []):
        console.print(f"  {e['at']:%Y-%m-%d %H:%M} {_(e['state'])} — {e['actor']}")
    _print_earlier(doc.get("possible_earlier_warnings") or [])


def _print_earlier(found: list[dict]) -> None:
    """Earlier warnings that may concern the same person, each with what it shares with this one."""
    if not found:
        return
    console.print("[bold]" + _("Possible earlier warnings: check that this is not the same person") + "[/bold]")
    for d in found:
        shared = "; ".join(f"{_(e['field'])} {e['value']}" + (f" ~ {e['earlier_value']}"
                                                              if e["earlier_value"] != e["value"] else "")
                           for e in d["evidence"])
        console.print("  " + _("warning {id} ({state}, unit {unit}): {shared}", id=d["warning_id"],
                               state=_(d["state"]), unit=d["unit"], shared=shared), markup=False, highlight=False)


@warnings_app.command("list")
def warnings_list(state: str | None = typer.Option(None, help=f"{', '.join(WARNING_STATES)} or expired."),
                  unit: str | None = typer.Option(None), as_json: bool = typer.Option(False, "--json")) -> None:
    """Warnings, newest first."""
    if state is not None and state not in (*WARNING_STATES, "expired"):
        err_console.print(_("Unknown state."))
        raise typer.Exit(EXIT_USAGE)
    with session() as s:
        docs = views.view_warnings(s, actor=actor(), state=state, unit=unit)
    if as_json:
        emit_json(docs)
        return
    table = Table(title=_("Warnings"))
    for column in (_("Warning"), _("State"), _("Unit"), _("Reports"), _("Proposed by"), _("Approved by"),
                   _("Delivered"), _("Expires")):
        table.add_column(column)
    for d in docs:
        table.add_row(str(d["id"]), _(d["state"]), d["unit"], ", ".join(str(r["report_id"]) for r in d["reports"]),
                      d["proposed_by"], d["approved_by"] or "", str(d["delivered_on"] or ""), str(d["expires_on"] or ""))
    console.print(table)


@warnings_app.command("show")
def warnings_show(warning_id: int = typer.Argument(...), as_json: bool = typer.Option(False, "--json")) -> None:
    """One warning with its reports and its full history."""
    with session() as s:
        try:
            doc = views.view_warning(s, warning_id, actor=actor(), purpose="show", history=True)
        except LookupError:
            err_console.print(_("No warning with id {id}.", id=warning_id))
            raise typer.Exit(EXIT_SOME_REFUSED) from None
    _print_warning(doc, as_json)


@warnings_app.command("propose")
def warnings_propose(report_id: int = typer.Argument(...),
                     justification: str = typer.Option(..., "--justification", "-j"),
                     unit: str | None = typer.Option(None), as_json: bool = typer.Option(False, "--json")) -> None:
    """Propose a warning for a report (a decision WARNING; the hard rules are checked)."""
    with session() as s:
        try:
            warning = flows.propose_warning(s, report_id, actor=actor(), justification=justification, unit=unit)
        except REFUSED as exc:
            _refuse(exc)
        doc = views.view_warning(s, warning.id, actor=actor(), purpose="propose")
    _print_warning(doc, as_json)


@warnings_app.command("approve")
def warnings_approve(warning_id: int = typer.Argument(...), note: str | None = typer.Option(None),
                     acknowledge_earlier: str | None = typer.Option(
                         None, "--acknowledge-earlier", metavar="REASON",
                         help="Why the warning is right although possible earlier warnings were found (audit log)."),
                     as_json: bool = typer.Option(False, "--json")) -> None:
    """Approve a proposed warning (four eyes: not by the person who proposed it). When earlier
    warnings may concern the same person, only with --acknowledge-earlier REASON."""
    with session() as s:
        try:
            warning, found, spread = flows.approve_warning(s, warning_id, actor=actor(), note=note,
                                                           acknowledgement=acknowledge_earlier)
        except REFUSED as exc:
            _refuse(exc)
        doc = registry.warning_doc(s, warning) | {"possible_earlier_warnings": found, "possible_distribution": spread}
    _print_warning(doc, as_json)


@warnings_app.command("deliver")
def warnings_deliver(warning_id: int = typer.Argument(...),
                     on: str = typer.Option(..., "--date", help="Delivery date, YYYY-MM-DD."),
                     officer: str = typer.Option(..., help="The officer who delivered it."),
                     unit: str | None = typer.Option(None, help="The delivering unit (default: the warning's)."),
                     referral_offered: bool = typer.Option(True, "--referral-offered/--no-referral-offered"),
                     referral_accepted: bool | None = typer.Option(None, "--referral-accepted/--referral-declined"),
                     as_json: bool = typer.Option(False, "--json")) -> None:
    """Record delivery of an approved warning; the subject's reports are triaged again."""
    delivered_on = day(on)
    with session() as s:
        try:
            warning = flows.deliver_warning(s, warning_id, actor=actor(), on=delivered_on, officer=officer, unit=unit,
                                            referral_offered=referral_offered, referral_accepted=referral_accepted)
        except REFUSED as exc:
            _refuse(exc)
        unidentified = flows.unidentified_reports(s, warning.id)
        _print_warning(registry.warning_doc(s, warning) | {"unidentified_reports": unidentified}, as_json)
    if unidentified and not as_json:  # see flows.unidentified_reports
        console.print(_("Record whom you warned (identity document checked): tiptriage identify {report} "
                        "--given-name ... --family-name ... --birth-date ... --source investigation "
                        "--reference 'warning {id}' --note ...", report=unidentified[0], id=warning.id))


@warnings_app.command("revoke")
def warnings_revoke(warning_id: int = typer.Argument(...), reason: str = typer.Option(..., "--reason"),
                    as_json: bool = typer.Option(False, "--json")) -> None:
    """Revoke a warning (e.g. the wrong person); the subject's reports are triaged again."""
    with session() as s:
        try:
            warning = flows.revoke_warning(s, warning_id, actor=actor(), reason=reason)
        except REFUSED as exc:
            _refuse(exc)
        _print_warning(registry.warning_doc(s, warning), as_json)


@alerts_app.callback(invoke_without_command=True)
def alerts(ctx: typer.Context, unit: str | None = typer.Option(None, help="Only alerts for this unit."),
           all_: bool = typer.Option(False, "--all", help="Also acknowledged alerts."),
           as_json: bool = typer.Option(False, "--json")) -> None:
    """Open alerts, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    with session() as s:
        docs = views.view_alerts(s, actor=actor(), unit=unit, open_only=not all_)
    if as_json:
        emit_json(docs)
        return
    table = Table(title=_("Alerts"))
    for column in (_("Alert"), _("Kind"), _("Unit"), _("Report"), _("Other unit"), _("Details"), _("Raised")):
        table.add_column(column, overflow="fold")
    for d in docs:
        table.add_row(str(d["id"]), _(d["kind"]), d["unit"], f"{d['report_id']} ({d.get('external_id', '')})",
                      d["other_unit"] or "", ", ".join(f"{k}={v}" for k, v in d["details"].items()),
                      f"{d['raised_at']:%Y-%m-%d %H:%M}")
    console.print(table)


@alerts_app.command("ack")
def alerts_ack(alert_id: int = typer.Argument(...)) -> None:
    """Acknowledge an alert: the unit has seen it."""
    with session() as s:
        try:
            registry.acknowledge(s, alert_id, actor=actor())
        except LookupError as exc:
            _refuse(exc)
    console.print(_("Alert {id} acknowledged.", id=alert_id))


@investigations_app.command("list")
def investigations_list(all_: bool = typer.Option(False, "--all", help="Also closed ones."),
                        unit: str | None = typer.Option(None), as_json: bool = typer.Option(False, "--json")) -> None:
    """Investigations units work on (opened by a decision for a search or an urgent case)."""
    with session() as s:
        docs = views.view_investigations(s, actor=actor(), open_only=not all_, unit=unit)
    if as_json:
        emit_json(docs)
        return
    table = Table(title=_("Investigations"))
    for column in (_("Investigation"), _("Report"), _("Unit"), _("Opened"), _("Closed")):
        table.add_column(column)
    for d in docs:
        table.add_row(str(d["id"]), str(d["report_id"]), d["unit"], f"{d['opened_at']:%Y-%m-%d}",
                      f"{d['closed_at']:%Y-%m-%d}" if d["closed_at"] else "")
    console.print(table)


@investigations_app.command("close")
def investigations_close(investigation_id: int = typer.Argument(...), reason: str = typer.Option(..., "--reason")) -> None:
    """Close an investigation; the subject's reports are triaged again."""
    with session() as s:
        try:
            flows.close_investigation(s, investigation_id, actor=actor(), reason=reason)
        except REFUSED as exc:
            _refuse(exc)
    console.print(_("Investigation {id} closed.", id=investigation_id))


def history(subject_id: int = typer.Argument(...), as_json: bool = typer.Option(False, "--json")) -> None:
    """A subject's reports with their recommendations, and its warnings, investigations and alerts."""
    with session() as s:
        try:
            doc = flows.subject_history(s, subject_id, actor=actor())
        except LookupError:
            err_console.print(_("No subject with id {id}.", id=subject_id))
            raise typer.Exit(EXIT_SOME_REFUSED) from None
    if as_json:
        emit_json(doc)
        return
    console.print(_("Subject {id}", id=subject_id))
    for r in doc["reports"]:
        when = f"{r['incident_at']:%Y-%m-%d}" if r["incident_at"] else "?"
        shown = _("report {id} ({source} {external_id})", id=r["report_id"], source=r["source"],
                  external_id=r["external_id"])
        console.print(f"  {when} {shown}: {_(r['outcome']) if r['outcome'] else '-'} {' '.join(r['flags'])}")
    for w in doc["warnings"]:
        console.print("  " + _("Warning {id}: {state}, unit {unit}", id=w["id"], state=_(w["state"]), unit=w["unit"]))
    for a in doc["alerts"]:
        console.print(f"  {_('Alert')} {a['id']}: {_(a['kind'])} → {a['unit']}")
