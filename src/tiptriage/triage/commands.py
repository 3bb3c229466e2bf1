"""`tiptriage triage`, `birth-date`, `distribution`, `identify`, `queue`, `explain`, `decide`, `risk ...` and `policy ...`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from tiptriage.cliutil import (
    EXIT_SOME_REFUSED,
    EXIT_USAGE,
    actor,
    console,
    day,
    emit_json,
    err_console,
    fail,
    refusals,
    session,
)
from tiptriage import pipeline
from tiptriage.i18n import N_, _, lang, message, number
from tiptriage.subjects.identity import Identity
from tiptriage.subjects.models import IDENTIFICATION_SOURCES
from tiptriage.triage import service
from tiptriage.triage.facts import AGE_BANDS, RISK_ITEMS
from tiptriage.triage.models import BIRTH_DATE_REGISTERS, DISTRIBUTION_SOURCES, QUEUE_STATUSES
from tiptriage.triage.policy import OUTCOMES, PolicyError, load_policy

risk_app = typer.Typer(no_args_is_help=True, help="Structured risk items (KIRAT/CPORT-like) an analyst records.")
policy_app = typer.Typer(no_args_is_help=True, help="Triage policies: show the active one, check a file.")


def triage(report_ids: list[int] = typer.Argument(None, help="Reports to triage (default: the pending ones)."),
           all_: bool = typer.Option(False, "--all", help="Triage every stored report (e.g. after a policy change)."),
           reason: str | None = typer.Option(None, help="Why (kept with the recommendations)."),
           as_json: bool = typer.Option(False, "--json")) -> None:
    """Recommend an outcome for reports: new ones, those whose files or subject changed, or those named."""
    if all_ and report_ids:
        err_console.print(_("Give report ids or --all, not both."))
        raise typer.Exit(EXIT_USAGE)
    with session() as s:
        # Never recommend on an incomplete state: what a stopped ingest left is matched and linked first.
        caught_up = pipeline.catch_up(s, actor=actor())
        if caught_up.matching or caught_up.linking:
            err_console.print(_("First finished what an earlier, stopped run left: {n} reports matched and linked.",
                                n=number(caught_up.resumed)))
        if all_:
            summary = service.triage_all(s, actor=actor(), reason=reason, checkpoint=s.commit)
        elif report_ids:
            summary = service.triage_reports(s, report_ids, actor=actor(), trigger="manual", reason=reason)
        else:
            summary = service.triage_pending(s, actor=actor(), checkpoint=s.commit)
    if as_json:
        emit_json(summary.as_dict())
        return
    table = Table(title=_("Triage ({policy})", policy=summary.policy))
    table.add_column(_("Outcome"))
    table.add_column(_("Count"), justify="right")
    for outcome in OUTCOMES:
        if summary.by_outcome.get(outcome):
            table.add_row(_(outcome), number(summary.by_outcome[outcome]))
    console.print(table)
    console.print(_("{triaged} reports triaged: {new} new recommendations, {same} unchanged, {alerts} alerts.",
                    triaged=number(summary.triaged), new=number(summary.recommended),
                    same=number(summary.unchanged), alerts=number(summary.alerts)))


def birth_date(report_id: int = typer.Argument(...),
               on: str = typer.Option(..., "--date", help="The date of birth in the register, YYYY-MM-DD."),
               source: str = typer.Option(..., help=f"The register: {', '.join(BIRTH_DATE_REGISTERS)}."),
               note: str = typer.Option(..., "--note", help="What was checked, e.g. the query's reference (required)."),
               as_json: bool = typer.Option(False, "--json")) -> None:
    """Record a date of birth verified in a register for the reported person of a report; it counts
    before any stated age, and the subject's reports are triaged again."""
    born = day(on)
    with session() as s, refusals():
        row = service.record_birth_date(s, report_id, born, source=source, actor=actor(), note=note)
        outcome = service.report_triage(s, report_id)["recommendation"]["outcome"]
    doc = {"verified_birth_date_id": row.id, "report_id": report_id, "person_id": row.person_id,
           "date_of_birth": born.isoformat(), "source": source, "outcome": outcome}
    if as_json:
        emit_json(doc)
        return
    console.print(_("Date of birth {date} ({source}) recorded for report {report}; recommendation now {outcome}.",
                    date=born.isoformat(), source=source, report=report_id, outcome=_(outcome)))


