"""`tiptriage bank ...`, `tiptriage hash`, `tiptriage match` and `tiptriage media ...`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from tiptriage import hashtypes
from tiptriage.cliutil import EXIT_SOME_REFUSED, EXIT_USAGE, actor, console, emit_json, err_console, refusals, session
from tiptriage.i18n import _, message, number
from tiptriage.media import service
from tiptriage.media.banks import BankFormatError, category_map
from tiptriage.media.hashing import DIHEDRAL, hash_file
from tiptriage.media.lookup import lookup
from tiptriage.media.models import BANK_FORMATS, CATEGORIES

bank_app = typer.Typer(no_args_is_help=True, help="Hash banks: known material from VICS, CSV or plain lists.")
media_app = typer.Typer(no_args_is_help=True, help="Matching of stored files: re-match, classify, changes.")


@bank_app.command("import")
def import_(path: Path = typer.Argument(..., exists=True, dir_okay=False, help="The bank file."),
            name: str = typer.Option(..., "--name", help="The bank's name; an existing bank gets a new version."),
            fmt: str | None = typer.Option(None, "--format", help="vics | csv | lines (default: from the content)."),
            mapping: list[str] = typer.Option([], "--map", help="Source category → ours, e.g. --map 1=child_abuse "
                                              f"(ours: {', '.join(CATEGORIES)}, or ignore). Kept with the bank."),
            default_category: str | None = typer.Option(None, help="Category for entries that have none."),
            hash_type: str | None = typer.Option(None, help="For lists of 64-digit hashes: sha256 or pdq."),
            as_json: bool = typer.Option(False, "--json")) -> None:
    """Import a bank file as the bank's next version, then match every stored file again."""
    kind = hashtypes.named(hash_type) if hash_type is not None else None  # any spelling a bank file may use
    if fmt is not None and fmt not in BANK_FORMATS or hash_type is not None and kind is None:
        err_console.print(_("Unknown format or hash type."))
        raise typer.Exit(EXIT_USAGE)
    try:
        categories = category_map(mapping)
    except ValueError as exc:
        err_console.print(message(exc))
        raise typer.Exit(EXIT_USAGE) from None
    with session(create=True) as s:
        try:
            result = service.import_bank(s, path, name=name, fmt=fmt, category_map=categories,
                                         default_category=default_category, hash_type=kind and kind.name, actor=actor(),
                                         checkpoint=s.commit)
        except ValueError as exc:
            err_console.print(message(exc))
            raise typer.Exit(EXIT_USAGE) from None
        except BankFormatError as exc:
            _print_problems(exc, as_json)
            raise typer.Exit(EXIT_SOME_REFUSED) from None
    if as_json:
        emit_json(result.as_dict())
        return
    _print_import(result)


def _print_problems(exc: BankFormatError, as_json: bool) -> None:
    if as_json:
        emit_json({"refused": True, "problems": [p.as_dict() for p in exc.problems], "more": exc.more})
        return
    table = Table(title=_("Bank file refused; the bank is unchanged"))
    for column in (_("Line"), _("Record"), _("Field"), _("Reason")):
        table.add_column(column, overflow="fold")
    for p in exc.problems:
        table.add_row(str(p.line or ""), str(p.record or ""), p.field or "", p.said())
    console.print(table)
    if exc.more:
        console.print(_("… and {n} more problems.", n=number(exc.more)))


def _print_import(result: service.ImportResult) -> None:
    if not result.changed:
        console.print(_("Bank {name} is unchanged at version {version} ({n} entries).", name=result.bank,
                        version=result.version, n=number(result.entries)))
        return
    table = Table(title=_("Bank {name}, version {version}", name=result.bank, version=result.version),
                  show_header=False)
    for label, value in ((_("Entries"), result.entries), (_("Added"), result.added), (_("Removed"), result.removed),
                         (_("Re-categorised"), result.recategorised),
                         (_("Matched files affected"), result.matched_files_affected)):
        table.add_row(label, number(value))
    console.print(table)
    if result.retro is not None:
        _print_run(result.retro)


def _print_run(summary: service.RunSummary) -> None:
    if not summary.files:
        console.print(_("No stored file needed matching again."))
        return
    statuses = ", ".join(f"{_(k)} {number(v)}" for k, v in sorted(summary.by_status.items()))
    console.print(_("Matched {files} files: {statuses}.", files=number(summary.files), statuses=statuses))
    if summary.changes:
        console.print(_("{files} files changed status, in reports: {reports}", files=number(len(summary.changes)),
                        reports=", ".join(map(str, summary.changed_reports))))


