"""An `Actor` is an identity, not a name: its user id is normalised when it is made, so
"Analyst_A ", "analyst_a" and the full-width "ａｎａｌｙｓｔ_ａ" are one person, and an id with
letters from another script (a Cyrillic "а" that looks Latin) is refused rather than taken for a
second person. Services check what an actor may do (`require`); four-eyes compares identities.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from tiptriage.i18n import NP_, Words, refusal

# analyst: triage decisions, proposals, identifications; team_lead: approves warnings (the second
# person) and may do what an analyst does; officer: delivers warnings; intake: brings report files
# in; auditor: reads the audit log, no cases; admin: users, banks, the store itself — no cases.
ROLES = ("analyst", "team_lead", "officer", "intake", "auditor", "admin")
# What each role may do; the services call `require` before they act. Work the system does itself
# (ingest's matching, linking and triage) needs no role: whoever may ingest starts it.
ACTION = "action"  # the words below are translated in this context (see i18n.NP_)
ALLOWED = {NP_("action", "decide"): ("analyst", "team_lead"), NP_("action", "approve"): ("team_lead",),
           NP_("action", "deliver"): ("officer", "team_lead"), NP_("action", "revoke"): ("team_lead",),
           # register checks, risk items, distribution, identification
           NP_("action", "record"): ("analyst", "team_lead"),
           NP_("action", "change_subjects"): ("analyst", "team_lead"),  # merge, split, reviews, relink runs
           NP_("action", "train"): ("team_lead", "admin"),  # the linkage model in use
           NP_("action", "classify"): ("analyst", "team_lead"),  # an analyst's category for a file
           NP_("action", "import_bank"): ("admin",),
           NP_("action", "view_banks"): ("analyst", "team_lead", "admin"),  # which banks, versions, counts
           NP_("action", "acknowledge"): ("analyst", "team_lead", "officer"),
           NP_("action", "close"): ("analyst", "team_lead"),  # an investigation
           NP_("action", "view"): ("analyst", "team_lead", "officer"),  # cases: queue, reports, subjects, warnings
           NP_("action", "ingest"): ("intake", "analyst", "team_lead", "admin"),  # report files in
           NP_("action", "manage_users"): ("admin",),
           NP_("action", "read_audit"): ("auditor", "admin"),  # the audit log and the chain's state
           NP_("action", "assign_unit"): ("analyst", "team_lead"),  # a unit for a subject nothing placed
           NP_("action", "plan_actionweek"): ("team_lead",),  # an action week: dates, units, capacity
           NP_("action", "export_worklist"): ("officer", "team_lead"),  # a unit's work list as a file
           NP_("action", "record_outcome"): ("officer", "team_lead"),  # what happened at the door
           # statistics and the evaluation of warnings: aggregates for those who steer the work
           NP_("action", "view_stats"): ("analyst", "team_lead")}
USER_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


class NotAllowed(PermissionError):
    """The actor's roles or units do not allow this action."""


class OutOfView(NotAllowed):
    """A case of a unit the actor does not work for: to a front door, as if it did not exist."""


def user_id(raw: str) -> str:
    """A user id as compared and recorded: compatibility-normalised (NFKC), case-folded, without
    surrounding spaces; only a-z, 0-9, '.', '_' and '-' (a look-alike letter is refused)."""
    normal = unicodedata.normalize("NFKC", raw).casefold().strip()
    if not USER_ID.fullmatch(normal):
        raise refusal(ValueError, "'{raw}' is not a user id: letters a-z, digits, '.', '_' and '-' only "
                                  "(at most 64)", raw=raw)
    return normal


