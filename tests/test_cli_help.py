"""`--help` of every command: Dutch by default, English with --lang en or TIPTRIAGE_LANG=en, never a
traceback. That each help text has a Dutch translation at all is tests/test_catalogue.py's."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from tiptriage.cli import app
from tiptriage.clihelp import texts

runner = CliRunner()


def command_lines() -> list[list[str]]:
    root = typer.main.get_command(app)
    lines, todo = [], [([], root)]
    while todo:
        path, command = todo.pop()
        lines.append(path)
        todo += [([*path, name], sub) for name, sub in getattr(command, "commands", {}).items()]
    return sorted(lines)


def first_help_line(path: list[str]) -> str:
    """The first line of the command's own help text (the English message id)."""
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    return (command.help or "").split("\n")[0]


def shown(args: list[str], monkeypatch, lang: str | None = None):
    monkeypatch.setenv("COLUMNS", "400")  # one line per paragraph, so a text can be looked for whole
    if lang is None:
        monkeypatch.delenv("TIPTRIAGE_LANG", raising=False)
    else:
        monkeypatch.setenv("TIPTRIAGE_LANG", lang)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.exception is None and "Traceback" not in result.output
    return result.output


def test_the_walk_finds_every_command():
    lines = command_lines()
    assert len(lines) >= 60 and ["reports", "show"] in lines and ["warnings", "approve"] in lines


@pytest.mark.parametrize("path", command_lines(), ids=" ".join)
def test_help_is_dutch_by_default_and_english_on_request(path, monkeypatch):
    english_first = first_help_line(path)
    dutch = shown([*path, "--help"], monkeypatch)
    assert "Gebruik:" in dutch and "Opties" in dutch and "Deze hulptekst tonen en stoppen." in dutch
    assert "Usage:" not in dutch and "Show this message and exit." not in dutch
    if english_first:
        assert english_first not in dutch
    english = shown(["--lang", "en", *path, "--help"], monkeypatch)
    assert "Usage:" in english and "Show this message and exit." in english and "Gebruik:" not in english
    if english_first:
        assert english_first in english


@pytest.mark.parametrize("path", [[], ["reports"], ["warnings", "approve"]], ids=" ".join)
def test_the_setting_chooses_english_as_the_option_does(path, monkeypatch):
    assert shown([*path, "--help"], monkeypatch, lang="en") == shown(["--lang", "en", *path, "--help"], monkeypatch)


def test_option_help_is_translated(monkeypatch):
    dutch = shown(["reports", "show", "--help"], monkeypatch)
    assert "Waarom u kijkt (vastgelegd in de auditlog)." in dutch
    assert "Het nummer van de melding in de opslag." in dutch and "Argumenten" in dutch


def test_every_help_text_is_one_the_walk_extracts():
    extracted = {text for _path, text in texts(typer.main.get_command(app), "tiptriage")}
    assert "Show this message and exit." in extracted
    assert "Language of the output (default: TIPTRIAGE_LANG, else nl)." in extracted


def test_bare_tiptriage_shows_help_in_the_language(monkeypatch):
    monkeypatch.delenv("TIPTRIAGE_LANG", raising=False)
    result = runner.invoke(app, [])
    assert "Gebruik:" in result.output and "Opdrachten" in result.output


@pytest.mark.parametrize("setting, option, code", [("fr", None, 3), (None, "fr", 2)])
def test_a_language_tiptriage_has_no_text_in_is_refused(setting, option, code, monkeypatch):
    monkeypatch.delenv("TIPTRIAGE_LANG", raising=False)
    if setting:
        monkeypatch.setenv("TIPTRIAGE_LANG", setting)
    result = runner.invoke(app, [*(["--lang", option] if option else []), "reports", "list"])
    assert result.exit_code == code
    assert "'fr'" in result.output and "niet beschikbaar" in result.output
