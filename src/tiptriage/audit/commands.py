"""`tiptriage audit ...`"""

from __future__ import annotations

import typer
from rich.table import Table

from tiptriage.audit import service
from tiptriage.cliutil import EXIT_SOME_REFUSED, console, emit_json, err_console, session
from tiptriage.i18n import _

app = typer.Typer(no_args_is_help=True, help="The hash-chained audit log.")


@app.command()
def verify(as_json: bool = typer.Option(False, "--json", help="Print one JSON document.")) -> None:
    """Check the whole chain; exit 1 and name the first broken event if anything was altered."""
    with session() as s:
        result = service.verify(s)
    if as_json:
        emit_json({"ok": result.ok, "events": result.events, "broken_seq": result.broken_seq,
                   "problem": result.problem})
    elif result.ok:
        console.print(_("Audit log intact: {n} events verified.", n=result.events))
    else:
        err_console.print(_("Audit log BROKEN at event {seq}: {problem}", seq=result.broken_seq,
                            problem=result.problem), style="bold red")
    if not result.ok:
        raise typer.Exit(EXIT_SOME_REFUSED)


@app.command("log")
def log(limit: int = typer.Option(50, min=1, max=10000), action: str | None = None,
        as_json: bool = typer.Option(False, "--json")) -> None:
    """The newest audit events."""
    with session() as s:
        events = service.events(s, limit=limit, action=action)
    rows = [{"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action, "entity": e.entity,
             "entity_ids": e.entity_ids, "reason": e.reason} for e in events]
    if as_json:
        emit_json(rows)
        return
    table = Table("#", _("When"), _("Who"), _("Action"), _("Entity"), _("Ids"), _("Reason"))
    for r in rows:
        ids = r["entity_ids"]
        shown = ", ".join(map(str, ids[:5])) + (f" (+{len(ids) - 5})" if len(ids) > 5 else "")
        table.add_row(str(r["seq"]), r["at"][:19], r["actor"], r["action"], r["entity"], shown, r["reason"] or "")
    console.print(table)
