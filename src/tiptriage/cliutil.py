"""What every CLI command shares: the console, JSON output, the session, exit codes."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import NoReturn

from rich.console import Console
from sqlalchemy.orm import Session

from tiptriage.accounts.actor import Actor, local_actor
from tiptriage.audit.service import unit_of_work
from tiptriage.config import get_settings
from tiptriage.db import StoreError, open_session
from tiptriage.i18n import message

# 0 done; 1 some records refused, or an id not found; 2 a usage error; 3 the store or a setting
# cannot be used (missing store, unknown database kind, database not answering, invalid setting).
EXIT_OK, EXIT_SOME_REFUSED, EXIT_USAGE, EXIT_STORE = 0, 1, 2, 3

log = logging.getLogger(__name__)
# Messages are not folded (soft wrap): a file's path or a command to copy stays on one line, and a
# terminal wraps what is too long itself. Tables still fit the terminal's width.
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def measure_terminal() -> None:
    """Take the terminal's width (or COLUMNS) as it is now: Rich fixes a console's width when it is
    made, which for these module-level consoles is whenever cliutil was first imported."""
    for shown in (console, err_console):
        shown.width = None  # Rich measures again at each print


def emit_json(doc: object) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n")


@contextmanager
def session(*, create: bool = False) -> Iterator[Session]:
    """The command's unit of work on the configured store (`audit.unit_of_work`): committed when the
    block ends, rolled back when the command is refused (consultations stay on record); `create` for
    the commands that may make the store (ingest, bank import, db upgrade). A store that cannot be
    used ends the command (exit 3); a service's refusal the block does not handle itself ends it
    as `fail` says."""
    import typer

    try:
        with unit_of_work(lambda: open_session(create=create)) as s:
            yield s
    except StoreError as exc:
        err_console.print(message(exc))
        raise typer.Exit(EXIT_STORE) from None
    except (LookupError, ValueError, PermissionError) as exc:
        log.debug("command refused", exc_info=True)
        fail(exc)


@contextmanager
def refusals() -> Iterator[None]:
    """A service's refusal as the CLI's exit status, its message on stderr: an unknown id or name
    (LookupError) exits 1, a value that cannot be (ValueError) exits 2."""
    try:
        yield
    except (LookupError, ValueError, PermissionError) as exc:
        fail(exc)


def fail(exc: Exception) -> NoReturn:
    """End the command with a service's refusal, in the user's language: an unknown id or name
    (LookupError) or an action the actor may not do (PermissionError) exits 1, a value that cannot
    be (ValueError) exits 2."""
    import typer

    err_console.print(message(exc))
    raise typer.Exit(EXIT_SOME_REFUSED if isinstance(exc, LookupError | PermissionError) else EXIT_USAGE) from None


def actor() -> Actor:
    """Who runs the command (TIPTRIAGE_ACTOR, with its account's roles); an id that cannot be, or
    one without an account, ends the command."""
    settings = get_settings()
    try:
        return local_actor(settings.actor, settings.accounts_file)
    except (ValueError, PermissionError) as exc:
        fail(exc)


def day(text: str) -> date:
    """A date given on the command line (YYYY-MM-DD); anything else is a usage error."""
    import typer

    from tiptriage.i18n import _

    try:
        return date.fromisoformat(text)
    except ValueError:
        err_console.print(_("A date is YYYY-MM-DD, not {text}", text=text))
        raise typer.Exit(EXIT_USAGE) from None
