"""Every command on a store that is not there, on a database kind tiptriage does not know, and with
an id that does not exist: a Dutch message, the documented exit code, never a traceback, and no
store made behind the user's back."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tiptriage.cli import app
from tiptriage.config import get_settings

UNKNOWN = "999999"
NOTE = ["--note", "x"]
REASON = ["--reason", "x"]

# The commands that read or change a store, each with arguments of the right shape.
STORE_COMMANDS = [
    ["triage"],
    ["queue"],
    ["plan"],
    ["match", "pdq:" + "0" * 64],
    ["explain", UNKNOWN],
    ["decide", UNKNOWN, "--confirm", "-j", "x"],
    ["birth-date", UNKNOWN, "--date", "2000-01-01", "--source", "BRP", *NOTE],
    ["distribution", UNKNOWN, "--distributed", "--source", "platform", *NOTE],
    ["identify", UNKNOWN, "--given-name", "Jan", "--family-name", "Jansen", "--source", "BRP",
     "--reference", "r1", *NOTE],
    ["history", UNKNOWN],
    ["reports", "list"],
    ["reports", "show", UNKNOWN],
    ["reports", "quarantine"],
    ["audit", "verify"],
    ["audit", "log"],
    ["bank", "list"],
    ["bank", "show", "nope"],
    ["media", "rematch"],
    ["media", "classify", UNKNOWN, "child_abuse", *REASON],
    ["media", "changes"],
    ["subjects", "show", UNKNOWN],
    ["subjects", "search", "jan@example.org", *REASON],
    ["subjects", "review"],
    ["subjects", "confirm", UNKNOWN, *REASON],
    ["subjects", "reject", UNKNOWN, *REASON],
    ["subjects", "merge", UNKNOWN, "999998", *REASON],
    ["subjects", "split", UNKNOWN, "--person", UNKNOWN, *REASON],
    ["subjects", "train"],
    ["subjects", "relink"],
    ["risk", "add", UNKNOWN, "access_to_children", *NOTE],
    ["warnings", "list"],
    ["warnings", "show", UNKNOWN],
    ["warnings", "propose", UNKNOWN, "-j", "x"],
    ["warnings", "approve", UNKNOWN],
    ["warnings", "deliver", UNKNOWN, "--date", "2024-01-01", "--officer", "x"],
    ["warnings", "revoke", UNKNOWN, *REASON],
    ["alerts", "ack", UNKNOWN],
    ["investigations", "list"],
    ["investigations", "close", UNKNOWN, *REASON],
]
# Of those, the ones that name one thing by its id or name.
BY_ID = [c for c in STORE_COMMANDS if UNKNOWN in c or "nope" in c]


def _run(monkeypatch, url: str, args: list[str]):
    monkeypatch.setenv("TIPTRIAGE_DATABASE_URL", url)
    monkeypatch.setenv("TIPTRIAGE_LANG", "nl")
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, args)
    finally:
        get_settings.cache_clear()


def _no_traceback(result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args", STORE_COMMANDS, ids=" ".join)
def test_a_missing_store_is_named_and_not_made(monkeypatch, tmp_path, args):
    db = tmp_path / "typo" / "tiptriage.db"
    result = _run(monkeypatch, f"sqlite:///{db}", args)
    _no_traceback(result)
    assert result.exit_code == 3
    assert "Geen opslag op" in result.output and "tiptriage ingest" in result.output
    assert not db.exists() and not db.parent.exists()


@pytest.mark.parametrize("args", STORE_COMMANDS, ids=" ".join)
def test_an_unknown_database_kind_is_named(monkeypatch, tmp_path, args):
    result = _run(monkeypatch, f"sqllite:///{tmp_path}/t.db", args)
    _no_traceback(result)
    assert result.exit_code == 3
    assert "'sqllite' is geen database die tiptriage kent" in result.output


def test_a_database_that_does_not_answer_is_named(monkeypatch):
    result = _run(monkeypatch, "postgresql://127.0.0.1:1/test", ["queue"])
    _no_traceback(result)
    assert result.exit_code == 3
    assert "antwoordt niet" in result.output


def test_an_invalid_setting_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("TIPTRIAGE_INGEST_BATCH_SIZE", "veel")
    result = _run(monkeypatch, f"sqlite:///{tmp_path}/t.db", ["queue"])
    _no_traceback(result)
    assert result.exit_code == 3
    assert "Instelling TIPTRIAGE_INGEST_BATCH_SIZE: 'veel' is niet bruikbaar" in result.output


def test_db_upgrade_makes_the_store_then_commands_run(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path}/new/tiptriage.db"
    made = _run(monkeypatch, url, ["db", "upgrade"])
    assert made.exit_code == 0 and "op schema" in made.output
    assert _run(monkeypatch, url, ["queue"]).exit_code == 0


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('store')}/tiptriage.db"
    with pytest.MonkeyPatch.context() as mp:
        assert _run(mp, url, ["db", "upgrade"]).exit_code == 0
    return url


@pytest.mark.parametrize("args", BY_ID, ids=" ".join)
def test_an_unknown_id_is_refused_in_dutch_with_exit_1(monkeypatch, empty_store, args):
    result = _run(monkeypatch, empty_store, args)
    _no_traceback(result)
    assert result.exit_code == 1, result.output
    assert UNKNOWN in result.output or "nope" in result.output
    said = " ".join(result.output.lower().split())
    assert ("geen" in said or "nog niet getrieerd" in said) and not any(
        english in said for english in ("with id", "named", "has not been", "no report", "no warning"))
