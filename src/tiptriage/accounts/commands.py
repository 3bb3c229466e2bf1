"""`tiptriage users add | list | disable | roles`: the web application's accounts, kept by an
administrator (the CLI's actor needs the role admin)."""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from tiptriage.accounts import users
from tiptriage.accounts.actor import ROLES
from tiptriage.cliutil import actor, console, emit_json, session
from tiptriage.i18n import _

users_app = typer.Typer(no_args_is_help=True, help="Accounts for the web application: add, list, disable, roles.")


def _split(values: list[str]) -> list[str]:
    """--role analyst --role team_lead, or --role analyst,team_lead."""
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


@users_app.command("add")
def add(user_id: str = typer.Argument(...), name: str = typer.Option(..., "--name", help="Display name."),
        role: list[str] = typer.Option(..., "--role", help=f"One of {', '.join(ROLES)}; repeat or separate with commas."),
        unit: list[str] = typer.Option([], "--unit", help="A unit the user works for; none: every unit."),
        language: str = typer.Option("nl", "--language", help="nl or en."),
        password_stdin: bool = typer.Option(False, "--password-stdin",
                                            help="Read the password from standard input (scripts)."),
        as_json: bool = typer.Option(False, "--json")) -> None:
    """Add an account; the password is asked for twice (or read from standard input)."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else typer.prompt(
        _("Password"), hide_input=True, confirmation_prompt=True)
    with session(create=True) as s:
        user = users.add_user(s, user_id, display_name=name, password=password, roles=_split(role),
                              units=_split(unit), language=language, actor=actor())
        doc = _doc(user)
    if as_json:
        emit_json(doc)
        return
    console.print(_("User {id} added with roles {roles}.", id=doc["user_id"], roles=", ".join(doc["roles"])))


@users_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json")) -> None:
    """Every account with its roles, units and state."""
    with session() as s:
        docs = [_doc(u) for u in users.list_users(s, actor=actor())]
    if as_json:
        emit_json(docs)
        return
    table = Table(title=_("Users"))
    for column in (_("User id"), _("Name"), _("Roles"), _("Units"), _("State")):
        table.add_column(column)
    for d in docs:
        table.add_row(d["user_id"], d["display_name"], ", ".join(d["roles"]), ", ".join(d["units"]) or _("all"),
                      _("disabled") if d["disabled"] else _("active"))
    console.print(table)


@users_app.command("disable")
def disable(user_id: str = typer.Argument(...), reason: str = typer.Option(..., "--reason")) -> None:
    """Disable an account: it can no longer log in, and its open sessions end at their next request."""
    with session() as s:
        users.disable_user(s, user_id, actor=actor(), reason=reason)
    console.print(_("User {id} disabled.", id=user_id))


@users_app.command("roles")
def roles(user_id: str = typer.Argument(...), role: list[str] = typer.Option(..., "--role"),
          unit: list[str] | None = typer.Option(None, "--unit", help="Replace the units (default: keep them).")) -> None:
    """Give an account these roles (and units)."""
    with session() as s:
        user = users.set_roles(s, user_id, roles=_split(role), units=_split(unit) if unit else None, actor=actor())
        doc = _doc(user)
    console.print(_("User {id} now has roles {roles}.", id=doc["user_id"], roles=", ".join(doc["roles"])))


def _doc(user) -> dict:
    return {"user_id": user.user_id, "display_name": user.display_name, "roles": list(user.roles),
            "units": list(user.units), "language": user.language, "disabled": user.disabled,
            "created_at": user.created_at, "created_by": user.created_by}
