"""`tiptriage audit ...`"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from tiptriage import flows
from tiptriage.audit import service
from tiptriage.cliutil import EXIT_SOME_REFUSED, actor, console, emit_json, err_console, refusals, session
from tiptriage.i18n import _

app = typer.Typer(no_args_is_help=True, help="The hash-chained audit log: verify, checkpoint, read.")


@app.command()
def verify(checkpoint: Path | None = typer.Option(None, "--checkpoint", help="A checkpoint file "
                                                  "(`audit checkpoint --out`): every head it recorded must "
                                                  "still be in the chain at its sequence number."),
           as_json: bool = typer.Option(False, "--json", help="Print one JSON document.")) -> None:
    """Check the whole chain; exit 1 and name the first broken event if anything was altered."""
    with refusals():
        marks = service.read_checkpoints(checkpoint) if checkpoint else []
    with session() as s:
        result = service.verify(s, marks)
    if as_json:
        emit_json(_verification(result))
    elif result.ok:
        console.print(_("Audit log intact: {n} events verified.", n=result.events))
        _say_keying(result)
        if checkpoint:
            console.print(_("Every checkpoint of {path} is in the chain ({n}).", n=result.checkpoints,
                            path=str(checkpoint)))
    else:
        err_console.print(_("Audit log BROKEN at event {seq}: {problem}", seq=result.broken_seq,
                            problem=result.said()), style="bold red")
    if not result.ok:
        raise typer.Exit(EXIT_SOME_REFUSED)


@app.command("checkpoint")
def checkpoint(out: Path = typer.Option(..., "--out", help="The checkpoint file (JSON lines, appended, "
                                        "owner-only); keep a copy where the store's administrators cannot write."),
               as_json: bool = typer.Option(False, "--json", help="Print one JSON document.")) -> None:
    """Verify the chain, then append its head (sequence number, hash, time) to a checkpoint file."""
    with refusals():
        handle = service.open_checkpoints(out)
    with handle:
        with session() as s:
            result, mark = flows.audit_checkpoint(s, actor=actor())
        if mark is None:
            if as_json:
                emit_json(_verification(result))
            err_console.print(_("Audit log BROKEN at event {seq}: {problem}", seq=result.broken_seq,
                                problem=result.said()), style="bold red")
            raise typer.Exit(EXIT_SOME_REFUSED)
        service.append_checkpoint(handle, mark)  # after the commit: never a head the store does not have
    if as_json:
        emit_json(mark.model_dump(mode="json") | {"file": str(out)})
    else:
        console.print(_("Checkpoint of event {seq} appended to {path}.", seq=mark.seq, path=str(out)))


def _verification(result: service.Verification) -> dict:
    return {"ok": result.ok, "events": result.events, "broken_seq": result.broken_seq, "problem": result.problem,
            "unkeyed_events": result.unkeyed, "keyed_from": result.keyed_from, "key_id": result.key_id,
            "checkpoints": result.checkpoints}


def _say_keying(result: service.Verification) -> None:
    if result.unkeyed:
        console.print(_("Events 1 to {last} were written before the store had a key (plain SHA-256); "
                        "from event {first} on every event is keyed.", last=result.unkeyed, first=result.keyed_from))
    if result.events > result.unkeyed:
        console.print(_("Keyed events: {n} (HMAC-SHA256, key {key}).", n=result.events - result.unkeyed,
                        key=result.key_id))


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
