"""The `tiptriage` command. Thin: each domain package contributes its commands."""

from __future__ import annotations

import typer

from tiptriage.audit.commands import app as audit_app
from tiptriage.intake.commands import ingest, reports_app
from tiptriage.media.commands import bank_app, hash_, match, media_app
from tiptriage.operations.commands import plan, units
from tiptriage.registry.commands import alerts_app, history, investigations_app, warnings_app
from tiptriage.subjects.commands import subjects_app
from tiptriage.synth.commands import synth
from tiptriage.triage.commands import (
    birth_date, decide, distribution, explain, identify, policy_app, queue, risk_app, triage,
)

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="tiptriage: triage of CSAM reports on metadata and hashes only.")
app.command()(ingest)
app.command()(synth)
app.add_typer(reports_app, name="reports")
app.add_typer(audit_app, name="audit")
app.command("hash")(hash_)
app.command()(match)
app.add_typer(bank_app, name="bank")
app.add_typer(media_app, name="media")
app.add_typer(subjects_app, name="subjects")
app.command()(triage)
app.command("birth-date")(birth_date)
app.command("distribution")(distribution)
app.command()(identify)
app.command()(queue)
app.command()(explain)
app.command()(decide)
app.add_typer(risk_app, name="risk")
app.add_typer(policy_app, name="policy")
app.add_typer(warnings_app, name="warnings")
app.add_typer(alerts_app, name="alerts")
app.add_typer(investigations_app, name="investigations")
app.command()(history)
app.command()(plan)
app.command()(units)


if __name__ == "__main__":
    app()
