"""What every CLI command shares: the console, JSON output, the session, exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from rich.console import Console
from sqlalchemy.orm import Session

from tiptriage.config import get_settings
from tiptriage.db import open_session
from tiptriage.i18n import message

EXIT_OK, EXIT_SOME_REFUSED, EXIT_USAGE = 0, 1, 2

console = Console()
err_console = Console(stderr=True)


def emit_json(doc: object) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n")


@contextmanager
def session() -> Iterator[Session]:
    with open_session() as s:
        yield s


@contextmanager
def refusals() -> Iterator[None]:
    """A service's refusal as the CLI's exit status, its message on stderr: an unknown id or name
    (LookupError) exits 1, a value that cannot be (ValueError) exits 2."""
    import typer

    try:
        yield
    except LookupError as exc:
        err_console.print(message(exc))
        raise typer.Exit(EXIT_SOME_REFUSED) from None
    except ValueError as exc:
        err_console.print(message(exc))
        raise typer.Exit(EXIT_USAGE) from None


def actor() -> str:
    return get_settings().actor


def day(text: str) -> date:
    """A date given on the command line (YYYY-MM-DD); anything else is a usage error."""
    import typer

    from tiptriage.i18n import _

    try:
        return date.fromisoformat(text)
    except ValueError:
        err_console.print(_("A date is YYYY-MM-DD, not {text}", text=text))
        raise typer.Exit(EXIT_USAGE) from None
