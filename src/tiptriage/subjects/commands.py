"""`tiptriage subjects ...`: show, search, review, confirm, reject, merge, split, train, relink."""

from __future__ import annotations

import typer
from rich.table import Table

from tiptriage import flows
from tiptriage.cliutil import EXIT_SOME_REFUSED, actor, console, emit_json, err_console, fail, session
from tiptriage.i18n import N_, _, number
from tiptriage.subjects import actions, batch, documents, errors, reviews

subjects_app = typer.Typer(no_args_is_help=True, help="Subjects: who stands behind the reported persons.")

REASON_HELP = "Why (required; kept in the audit log)."


@subjects_app.command("show")
def show(
    subject_id: int = typer.Argument(...),
    reason: str | None = typer.Option(None, help="Why (audit log)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """A subject's reports, identifiers and links with their evidence."""
    with session() as s:
        doc = flows.subject_document(s, subject_id, actor=actor(), reason=reason)
    if doc is None:
        err_console.print(_("No subject with id {id}.", id=subject_id))
        raise typer.Exit(EXIT_SOME_REFUSED)
    if as_json:
        emit_json(doc)
        return
    _print_subject(doc)


def _print_subject(doc: dict) -> None:
    title = _("Subject {id}", id=doc["id"])
    if doc["merged_into"]:
        title += " → " + _("merged into {id}", id=doc["merged_into"])
    table = Table(title=title)
    for column in (_("Report"), _("Source"), _("External id"), _("Incident")):
        table.add_column(column)
    for r in doc["reports"]:
        table.add_row(str(r["report_id"]), r["source"], r["external_id"], str(r["incident_at"] or ""))
    console.print(table)
    for name, values in doc["identifiers"].items():
        console.print(f"[bold]{name}[/bold]: {', '.join(map(str, values))}")
    for link in doc["links"]:
        _print_link(link)
    shaped = [op for op in doc["operations"] if op["kind"] not in ("link", "new")]
    if shaped:
        table = Table(title=_("History"))
        for column in (_("When"), _("What"), _("Who"), _("Why")):
            table.add_column(column)
        for op in shaped:
            table.add_row(str(op["at"])[:19], _(op["kind"]), op["actor"], op["reason"] or "")
        console.print(table)


def _print_link(link: dict) -> None:
    weight = link["match_weight"]
    console.print(
        _(
            "Person {person}: {decision} (weight {weight}, model {version})",
            person=link["reported_person_id"],
            decision=_(link["decision"]),
            weight="–" if weight is None else f"{weight:.1f}",
            version=link["model_version"],
        )
    )
    table = Table(show_header=True)
    for column in (_("Field"), _("Level"), _("Weight"), _("This report"), _("Candidate")):
        table.add_column(column)
    for f in link["evidence"].get("fields", []):
        table.add_row(
            _(f["field"]),
            _(f["level"]),
            f"{f['weight'] + f['tf_adjustment']:+.1f}",
            _fmt(f["left"]),
            _fmt(f["right"]),
        )
    if link["evidence"].get("fields"):
        console.print(table)
    if link["evidence"].get("guards"):
        console.print(_("Held back by: {guards}", guards=", ".join(_(g) for g in link["evidence"]["guards"])))


def _fmt(value) -> str:
    if not value:
        return ""
    return "; ".join(f"{v}" if not isinstance(v, list) else ", ".join(v) for v in value.values())


@subjects_app.command("search")
def search(
    value: str = typer.Argument(..., help="E-mail, phone number, device id, or platform:account."),
    reason: str = typer.Option(..., help=REASON_HELP),
    kind: str | None = typer.Option(None, help="email | phone | device | account (default: any)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Subjects that carry an identifier. Every search is audited with its reason."""
    with session() as s:
        try:
            found = flows.search_subjects(s, value, actor=actor(), reason=reason, kind=kind)
        except errors.SubjectError as exc:
            fail(exc)
    if as_json:
        emit_json(found)
        return
    ids = found["subjects"]
    console.print(_("{n} subjects found: {ids}", n=number(len(ids)), ids=", ".join(map(str, ids)) or "–"))
    if found["elsewhere"]:
        console.print(_("{n} more in the work of other units (ask the national unit).", n=number(found["elsewhere"])))


HOUSEHOLD_QUESTION = N_(
    "Only what a household shares agrees (family name, birth date, address, connection): whether this "
    "is one person or two (twins, siblings) can only be settled in the population register ({register}). "
    "Check it there before you confirm or reject."
)


@subjects_app.command("review")
def review(
    review_id: int | None = typer.Argument(None, help="One review with its evidence; none: the open list."),
    limit: int = typer.Option(50),
    reason: str | None = typer.Option(None, help="Why (audit log)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Possible matches waiting for an analyst, strongest first; or one with the evidence side by side
    (that view of personal data is audited)."""
    with session() as s:
        if review_id is None:
            docs = [documents.review_doc(r) for r in reviews.open_reviews(s, limit=limit)]
        else:
            try:
                docs = [documents.view_review(s, review_id, actor=actor(), reason=reason)]
            except LookupError:
                err_console.print(_("No review with id {id}.", id=review_id))
                raise typer.Exit(EXIT_SOME_REFUSED) from None
    if as_json:
        emit_json(docs if review_id is None else docs[0])
        return
    table = Table(title=_("Open reviews"))
    for column in ("#", _("Kind"), _("Person"), _("Subject"), _("Candidate"), _("Weight")):
        table.add_column(column)
    for d in docs:
        table.add_row(
            str(d["id"]),
            _(d["kind"]),
            str(d["reported_person_id"] or ""),
            str(d["subject_id"]),
            str(d["candidate_subject_id"]),
            f"{d['match_weight']:.1f}",
        )
    console.print(table)
    if review_id is not None and docs[0]["evidence"]:
        _print_link(
            {
                "reported_person_id": docs[0]["reported_person_id"],
                "decision": "review",
                "match_weight": docs[0]["match_weight"],
                "model_version": docs[0]["model_version"],
                "evidence": docs[0]["evidence"],
            }
        )
    if review_id is not None and docs[0]["register_check"]:
        console.print(_(HOUSEHOLD_QUESTION, register=docs[0]["register_check"]))


def _print_result(result: actions.ActionResult, as_json: bool) -> None:
    doc = result.as_dict()
    if as_json:
        emit_json(doc)
        return
    console.print(
        _(
            "Done (operation {op}): subjects {subjects}; {n} reports triaged again.",
            op=result.operation_id,
            subjects=", ".join(map(str, result.subject_ids)),
            n=number(len(result.affected_report_ids)),
        )
    )


@subjects_app.command("confirm")
def confirm(
    review_id: int = typer.Argument(...),
    reason: str = typer.Option(..., help=REASON_HELP),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Confirm a possible match: the same person."""
    _act(lambda s: flows.shape_subjects(s, "confirm", review_id=review_id, actor=actor(), reason=reason), as_json)


@subjects_app.command("reject")
def reject(
    review_id: int = typer.Argument(...),
    reason: str = typer.Option(..., help=REASON_HELP),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Reject a possible match: different persons (relinking will respect it)."""
    _act(lambda s: flows.shape_subjects(s, "reject", review_id=review_id, actor=actor(), reason=reason), as_json)


@subjects_app.command("merge")
def merge(
    subject_id: int = typer.Argument(..., help="The subject that remains."),
    other_id: int = typer.Argument(..., help="The subject merged into it."),
    reason: str = typer.Option(..., help=REASON_HELP),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Merge two subjects (undo with split)."""
    _act(lambda s: flows.shape_subjects(s, "merge", subject_id=subject_id, other_id=other_id, actor=actor(),
                                        reason=reason), as_json)


@subjects_app.command("split")
def split(
    subject_id: int = typer.Argument(...),
    persons: list[int] = typer.Option(..., "--person", help="Reported person id to split off (repeat)."),
    reason: str = typer.Option(..., help=REASON_HELP),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Split reported persons off into a subject of their own (restores a merged subject)."""
    _act(lambda s: flows.shape_subjects(s, "split", subject_id=subject_id, persons=persons, actor=actor(),
                                        reason=reason), as_json)


def _act(action, as_json: bool) -> None:
    with session() as s:
        try:
            result = action(s)
        except errors.SubjectError as exc:
            fail(exc)
    _print_result(result, as_json)


@subjects_app.command("train")
def train(
    engine: str = typer.Option("duckdb", help="duckdb | spark"),
    reason: str | None = typer.Option(None, help="Why (audit log)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Train the linkage model on the stored data with Splink (unsupervised) and activate it; shows what
    changed against the model in use. On a store that cannot train it, the model in use stays."""
    if engine not in ("duckdb", "spark"):
        fail(ValueError(_("Unknown engine {engine}.", engine=engine)))
    with session() as s:
        result = batch.train_from_store(s, actor=actor(), engine=engine, reason=reason)
    document = result.document
    if as_json:
        emit_json({
            "version": document["version"],
            "activated": result.activated,
            "trained": document["trained"],
            "thresholds": document["thresholds"],
            "kept": list(result.kept),
            "changes": result.changes,
        })
        return
    if result.activated:
        console.print(_("Model {version} trained on {n} records and activated.", version=document["version"],
                        n=number(document["trained"]["records"])))
    for line in _kept_lines(result.kept, document["version"]):
        console.print(line)
    if result.changes:
        _print_changes(result.changes)


def _kept_lines(kept, version: str) -> list[str]:
    """What training could not do, and what it did instead, in the user's language."""
    lines, levels = [], []
    for k in kept:
        if k["what"] == "too_few_records":
            lines.append(_("Too few records to train on ({n}; at least {needed} are needed): nothing was trained, "
                           "model {version} stays in use.", n=number(k["records"]), needed=number(k["needed"]),
                           version=version))
        elif k["what"] == "failed":
            lines.append(_("Training on {n} records failed ({error}): nothing changed, model {version} stays in use.",
                           n=number(k["records"]), error=k["error"], version=version))
        elif k["what"] == "prior":
            lines.append(_("No deterministic rule (same user id, mailbox, phone number or device) found a pair of "
                           "records: the prior of the model in use is kept ({prior}).", prior=f"{k['prior']:.3g}"))
        elif k["what"] == "em_session":
            lines.append(_("Training session blocked on {rule} skipped: no two records agree on it.",
                           rule=k["rule"]))
        elif k["what"] == "level":
            levels.append(f"{_(k['comparison'])}/{_(k['level'])} ({k['probability']})")
    if levels:
        lines.append(_("{n} m or u probabilities no pair of records reached were kept from the model in use: "
                       "{levels}.", n=number(len(levels)), levels=", ".join(levels)))
    return lines


def _print_changes(changes: dict) -> None:
    console.print(_("Changes against model {version}:", version=changes["from_version"]))
    prior = changes["prior"]
    console.print(_("Prior (two random records are the same person): {before} → {after}",
                    before=f"{prior['before']:.3g}", after=f"{prior['after']:.3g}"))
    before, after = changes["thresholds"]["before"], changes["thresholds"]["after"]
    console.print(_("Thresholds: link {link}, review {review}", link=_arrow(before["link"], after["link"], "g"),
                    review=_arrow(before["review"], after["review"], "g")))
    table = Table(title=_("m and u per comparison level"))
    for column in (_("Field"), _("Level"), "m", "u", _("Weight")):
        table.add_column(column)
    unchanged = 0
    for row in changes["levels"]:
        if all(row[f"{x}_before"] == row[f"{x}_after"] for x in ("m", "u")):
            unchanged += 1
            continue
        table.add_row(_(row["comparison"]), _(row["level"]), _arrow(row["m_before"], row["m_after"], ".3g"),
                      _arrow(row["u_before"], row["u_after"], ".3g"),
                      _arrow(row["weight_before"], row["weight_after"], "+.1f"))
    console.print(table)
    if unchanged:
        console.print(_("{n} levels unchanged.", n=number(unchanged)))


def _arrow(before, after, spec: str) -> str:
    def shown(x) -> str:
        return "–" if x is None else format(x, spec)

    return shown(after) if before == after else f"{shown(before)} → {shown(after)}"


@subjects_app.command("relink")
def relink(
    engine: str = typer.Option("duckdb", help="duckdb | spark"),
    apply: int | None = typer.Option(None, help="Apply this proposed run."),
    discard: int | None = typer.Option(None, help="Discard this proposed run."),
    reason: str | None = typer.Option(None, help=REASON_HELP + " Needed to apply."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Re-cluster everything from scratch with Splink and show what would change; --apply RUN applies it."""
    if engine not in ("duckdb", "spark"):
        fail(ValueError(_("Unknown engine {engine}.", engine=engine)))
    if apply is not None:
        _act(lambda s: batch.apply_relink(s, apply, actor=actor(), reason=reason), as_json)
        return
    with session() as s:
        try:
            run = (
                batch.discard_relink(s, discard, actor=actor(), reason=reason)
                if discard is not None
                else batch.propose_relink(s, actor=actor(), engine=engine)
            )
        except errors.SubjectError as exc:
            fail(exc)
    doc = {
        "run": run.id,
        "status": run.status,
        "engine": run.engine,
        "model_version": run.model_version,
        "summary": run.summary,
    }
    if as_json:
        emit_json(doc)
        return
    summary = run.summary
    console.print(
        _(
            "Relink run {id} ({status}): {clusters} clusters for {subjects} subjects; {joins} joins, "
            "{splits} splits, {moved} reported persons would move.",
            id=run.id,
            status=_(run.status),
            clusters=number(summary["clusters"]),
            subjects=number(summary["subjects"]),
            joins=number(len(summary["joins"])),
            splits=number(len(summary["splits"])),
            moved=number(len(summary["moved_persons"])),
        )
    )