@bank_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json")) -> None:
    """The banks, their current version and number of live entries."""
    with session() as s:
        rows = service.list_banks(s, actor=actor())
    if as_json:
        emit_json(rows)
        return
    table = Table(title=_("Banks"))
    for column in ("id", _("Name"), _("Format"), _("Version"), _("Entries")):
        table.add_column(column)
    for r in rows:
        table.add_row(str(r["id"]), r["name"], r["format"], str(r["version"]), number(r["entries"]))
    console.print(table)


@bank_app.command("show")
def show(name: str = typer.Argument(..., help="The bank's name."), as_json: bool = typer.Option(False, "--json")) -> None:
    """One bank: its settings (category map), live entries by type and category, its versions."""
    with session() as s:
        doc = service.bank_detail(s, name, actor=actor())
    if doc is None:
        err_console.print(_("No bank named {name}.", name=name))
        raise typer.Exit(EXIT_SOME_REFUSED)
    if as_json:
        emit_json(doc)
        return
    console.print(f"[bold]{doc['name']}[/bold]  {doc['format']}  v{doc['version']}")
    console.print(_("Category map") + ": " + ", ".join(f"{k} → {v}" for k, v in sorted(doc["category_map"].items())))
    entries = Table(title=_("Entries"))
    for column in (_("Hash type"), _("Category"), _("Count")):
        entries.add_column(column)
    for e in doc["entries"]:
        entries.add_row(e["hash_type"], _(e["category"]), number(e["count"]))
    console.print(entries)
    versions = Table(title=_("Versions"))
    for column in (_("Version"), _("Imported"), _("By"), _("Source"), _("Entries"), _("Added"), _("Removed"),
                   _("Re-categorised")):
        versions.add_column(column, overflow="fold")
    for v in doc["versions"]:
        versions.add_row(str(v["version"]), v["imported_at"][:16], v["imported_by"], v["source_name"],
                         number(v["entries"]), number(v["added"]), number(v["removed"]), number(v["recategorised"]))
    console.print(versions)


def _inputs(paths: list[Path]) -> list[Path]:
    """Files as given, and the files below folders (sorted)."""
    out: list[Path] = []
    for p in paths:
        out.extend(sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p])
    return out


def hash_(paths: list[Path] = typer.Argument(..., help="Files or folders."),
          as_json: bool = typer.Option(False, "--json")) -> None:
    """MD5, SHA-1, SHA-256 of each file, and PDQ with quality (and its dihedral set) for images.

    Files are read as a stream and never copied, cached or stored; paths are not logged.
    """
    docs, failed = [], False
    for path in _inputs(paths):
        try:
            digest = hash_file(path)
        except OSError as exc:
            docs.append({"input": str(path), "error": f"cannot read: {exc.strerror}"})
            failed = True
            continue
        doc = {"input": str(path), "kind": digest.kind, "size": digest.size, **digest.exact()}
        if digest.pdq is not None:
            doc |= {"pdq": digest.pdq.hash, "quality": digest.pdq.quality,
                    "dihedral": dict(zip(DIHEDRAL, digest.pdq.dihedral, strict=True))}
        if digest.frames is not None:
            doc["vpdq"] = [{"pdq": f.pdq, "quality": f.quality, "timestamp": f.timestamp} for f in digest.frames]
        if digest.notes:
            doc["notes"] = digest.notes
        docs.append(doc)
    if as_json:
        emit_json(docs)
    else:
        _print_hashes(docs)
    if failed:
        raise typer.Exit(EXIT_SOME_REFUSED)


def _print_hashes(docs: list[dict]) -> None:
    for d in docs:
        console.print(f"[bold]{d['input']}[/bold]")
        if "error" in d:
            console.print(f"  {d['error']}")
            continue
        for kind in hashtypes.EXACT:
            console.print(f"  {kind.name:8} {d[kind.name]}")
        if "pdq" in d:
            console.print(f"  {'pdq':8} {d['pdq']}  {_('quality')} {d['quality']}")
        if "vpdq" in d:
            console.print(f"  {'vpdq':8} {_('{n} frames', n=len(d['vpdq']))}")
        for note in d.get("notes", []):
            console.print(f"  [yellow]{note}[/yellow]")