def same_identity(recorded: str, other: str) -> bool:
    """Whether a user id recorded earlier (perhaps before ids were normalised) is `other`'s."""
    def key(text: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return key(recorded) == key(other)


class Actor(str):
    """Who acts. It is its user id wherever a string is recorded (audit log, `proposed_by`), and
    carries the display name, roles and units the checks read."""

    display_name: str
    roles: frozenset[str]
    units: frozenset[str]  # empty: every unit

    def __new__(cls, raw_id: str, *, display_name: str | None = None, roles=ROLES, units=()) -> Actor:
        actor = super().__new__(cls, user_id(raw_id))
        unknown = set(roles) - set(ROLES)
        if unknown:
            raise refusal(ValueError, "unknown role(s) {roles}; roles are {known}", roles=", ".join(sorted(unknown)),
                          known=", ".join(ROLES))
        actor.display_name = display_name or str(actor)
        actor.roles, actor.units = frozenset(roles), frozenset(units)
        return actor

    @property
    def user_id(self) -> str:
        return str(self)


def may(actor: str, action: str) -> bool:
    """Whether `actor`'s roles allow `action` at all (for what a screen offers; `require` decides)."""
    return isinstance(actor, Actor) and bool(actor.roles & set(ALLOWED[action]))


def require(actor: str, action: str, *, unit: str | None = None) -> None:
    """Refuse unless `actor` may do `action` (for `unit`, when the actor is bound to units). A bare
    string is no identity: it may do nothing that needs a role."""
    roles = actor.roles if isinstance(actor, Actor) else frozenset()
    if not roles & set(ALLOWED[action]):
        raise refusal(NotAllowed, "{actor} may not {action}: that needs the role {needed}", actor=str(actor),
                      action=Words(action, context=ACTION), needed=" or ".join(ALLOWED[action]))
    if unit and actor.units and unit not in actor.units:
        raise refusal(NotAllowed, "{actor} may not {action} for unit {unit}: their units are {units}",
                      actor=str(actor), action=Words(action, context=ACTION), unit=unit,
                      units=", ".join(sorted(actor.units)))


def units_in_view(actor: str, unit: str | None = None) -> frozenset[str] | None:
    """The units whose work `actor` may see, narrowed to `unit` when one is asked; None is every
    unit (an account without units: the national unit, a single-seat store). Asking for a unit
    outside the actor's own is refused, so a list never quietly shows less than was asked; so is a
    role that sees no cases (intake, auditor, admin)."""
    require(actor, "view")
    mine = actor.units if isinstance(actor, Actor) else frozenset()
    if unit:
        if mine and unit not in mine:
            raise refusal(OutOfView, "{actor} may not see the work of unit {unit}: their units are {units}",
                          actor=str(actor), unit=unit, units=", ".join(sorted(mine)))
        return frozenset({unit})
    return mine or None


def may_see(actor: str, unit: str | None) -> None:
    """Refuse unless `actor` may see one case of `unit` (None: not yet given to a unit, which only
    an actor bound to no unit sees)."""
    if unit is not None:
        units_in_view(actor, unit)
        return
    require(actor, "view")
    if isinstance(actor, Actor) and actor.units:
        raise refusal(OutOfView, "{actor} may not see work no unit has been given yet", actor=str(actor))


@dataclass(frozen=True)
class Accounts:
    """The unit's local accounts (YAML: accounts: [{id, name, roles, units}])."""

    by_id: dict[str, Actor]

    @classmethod
    def load(cls, path: Path) -> Accounts:
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise refusal(ValueError, "accounts file {path}: {error}", path=str(path), error=str(exc)) from None
        actors = {}
        for i, entry in enumerate(doc.get("accounts") or [], start=1):
            if not isinstance(entry, dict) or "id" not in entry:
                raise refusal(ValueError, "accounts file {path}, account {n}: field 'id' is missing",
                              path=str(path), n=i)
            actor = Actor(str(entry["id"]), display_name=entry.get("name"), roles=entry.get("roles") or (),
                          units=entry.get("units") or ())
            actors[actor.user_id] = actor
        return cls(actors)

    def actor(self, raw_id: str, path: Path) -> Actor:
        found = self.by_id.get(user_id(raw_id))
        if found is None:
            raise refusal(NotAllowed, "{id} has no account in {path}", id=raw_id, path=str(path))
        return found


def local_actor(raw_id: str, accounts_file: str | None) -> Actor:
    """The CLI's actor: TIPTRIAGE_ACTOR, with the roles and units of its account when the unit
    keeps an accounts file; without one (a single-seat store) it has every role."""
    if not accounts_file:
        return Actor(raw_id)
    path = Path(accounts_file)
    return Accounts.load(path).actor(raw_id, path)
