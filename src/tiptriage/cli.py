"""The `tiptriage` command. Thin: each domain package contributes its commands."""

from __future__ import annotations

import logging
import os

import typer

from tiptriage.accounts.commands import tokens_app, users_app
from tiptriage.audit.commands import app as audit_app
from tiptriage.clihelp import HelpGroup, localise
from tiptriage.cliutil import EXIT_STORE, EXIT_USAGE, console, err_console, measure_terminal, session
from tiptriage.i18n import _, choose, language, message
from tiptriage.intake.commands import ingest, reports_app
from tiptriage.insight.commands import evaluate, stats
from tiptriage.media.commands import bank_app, hash_, match, media_app
from tiptriage.operations.commands import actionweek_app, plan, units_app
from tiptriage.registry.commands import alerts_app, history, investigations_app, warnings_app
from tiptriage.subjects.commands import subjects_app
from tiptriage.synth.commands import synth
from tiptriage.web.commands import serve
from tiptriage.triage.commands import (
    birth_date, decide, distribution, explain, identify, policy_app, queue, risk_app, triage,
)


class Tiptriage(HelpGroup):
    """The whole command in the language TIPTRIAGE_LANG names (Dutch when unset); `--lang` overrides
    it for the call. Set before parsing, so help for no arguments or a bare --help is in it too."""

    def main(self, *args, **kwargs):
        try:
            chosen = choose(os.environ.get("TIPTRIAGE_LANG"))
        except ValueError as exc:  # a setting that cannot be used
            err_console.print(message(exc))
            raise SystemExit(EXIT_STORE) from None
        with language(chosen):
            return super().main(*args, **kwargs)


def _language_chosen(ctx: typer.Context, value: str | None) -> None:
    if value is not None:
        try:
            ctx.with_resource(language(value))  # until the command ends
        except ValueError as exc:
            err_console.print(message(exc))
            raise typer.Exit(EXIT_USAGE) from None


app = typer.Typer(cls=Tiptriage, no_args_is_help=True, add_completion=False,
                  help="tiptriage: triage of CSAM reports on metadata and hashes only.")
db_app = typer.Typer(no_args_is_help=True, help="The store itself: its schema.")


@app.callback()
def _settings_checked(
    lang: str | None = typer.Option(None, "--lang", is_eager=True, callback=_language_chosen, metavar="nl|en",
                                    help="Language of the output (default: TIPTRIAGE_LANG, else nl)."),
) -> None:
    """Settings are checked before any command runs: a wrong one is named, not a traceback."""
    from pydantic import ValidationError

    measure_terminal()
    from tiptriage.config import get_settings

    try:
        settings = get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = "TIPTRIAGE_" + "_".join(str(part) for part in error["loc"]).upper()
            err_console.print(_("Setting {name}: {value!r} cannot be used ({reason})", name=name,
                                value=error.get("input"), reason=error["msg"]))
        raise typer.Exit(EXIT_STORE) from None
    # Our own lines from the chosen level on; the libraries' (Alembic, Splink) from warnings on.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("tiptriage").setLevel(settings.log_level)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create the store, or bring its schema to the newest this version knows."""
    from tiptriage.db import schema_head

    with session(create=True) as s:
        where = s.get_bind().url.render_as_string(hide_password=True)
    console.print(_("Store {where} at schema {head}", where=where, head=schema_head()))


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
app.add_typer(units_app, name="units")
app.add_typer(actionweek_app, name="actionweek")
app.command()(stats)
app.command()(evaluate)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.command()(serve)
localise(app)


if __name__ == "__main__":
    app()