def match(inputs: list[str] = typer.Argument(..., help="Files (hashed as a stream) or hashes (type:value or bare)."),
          as_json: bool = typer.Option(False, "--json")) -> None:
    """Look files or hashes up in the banks (exact, and PDQ with rotations and mirror images).

    Nothing is stored. Files are read as a stream, as by `tiptriage hash`.
    """
    with session() as s:
        docs = lookup(s, service.searcher(s), inputs)
    if as_json:
        emit_json(docs)
    else:
        _print_matches(docs)
    if any("error" in d for d in docs):
        raise typer.Exit(EXIT_SOME_REFUSED)


def _print_matches(docs: list[dict]) -> None:
    table = Table(title=_("Matches"))
    for column in (_("Input"), "PDQ", _("Bank"), _("Hash type"), _("Category"), _("Series"), _("Distance")):
        table.add_column(column, overflow="fold")
    for d in docs:
        pdq = "" if d.get("pdq") is None else f"{d['pdq'][:12]}… q{d['quality'] if d.get('quality') is not None else '?'}"
        if "error" in d:
            table.add_row(d["input"], "", "", "", d["error"], "", "")
        for m in d["matches"] or [{}]:
            table.add_row(d["input"], pdq, m.get("bank", _("no match")), m.get("hash_type", ""),
                          _(m["category"]) if m else "", m.get("series") or "", str(m.get("distance", "")))
        for note in d.get("notes", []):
            table.add_row(d["input"], "", "", "", f"[yellow]{note}[/yellow]", "", "")
    console.print(table)


@media_app.command("rematch")
def rematch(report: list[int] = typer.Option([], "--report", help="Only these reports."),
            bank: str | None = typer.Option(None, "--bank", help="Only the files that bank's latest version "
                                            "(or its versions after --since) can affect."),
            since: int | None = typer.Option(None, "--since", help="With --bank: its changes after this version."),
            as_json: bool = typer.Option(False, "--json")) -> None:
    """Match stored files against the banks again and list the reports whose files changed status.

    Without options every stored file is matched again: do this after changing the PDQ distance or
    quality settings. A bank import already matches again the files its changes can affect.
    """
    if report and bank is not None or since is not None and bank is None:
        err_console.print(_("Use --report or --bank (with --since), not both."))
        raise typer.Exit(EXIT_USAGE)
    with session() as s:
        if report:
            summary = service.match_files(s, service.report_file_ids(s, report), actor=actor(), trigger="manual",
                                          checkpoint=s.commit)
        elif bank is not None:
            with refusals():
                changes = service.bank_changes(s, bank, since)
            summary = service.retro_match(s, actor=actor(), reason="on demand", changes=changes, checkpoint=s.commit)
        else:
            summary = service.retro_match(s, actor=actor(), reason="on demand", checkpoint=s.commit)
    if as_json:
        emit_json(summary.as_dict())
        return
    _print_run(summary)


@media_app.command("classify")
def classify(file_id: int = typer.Argument(..., help="The file's id in the store."),
             category: str = typer.Argument(..., help=", ".join(CATEGORIES)),
             reason: str = typer.Option(..., help="Why (recorded in the audit log)."),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """Record an analyst's category for a file; its status follows at once."""
    with session() as s:
        with refusals():
            summary = service.classify_file(s, file_id, category, actor=actor(), reason=reason)
            status = service.file_status(s, [file_id]).get(file_id, {})
    if as_json:
        emit_json({"file_id": file_id, **status, "run": summary.as_dict()})
        return
    console.print(_("File {id}: {status} ({reason})", id=file_id, status=_(status.get("status") or "?"),
                    reason=status.get("reason", "")))


@media_app.command("changes")
def changes(all_: bool = typer.Option(False, "--all", help="Also changes that triage already took up."),
            limit: int = typer.Option(200, min=1, max=100000), as_json: bool = typer.Option(False, "--json")) -> None:
    """Files whose status changed after a bank changed: the re-triage queue, newest first."""
    with session() as s:
        rows = [{"id": c.id, "at": c.at.isoformat(), "run_id": c.run_id, "report_id": c.report_id,
                 "file_id": c.file_id, "old_status": c.old_status, "new_status": c.new_status,
                 "old_category": c.old_category, "new_category": c.new_category,
                 "retriaged_at": c.retriaged_at.isoformat() if c.retriaged_at else None}
                for c in service.status_changes(s, pending_only=not all_, limit=limit)]
    if as_json:
        emit_json(rows)
        return
    table = Table(title=_("Status changes"))
    for column in (_("When"), _("Report"), _("File"), _("Was"), _("Is")):
        table.add_column(column)
    for r in rows:
        table.add_row(r["at"][:16], str(r["report_id"]), str(r["file_id"]), _(r["old_status"]), _(r["new_status"]))
    console.print(table)
