"""`tiptriage ingest` and `tiptriage reports ...`"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.markup import escape
from rich.table import Table

from tiptriage.cliutil import EXIT_SOME_REFUSED, EXIT_USAGE, actor, console, emit_json, err_console, session
from tiptriage.i18n import N_, _, message, number
from tiptriage import dossier, pipeline, safetext
from tiptriage.intake import discovery, documents
from tiptriage.keyfiles import private_folder, private_open

reports_app = typer.Typer(no_args_is_help=True, help="Stored reports.")


def ingest(paths: list[Path] = typer.Argument(..., help="Report files or folders (searched recursively)."),
           as_json: bool = typer.Option(False, "--json", help="Print one JSON summary instead of tables.")) -> None:
    """Read report files (CyberTipline XML, tiptriage JSON, CSV) into the store.

    Exit status: 0 all stored (or already there), 1 some input refused, 2 usage error.
    """
    missing = [p for p in paths if not p.exists()]
    if missing:
        err_console.print(_("No such path: {path}", path=missing[0]))
        raise typer.Exit(EXIT_USAGE)
    files = discovery.find_inputs(paths)
    with session(create=True) as s:
        if as_json:
            result = pipeline.process(s, files, actor=actor())
        else:
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          console=err_console, transient=True) as progress:
                task = progress.add_task(_("Reading report files"), total=len(files))
                result = pipeline.process(s, files, actor=actor(), on_file=lambda _p: progress.advance(task))
    if as_json:
        emit_json(result.as_dict())
    else:
        _print_summary(result)
    if result.intake.rejected:
        raise typer.Exit(EXIT_SOME_REFUSED)


def shown(value: object) -> str:
    """Received text fit for the terminal: bidi controls and line breaks as visible codes
    (safetext), and no Rich markup (a name "[red]x" is printed as it is)."""
    return escape(safetext.shown(value))


def _print_summary(result: pipeline.PipelineSummary) -> None:
    summary = result.intake
    table = Table(title=_("Ingest summary"), show_header=False)
    for label, value in ((_("Files read"), summary.files), (_("Stored"), summary.stored),
                         (_("New versions"), summary.versions), (_("Duplicates"), summary.duplicates),
                         (_("Rejected"), summary.rejected)):
        table.add_row(label, number(value))
    for status, n in sorted(result.matching.items()):
        table.add_row(_("Files {status}", status=_(status)), number(n))
    for decision, n in sorted(result.linking.items()):
        table.add_row(_("Persons {decision}", decision=_(decision)), number(n))
    for outcome, n in sorted(result.triage.items()):
        table.add_row(_("Recommended {outcome}", outcome=_(outcome)), number(n))
    if result.resumed:
        table.add_row(_("Reports an earlier, stopped run left, finished now"), number(result.resumed))
    if result.retriaged:
        table.add_row(_("Earlier reports triaged again (subjects joined)"), number(result.retriaged))
    if result.alerts:
        table.add_row(_("Alerts raised"), number(result.alerts))
    console.print(table)
    if summary.errors:
        errors = Table(title=_("Rejected input"))
        for column in (_("File"), _("Record"), _("Report"), _("Field"), _("Reason")):
            errors.add_column(column, overflow="fold")
        for e in summary.errors[:200]:
            errors.add_row(*(shown(x) for x in (e["file"], str(e["record"] or ""), e["report_id"] or "",
                                                e["field"] or "", e.get("said") or e["reason"])))
        console.print(errors)


@reports_app.command("list")
def list_(limit: int = typer.Option(50, min=1, max=10000), offset: int = typer.Option(0, min=0),
          source: str | None = None, as_json: bool = typer.Option(False, "--json")) -> None:
    """The newest reports (id, source, external id, version, incident time, counts)."""
    with session() as s:
        reports = documents.list_reports(s, limit=limit, offset=offset, source=source)
        total = documents.count_reports(s)
        rows = [{"id": r.id, "source": r.source, "external_id": r.external_id, "version": r.version,
                 "incident_type": r.incident_type, "incident_at": r.incident_at.isoformat() if r.incident_at else None,
                 "persons": len(r.persons), "files": len(r.files), "ingested_at": r.ingested_at.isoformat()}
                for r in reports]
    if as_json:
        emit_json({"total": total, "reports": rows})
        return
    table = Table(title=_("Reports"))
    for column in ("id", _("Source"), _("External id"), "v", _("Incident"), _("Persons"), _("Files")):
        table.add_column(column, no_wrap=column in ("id", _("Incident")))
    for r in rows:
        table.add_row(str(r["id"]), shown(r["source"]), shown(r["external_id"]), str(r["version"]),
                      (r["incident_at"] or "")[:10], str(r["persons"]), str(r["files"]))
    console.print(table)
    console.print(_("{total} reports in the store.", total=number(total)))


@reports_app.command("show")
def show(report_id: int = typer.Argument(..., help="The report's id in the store."),
         reason: str | None = typer.Option(None, help="Why you look (recorded in the audit log)."),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """Everything known about one report. The access is recorded in the audit log."""
    with session() as s:
        doc = dossier.report_dossier(s, report_id, actor=actor(), reason=reason)
    if doc is None:
        err_console.print(_("No report with id {id}.", id=report_id))
        raise typer.Exit(EXIT_SOME_REFUSED)
    if as_json:
        emit_json(doc)
        return
    console.print(f"[bold]{_('Report')} {doc['id']}[/bold]  {shown(doc['source'])} {shown(doc['external_id'])} "
                  f"v{doc['version']}  {shown(doc['incident_type'] or '')}  {doc['incident_at'] or ''}")
    for flag in doc.get("intake_flags") or ():
        console.print(f"[bold yellow]{escape(_('Note'))}:[/bold yellow] {shown(_flag(flag))}")
    if doc["escalation"]:
        console.print(f"[bold red]{escape(_('Escalated by the platform'))}:[/bold red] {shown(doc['escalation'])}")
    how = ", ".join(x for x in [doc["platform"] or ""] + [_(i["kind"]) for i in doc["incidents"]] if x)
    if how:
        console.print(shown(f"{_('Where')}: {how}"))
    persons = Table(title=_("Persons in report"))
    for column in ("ref", _("Role"), _("Name"), _("Born"), _("Identifiers"), "IP", _("Subject")):
        persons.add_column(column, overflow="fold")
    for p in doc["persons"]:
        name = " ".join(x for x in (p["given_name"], p["family_name"]) if x)
        ids = "; ".join(f"{_(i['kind'])}={i['value']}" for i in p["identifiers"])
        ips = "; ".join(e["ip"] for e in p["ip_events"])
        link = p["links"][-1] if p["links"] else None
        subject = "" if p["subject_id"] is None else f"{p['subject_id']}" + (
            f" ({_(link['decision'])}" + (f", {link['match_weight']:.1f}" if link["match_weight"] is not None else "")
            + ")" if link else "")
        persons.add_row(shown(p["ref"]), _(p["role"]), shown(name), p["date_of_birth"] or str(p["age"] or ""),
                        shown(ids), shown(ips), subject)
    console.print(persons)
    files = Table(title=_("Files"))
    for column in ("ref", _("Action"), _("Distribution"), _("Classification"), _("Match"), _("Hashes")):
        files.add_column(column, overflow="fold")
    for f in doc["files"]:
        match = f["match"]
        banks = ", ".join(sorted({f"{m['bank']} ({_(m['category'])})" for m in match["matches"]}))
        spread = f["distribution"]
        files.add_row(shown(f["ref"]), _(f["action"]) if f["action"] else "",
                      f"{_(spread['verdict'])} ({_(spread['basis'])})" if spread["verdict"] else "",
                      shown(f["classification"] or ""),
                      " ".join(x for x in (_(match["status"]) if match["status"] else "", banks) if x),
                      shown(" ".join(f"{h['hash_type']}:{h['value'][:12]}…" for h in f["hashes"])))
    console.print(files)
    _print_recommendation(doc["triage"])


def _print_recommendation(triage: dict | None) -> None:
    if triage is None:
        return
    rec = triage["recommendation"]
    console.print(f"[bold]{_('Recommendation')}: {_(rec['outcome'])}[/bold]  {_('priority')} {rec['priority']}  "
                  f"({rec['policy']['id']} {rec['policy']['version']}, {_('status')}: {_(triage['status'])})")
    for rule in rec["rules"]:
        line = f"  • [{rule['id']}] {rule['text']}" + (f" — {rule['basis']}" if rule["basis"] else "")
        console.print(escape(line))  # rule ids in brackets are not Rich markup
    if triage["analyst_records"]:
        console.print(f"[bold]{_('Recorded by analysts')}[/bold]")
    for r in triage["analyst_records"]:
        console.print(escape(f"  • {str(r['at'])[:16]} {r['actor']}: {_analyst_record(r)} — {r['note']}"))


FLAG_FIELDS = (N_("source"), N_("external_id"), N_("identifier"))


def _flag(flag: list) -> str:
    """What intake noticed (reports.intake_flags), said for the analyst."""
    kind, field, received, read = flag
    if kind == "lookalike" and field == "identifier":
        return _("the identifier {received} mixes in look-alike letters of another script (as if {read}); "
                 "kept as received", received=received, read=read)
    if kind == "lookalike":
        return _("the {field} {received} mixes in look-alike letters of another script; read as {read} "
                 "(the raw document keeps what was received)", field=_(field), received=received, read=read)
    return " ".join(str(x) for x in flag)


def _analyst_record(r: dict) -> str:
    if r["kind"] == "birth_date":
        return _("date of birth {date} ({source})", date=r["date_of_birth"], source=r["source"])
    if r["kind"] == "identification":
        facts = ", ".join(x for x in (r["name"], r["date_of_birth"], r["address"]) if x)
        return _("identified as {person} ({source} {reference})", person=facts, source=r["source"],
                 reference=r["reference"])
    return f"{_(r['item'])}: {_('yes') if r['value'] else _('no')}"


@reports_app.command("raw")
def raw(report_id: int = typer.Argument(..., help="The report's id in the store."),
        out_dir: Path = typer.Argument(..., help="Folder to write the documents to (made if missing)."),
        reason: str | None = typer.Option(None, help="Why you need them (recorded in the audit log)."),
        as_json: bool = typer.Option(False, "--json")) -> None:
    """Write the documents a report arrived in, byte for byte, each checked against its SHA-256.

    Files are named REPORT-SEQ-NAME and never overwrite one that exists. The access is audited.
    """
    with session() as s:
        try:
            parts = documents.read_raw(s, report_id, actor=actor(), reason=reason)
        except ValueError as exc:
            err_console.print(_("Stored documents do not match their SHA-256: {error}", error=message(exc)))
            raise typer.Exit(EXIT_SOME_REFUSED) from None
    if parts is None:
        err_console.print(_("No report with id {id}.", id=report_id))
        raise typer.Exit(EXIT_SOME_REFUSED)
    targets = [out_dir / f"{report_id}-{p['seq']}-{Path(p['name']).name}" for p in parts]
    existing = [t for t in targets if t.exists()]
    if existing:
        err_console.print(_("Not overwritten: {path} exists.", path=existing[0]))
        raise typer.Exit(EXIT_SOME_REFUSED)
    private_folder(out_dir)
    for target, part in zip(targets, parts, strict=True):
        with private_open(target, exclusive=True) as fh:  # personal data: the owner's only
            fh.write(part["data"])
    written = [{"path": str(t), "sha256": p["sha256"], "size": len(p["data"])} for t, p in zip(targets, parts, strict=True)]
    if as_json:
        emit_json(written)
        return
    table = Table(title=_("Documents of report {id}", id=report_id))
    for column in (_("File"), "SHA-256", _("Bytes")):
        table.add_column(column, overflow="fold")
    for w in written:
        table.add_row(w["path"], w["sha256"], number(w["size"]))
    console.print(table)


@reports_app.command("quarantine")
def quarantine(limit: int = typer.Option(50, min=1, max=10000), offset: int = typer.Option(0, min=0),
               reason: str = typer.Option("list", "--reason", help="Why you look (recorded in the audit log)."),
               as_json: bool = typer.Option(False, "--json")) -> None:
    """Refused input, newest first: file, record, report id, field and reason (the reading is audited)."""
    with session() as s:
        rows = documents.view_quarantine(s, actor=actor(), purpose=reason, limit=limit, offset=offset)
    if as_json:
        emit_json(rows)
        return
    table = Table(title=_("Quarantine"))
    for column in ("id", _("When"), _("File"), _("Record"), _("Report"), _("Field"), _("Reason")):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(str(r["id"]), r["at"][:19], *(shown(x) for x in (r["file"], str(r["record"] or ""),
                                                                        r["report_id"] or "", r["field"] or "",
                                                                        r["said"])))
    console.print(table)


__all__ = ["ingest", "reports_app", "EXIT_SOME_REFUSED"]
