"""`tiptriage users add | list | disable | roles` and `tiptriage tokens add | list | revoke`: the web
application's accounts and the API's tokens, kept by an administrator (the CLI's actor needs the
role admin)."""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from tiptriage.accounts import tokens, users
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
        state = _("disabled") if d["disabled"] else _("active")
        table.add_row(d["user_id"], d["display_name"], ", ".join(d["roles"]), ", ".join(d["units"]) or _("all"),
                      state + (", " + _("through the identity provider") if d["external"] else ""))
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
            "external": users.is_external(user), "created_at": user.created_at, "created_by": user.created_by}


tokens_app = typer.Typer(no_args_is_help=True, help="API tokens for service accounts and automated feeds.")


@tokens_app.command("add")
def token_add(name: str = typer.Argument(..., help="What the token is for (e.g. 'feed from the provider')."),
              user: str = typer.Option(..., "--user", help="The account it acts as (its roles and units apply)."),
              scope: list[str] = typer.Option(..., "--scope", help=f"One of {', '.join(tokens.SCOPES)}; repeat or "
                                                                  "separate with commas."),
              as_json: bool = typer.Option(False, "--json")) -> None:
    """Make a token; it is shown once, only its SHA-256 is kept."""
    with session() as s:
        token, row = tokens.issue(s, name, for_user=user, scopes=_split(scope), actor=actor())
        doc = {"id": row.id, "name": row.name, "user_id": row.user_id, "scopes": row.scopes, "token": token}
    if as_json:
        emit_json(doc)
        return
    console.print(_("Token {id} for {user} ({scopes}); keep it now, it is not shown again:", id=doc["id"],
                    user=doc["user_id"], scopes=", ".join(doc["scopes"])))
    console.print(token, highlight=False, markup=False)


@tokens_app.command("list")
def token_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """Every token (never the token itself)."""
    with session() as s:
        docs = [{"id": t.id, "name": t.name, "user_id": t.user_id, "scopes": t.scopes, "created_at": t.created_at,
                 "revoked_at": t.revoked_at, "last_used_at": t.last_used_at} for t in tokens.list_tokens(s, actor=actor())]
    if as_json:
        emit_json(docs)
        return
    table = Table(title=_("API tokens"))
    for column in ("#", _("Name"), _("User id"), _("Scopes"), _("State")):
        table.add_column(column)
    for d in docs:
        table.add_row(str(d["id"]), d["name"], d["user_id"], ", ".join(d["scopes"]),
                      _("revoked") if d["revoked_at"] else _("active"))
    console.print(table)


@tokens_app.command("revoke")
def token_revoke(token_id: int = typer.Argument(...), reason: str = typer.Option(..., "--reason")) -> None:
    """Revoke a token: every request with it is refused from now on."""
    with session() as s:
        tokens.revoke(s, token_id, actor=actor(), reason=reason)
    console.print(_("Token {id} revoked.", id=token_id))