def distribution(report_id: int = typer.Argument(...),
                 distributed: bool = typer.Option(..., "--distributed/--not-distributed",
                                                  help="What was established: distributed or not."),
                 files: list[str] = typer.Option(None, "--file", help="A file reference (repeat it); "
                                                                      "default: every file of the report."),
                 source: str = typer.Option(..., help=f"Where it comes from: {', '.join(DISTRIBUTION_SOURCES)}."),
                 note: str = typer.Option(..., "--note", help="How it was established, with its reference (required)."),
                 as_json: bool = typer.Option(False, "--json")) -> None:
    """Record whether files of a report were distributed (the answer to the question an undetermined
    file raises: NCMEC's report does not say per file); the subject's reports are triaged again."""
    with session() as s, refusals():
        rows = service.record_distribution(s, report_id, distributed=distributed, files=files or None,
                                           source=source, actor=actor(), note=note)
        outcome = service.report_triage(s, report_id)["recommendation"]["outcome"]
    doc = {"report_id": report_id, "distributed": distributed, "source": source,
           "finding_ids": [r.id for r in rows], "files": len(rows), "outcome": outcome}
    if as_json:
        emit_json(doc)
        return
    console.print(_("Distribution of {files} file(s) of report {report} recorded ({source}); recommendation now "
                    "{outcome}.", files=len(rows), report=report_id, source=source, outcome=_(outcome)))


# What linkage did with an identification, in words (subjects.identity.Identified.decision).
IDENTIFY_LINKAGE = {N_("linked"): N_("joined a known subject"), N_("same"): N_("stayed with the same subject"),
                    N_("review"): N_("possible match, for an analyst"), N_("new"): N_("no other subject matches")}


