"""`--help` in the user's language. Help texts stay English in the code (docstrings, `help=`); they
are the message ids, and the command classes here translate them when help is formatted, so the
language chosen for the call (`i18n.language`) decides, not the one at import time.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from tiptriage.i18n import N_, _

# Typer's own panel titles, translated by giving every parameter and command its panel by name.
ARGUMENTS, OPTIONS, COMMANDS = N_("Arguments"), N_("Options"), N_("Commands")
USAGE = N_("Usage:")


def _translated(text: str | None) -> str | None:
    return _(text) if text else text


def _panel(thing: object, default: str) -> str:
    panel = getattr(thing, "rich_help_panel", None)
    return _(panel if isinstance(panel, str) and panel else default)  # unset is a Typer placeholder


def _param_view(param: TyperArgument | TyperOption) -> TyperArgument | TyperOption:
    view = copy.copy(param)
    view.help = _translated(param.help)
    view.rich_help_panel = _panel(param, ARGUMENTS if isinstance(param, TyperArgument) else OPTIONS)
    return view


def _listed_view(command: TyperCommand | TyperGroup) -> TyperCommand | TyperGroup:
    """A subcommand as its group's help lists it: its name and first lines, translated."""
    view = copy.copy(command)
    view.help, view.short_help = _translated(command.help), _translated(command.short_help)
    view.rich_help_panel = _panel(command, COMMANDS)
    return view


def _view(command: TyperCommand | TyperGroup, ctx: typer.Context) -> TyperCommand | TyperGroup:
    """A copy of `command` with its help in the current language; the command itself, which parses
    and runs, keeps the English ids."""
    view = copy.copy(command)
    view.help, view.short_help = _translated(command.help), _translated(command.short_help)
    view.epilog = _translated(command.epilog)
    view.params = [_param_view(p) for p in command.get_params(ctx)]  # with --help itself
    view.add_help_option = False  # it is among the params already
    if isinstance(command, TyperGroup):
        view.commands = {name: _listed_view(sub) for name, sub in command.commands.items()}
    return view


class _Translating:
    """The usage line's 'Usage:' in the language of the call (Click writes it in English)."""

    def format_usage(self, ctx: typer.Context, formatter) -> None:
        pieces = " ".join(self.collect_usage_pieces(ctx))
        formatter.write_usage(ctx.command_path, pieces, prefix=_(USAGE) + " ")


class HelpCommand(_Translating, TyperCommand):
    def format_help(self, ctx: typer.Context, formatter) -> None:
        TyperCommand.format_help(_view(self, ctx), ctx, formatter)


class HelpGroup(_Translating, TyperGroup):
    def format_help(self, ctx: typer.Context, formatter) -> None:
        TyperGroup.format_help(_view(self, ctx), ctx, formatter)


def localise(app: typer.Typer) -> None:
    """Give every command and group of `app` (and of its sub-apps) the translating classes; called
    once, after all commands are registered."""
    for info in app.registered_commands:
        if info.cls in (None, TyperCommand):  # Typer's default; a command's own class is left alone
            info.cls = HelpCommand
    for group in app.registered_groups:
        group.cls = HelpGroup
        localise(group.typer_instance)


def texts(command: TyperCommand | TyperGroup, path: str) -> Iterator[tuple[str, str]]:
    """Every help text of `command` and the commands under it, with the command line it belongs to:
    what `catalogue.extract_help` extracts and what `_view` translates."""
    ctx = typer.Context(command, info_name=path)
    for text in (command.help, command.short_help, command.epilog):
        if text:
            yield path, text
    for param in command.get_params(ctx):
        if getattr(param, "help", None):
            yield path, param.help
    for name, sub in getattr(command, "commands", {}).items():
        yield from texts(sub, f"{path} {name}")