def identify(report_id: int = typer.Argument(...),
             given_name: str = typer.Option(..., help="Given name(s) as in the register."),
             family_name: str = typer.Option(..., help="Family name with its tussenvoegsel, e.g. 'van Dijk'."),
             born: str | None = typer.Option(None, "--birth-date", help="Date of birth, YYYY-MM-DD."),
             street: str | None = typer.Option(None, help="Street and house number."),
             postcode: str | None = typer.Option(None),
             city: str | None = typer.Option(None),
             country: str = typer.Option("NL", help="Two-letter country of the address."),
             source: str = typer.Option(..., help=f"Where it comes from: {', '.join(IDENTIFICATION_SOURCES)}."),
             reference: str = typer.Option(..., help="The request's or register query's reference (required)."),
             note: str = typer.Option(..., "--note", help="How the person was identified (required)."),
             person: str | None = typer.Option(None, "--person", help="Which reported person (p1, p2, ...) when "
                                                                      "the report names several."),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """Record who stands behind a report that carried only an IP address or account (the answer to
    NEEDS_IDENTIFICATION); linkage compares the person again and the subject's reports are triaged."""
    identity = Identity(given_name, family_name, day(born) if born else None, street, postcode, city, country)
    with session() as s, refusals():
        result = service.record_identification(s, report_id, identity, source=source, reference=reference,
                                               note=note, actor=actor(), person_ref=person)
        outcome = service.report_triage(s, report_id)["recommendation"]["outcome"]
    doc = {"identification_id": result.identification_id, "report_id": report_id, "person_id": result.person_id,
           "subject_id": result.subject_id, "linkage": result.decision, "fused_subjects": list(result.fused),
           "reviews": list(result.review_ids), "retriaged": list(result.retriage), "outcome": outcome}
    if as_json:
        emit_json(doc)
        return
    console.print(_("Report {report} identified ({source} {reference}): subject {subject}, linkage: {linkage}; "
                    "recommendation now {outcome}.", report=report_id, source=source, reference=reference,
                    subject=result.subject_id, linkage=_(IDENTIFY_LINKAGE[result.decision]), outcome=_(outcome)))
    if result.review_ids:
        console.print(_("Possible matches for an analyst: reviews {ids} (tiptriage subjects review ID).",
                        ids=", ".join(map(str, result.review_ids))))


def queue(unit: str | None = typer.Option(None, help="Only this unit."),
          status: list[str] = typer.Option([], help=f"Statuses ({', '.join(QUEUE_STATUSES)}); default: open work."),
          outcome: str | None = typer.Option(None, help="Only this outcome."),
          source: str | None = typer.Option(None, help="Only reports from this source (e.g. NCMEC)."),
          age_band: str | None = typer.Option(None, "--age-band", help=f"Only this age band ({', '.join(AGE_BANDS)})."),
          since: str | None = typer.Option(None, help="Received on or after this day, YYYY-MM-DD."),
          until: str | None = typer.Option(None, help="Received on or before this day, YYYY-MM-DD."),
          limit: int = typer.Option(50, min=1), offset: int = typer.Option(0, min=0),
          as_json: bool = typer.Option(False, "--json")) -> None:
    """The work queue: by outcome class, then priority, then age."""
    if any(s not in QUEUE_STATUSES for s in status) or (outcome and outcome not in OUTCOMES):
        err_console.print(_("Unknown status or outcome."))
        raise typer.Exit(EXIT_USAGE)
    with session() as s:
        narrow = service.Narrowing(source=source, age_band=age_band, since=since and day(since),
                                   until=until and day(until))
        rows = service.view_queue(s, actor=actor(), unit=unit, statuses=tuple(status) or service.OPEN_STATUSES,
                                  outcome=outcome, limit=limit, offset=offset, narrow=narrow)
    if as_json:
        emit_json(rows)
        return
    table = Table(title=_("Queue"))
    for column in (_("Report"), _("External id"), _("Outcome"), _("Priority"), _("Unit"), _("Status"),
                   _("Received"), _("Rule")):
        table.add_column(column)
    for r in rows:
        table.add_row(str(r["report_id"]), r["external_id"], _(r["outcome"]), str(r["priority"]), r["unit"],
                      _(r["status"]), r["received_at"].date().isoformat(), r["decided_by"])
    console.print(table)


def explain(report_id: int = typer.Argument(...), as_json: bool = typer.Option(False, "--json")) -> None:
    """Why a report got its recommendation: the facts, each rule that fired with its text, the history."""
    with session() as s:
        doc = service.view_report_triage(s, report_id, actor=actor(), lang=lang())
        if doc is None:
            err_console.print(_("Report {id} has not been triaged.", id=report_id))
            raise typer.Exit(EXIT_SOME_REFUSED)
    if as_json:
        emit_json(doc)
        return
    rec = doc["recommendation"]
    console.print(_("Report {id}: {outcome} (priority {priority}), unit {unit}, status {status}", id=report_id,
                    outcome=_(rec["outcome"]), priority=rec["priority"], unit=rec["unit"], status=_(doc["status"])))
    for rule in rec["rules"]:
        console.print(f"  [bold]{rule['id']}[/bold] (+{rule['priority']}): {rule['text']}")
        if rule["basis"]:
            console.print(f"    {rule['basis']}")
    for rule in rec["also_matched"]:
        console.print("  " + _("also: {rule} → {outcome}", rule=rule["id"], outcome=_(rule["outcome"])))
    console.print(_("Policy {policy}; history: {n} recommendations, {d} decisions.",
                    policy=f"{rec['policy']['id']}@{rec['policy']['version']}", n=len(doc["history"]),
                    d=len(doc["decisions"])))


def decide(report_id: int = typer.Argument(...),
           confirm: bool = typer.Option(False, "--confirm", help="Confirm the recommendation."),
           override: str | None = typer.Option(None, "--override", help="Decide this outcome instead."),
           justification: str = typer.Option(..., "--justification", "-j", help="Why (required)."),
           unit: str | None = typer.Option(None, help="The unit that takes it up (default: the recommended one)."),
           as_json: bool = typer.Option(False, "--json")) -> None:
    """Confirm or override a recommendation. A WARNING then waits for a second person's approval."""
    if confirm == (override is not None):
        err_console.print(_("Give --confirm or --override OUTCOME."))
        raise typer.Exit(EXIT_USAGE)
    with session() as s:
        try:
            d = service.decide(s, report_id, actor=actor(), justification=justification, outcome=override, unit=unit)
        except (service.DecisionError, LookupError) as exc:
            err_console.print(message(exc))
            raise typer.Exit(EXIT_SOME_REFUSED) from None
    doc = {"decision_id": d.id, "report_id": report_id, "kind": d.kind, "outcome": d.outcome, "unit": d.unit,
           "actor": d.actor}
    if as_json:
        emit_json(doc)
        return
    console.print(_("Decision {id}: {kind} {outcome} for report {report}.", id=d.id, kind=_(d.kind),
                    outcome=_(d.outcome), report=report_id))


@risk_app.command("add")
def risk_add(report_id: int = typer.Argument(...),
             item: str = typer.Argument(..., help=", ".join(RISK_ITEMS)),
             value: bool = typer.Option(True, "--yes/--no", help="Present (default) or checked and absent."),
             note: str = typer.Option(..., "--note", help="Where it comes from (required)."),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """Record a risk item for the reported person of a report; its subject's reports are triaged again."""
    with session() as s:
        try:
            row = service.record_risk_item(s, report_id, item, value, actor=actor(), note=note)
        except (ValueError, LookupError) as exc:
            fail(exc)
    doc = {"risk_item_id": row.id, "report_id": report_id, "item": item, "value": value}
    if as_json:
        emit_json(doc)
        return
    console.print(_("Risk item {item} recorded for report {report}.", item=item, report=report_id))


@policy_app.command("show")
def policy_show(as_json: bool = typer.Option(False, "--json")) -> None:
    """The active policy: its rules in order, with their outcome, priority and text."""
    from tiptriage.config import get_settings

    policy = load_policy(get_settings().policy_file)
    doc = {"policy": policy.id, "version": policy.version, "sha256": policy.sha256,
           "outcome_order": list(policy.outcome_order),
           "rules": [{"id": r.id, "when": r.source, "outcome": r.outcome, "priority": r.priority,
                      "flags": list(r.flags), "text": r.text[lang()]} for r in policy.rules]}
    if as_json:
        emit_json(doc)
        return
    table = Table(title=f"{policy.ref} — {policy.title[lang()]}")
    for column in (_("Rule"), _("Outcome"), _("Priority"), _("Text")):
        table.add_column(column, overflow="fold")
    for r in policy.rules:
        table.add_row(r.id, _(r.outcome) if r.outcome else "+", str(r.priority), r.text[lang()])
    console.print(table)


@policy_app.command("check")
def policy_check(path: Path = typer.Argument(..., exists=True, dir_okay=False),
                 as_json: bool = typer.Option(False, "--json")) -> None:
    """Check a policy file: the language, and the proof that no WARNING rule can break a hard rule."""
    try:
        policy = load_policy(path)
    except PolicyError as exc:
        if as_json:
            emit_json({"ok": False, "error": str(exc)})
        else:
            err_console.print(_("Policy refused: {error}", error=message(exc)))
        raise typer.Exit(EXIT_SOME_REFUSED) from None
    if as_json:
        emit_json({"ok": True, "policy": policy.id, "version": policy.version, "sha256": policy.sha256,
                   "rules": len(policy.rules)})
        return
    console.print(_("Policy {ref} is valid: {n} rules, hard rules proven.", ref=policy.ref, n=len(policy.rules)))
