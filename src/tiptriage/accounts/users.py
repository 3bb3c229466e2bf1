"""The unit's user accounts in the store: made and changed by an administrator, passwords kept as
argon2id hashes (argon2-cffi), and logging in with a throttle — after `MAX_FAILURES` wrong
passwords in a row an account is locked for `LOCK_MINUTES`, and every refusal says the same, so
the answer does not tell whether an account exists."""

from __future__ import annotations

from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tiptriage.accounts.actor import ROLES, Actor, NotAllowed, require, user_id
from tiptriage.accounts.models import User
from tiptriage.audit import service as audit
from tiptriage.db import utcnow
from tiptriage.i18n import N_, refusal

MAX_FAILURES = 5
LOCK_MINUTES = 15
MIN_PASSWORD = 12  # characters; a pass phrase, not a PIN
# The password hash of an external account (OpenID Connect), followed by its issuer: no password
# verifies against it (argon2 refuses it as a hash), so such an account logs in only through its provider.
EXTERNAL = "!external:"

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def actor_of(user: User) -> Actor:
    return Actor(user.user_id, display_name=user.display_name, roles=user.roles, units=user.units)


def add_user(session: Session, raw_id: str, *, display_name: str, password: str, roles: list[str],
             units: list[str], actor: str, language: str = "nl") -> User:
    require(actor, "manage_users")
    uid = user_id(raw_id)
    Actor(uid, roles=roles)  # refuses unknown roles
    _check_password(password)
    if session.execute(select(User.id).where(User.user_id == uid)).first():
        raise refusal(ValueError, "user {id} exists already", id=uid)
    user = User(user_id=uid, display_name=display_name.strip() or uid, password_hash=_hasher.hash(password),
                roles=sorted(set(roles)), units=sorted(set(units)), language=_language(language), disabled=False,
                failed_logins=0, created_at=utcnow(), created_by=str(actor))
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="user.add", entity="user", entity_ids=[user.id],
                 details={"user_id": uid, "roles": user.roles, "units": user.units})
    return user


def list_users(session: Session, *, actor: str) -> list[User]:
    require(actor, "manage_users")
    return list(session.execute(select(User).order_by(User.user_id)).scalars())


def set_roles(session: Session, raw_id: str, *, roles: list[str], units: list[str] | None, actor: str) -> User:
    require(actor, "manage_users")
    user = _user(session, raw_id)
    Actor(user.user_id, roles=roles)
    before = {"roles": user.roles, "units": user.units}
    user.roles = sorted(set(roles))
    if units is not None:
        user.units = sorted(set(units))
    audit.record(session, actor=actor, action="user.roles", entity="user", entity_ids=[user.id],
                 details={"user_id": user.user_id, "before": before, "roles": user.roles, "units": user.units})
    return user


def disable_user(session: Session, raw_id: str, *, actor: str, reason: str) -> User:
    require(actor, "manage_users")
    user = _user(session, raw_id)
    user.disabled = True
    audit.record(session, actor=actor, action="user.disable", entity="user", entity_ids=[user.id], reason=reason,
                 details={"user_id": user.user_id})
    return user


def set_language(session: Session, user: User, language: str) -> None:
    """The language the user reads the application in (their own choice: no audit record)."""
    user.language = _language(language)
    session.flush()


def authenticate(session: Session, raw_id: str, password: str, *, now: datetime | None = None) -> User | None:
    """The account behind an id and password, or None (wrong id or password, a disabled or locked
    account: the caller says the same for all). Not a refusal that rolls back: the failure count
    and the attempt on record must be committed with the answer."""
    now = now or utcnow()
    try:
        uid = user_id(raw_id)
    except ValueError:
        uid = None
    user = session.execute(select(User).where(User.user_id == uid).with_for_update()).scalar_one_or_none() \
        if uid else None
    if user is None or user.disabled or (user.locked_until and user.locked_until > now) \
            or not _verifies(user.password_hash, password):
        _failed(session, user, raw_id, now)
        return None
    user.failed_logins, user.locked_until = 0, None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    audit.record(session, actor=user.user_id, action="user.login", entity="user", entity_ids=[user.id])
    return user


def is_external(user: User) -> bool:
    """An account the unit's identity provider vouches for (OpenID Connect): it has no password."""
    return user.password_hash.startswith(EXTERNAL)


def external_login(session: Session, *, issuer: str, provider: str, raw_id: object, display_name: str | None,
                   groups: list[str], role_map: dict[str, list[str]], unit_map: dict[str, list[str]]) -> User:
    """The account of a person the identity provider vouched for (its ID token already checked),
    made or brought up to date from their groups: the roles the groups map to, and the units
    ("*": every unit; no unit map at all: every unit). Refused — on record, with the groups —
    when no group gives a role or (with a unit map) a unit, when the account is disabled, or when
    the id is a local account with a password (the provider may not take it over)."""
    def refused(msgid: str, **values: object) -> Exception:
        audit.attempted(session, actor="anonymous", action="user.login_refused", entity="user",
                        reason=msgid.format(provider=provider, **values),
                        details={"via": "oidc", "issuer": issuer, "user_id": str(raw_id)[:64],
                                 "groups": groups[:50]})
        return refusal(NotAllowed, msgid, provider=provider, **values)

    try:
        uid = user_id(raw_id if isinstance(raw_id, str) else "")
    except ValueError:
        raise refused(N_("Login through {provider} refused: it gave no usable user id.")) from None
    roles = sorted({role for group in groups for role in role_map.get(group, ())})
    units = {unit for group in groups for unit in unit_map.get(group, ())}
    if not roles:
        raise refused(N_("Login through {provider} refused: none of your groups gives a role in tiptriage. "
                      "Ask an administrator to map your group to a role."))
    if unit_map and not units:
        raise refused(N_("Login through {provider} refused: none of your groups gives a unit in tiptriage. "
                      "Ask an administrator to map your group to a unit."))
    units = set() if "*" in units else units
    Actor(uid, roles=roles)  # a role map naming a role we do not have is refused here
    user = session.execute(select(User).where(User.user_id == uid).with_for_update()).scalar_one_or_none()
    if user is not None and not is_external(user):
        raise refused(N_("Login through {provider} refused: {id} is a local account; log in with its password."),
                      id=uid)
    if user is not None and user.disabled:
        raise refused(N_("Login through {provider} refused: the account {id} is disabled."), id=uid)
    if user is None:
        user = User(user_id=uid, display_name=(display_name or "").strip()[:200] or uid,
                    password_hash=EXTERNAL + issuer, roles=roles, units=sorted(units), language="nl", disabled=False, failed_logins=0,
                    created_at=utcnow(), created_by=f"oidc:{issuer}"[:64])
        session.add(user)
        session.flush()
        audit.record(session, actor=uid, action="user.add", entity="user", entity_ids=[user.id],
                     details={"user_id": uid, "roles": roles, "units": user.units, "via": "oidc",
                              "groups": groups[:50]})
    elif (user.roles, user.units) != (roles, sorted(units)):
        before = {"roles": user.roles, "units": user.units}
        user.roles, user.units = roles, sorted(units)
        audit.record(session, actor=uid, action="user.roles", entity="user", entity_ids=[user.id],
                     details={"user_id": uid, "before": before, "roles": roles, "units": user.units, "via": "oidc",
                              "groups": groups[:50]})
    audit.record(session, actor=uid, action="user.login", entity="user", entity_ids=[user.id],
                 details={"via": "oidc", "issuer": issuer})
    return user


def _failed(session: Session, user: User | None, raw_id: str, now: datetime) -> None:
    details = {"user_id": user.user_id if user else raw_id[:64]}
    if user is not None and not user.disabled and not (user.locked_until and user.locked_until > now):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until, user.failed_logins = now + timedelta(minutes=LOCK_MINUTES), 0
            details["locked_until"] = user.locked_until.isoformat()
    audit.record(session, actor="anonymous", action="user.login_failed", entity="user",
                 entity_ids=[user.id] if user else [], details=details)


def _verifies(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise refusal(ValueError, "a password has at least {n} characters", n=MIN_PASSWORD)


def _language(language: str) -> str:
    return "en" if language.lower().startswith("en") else "nl"


def _user(session: Session, raw_id: str) -> User:
    user = session.execute(select(User).where(User.user_id == user_id(raw_id))).scalar_one_or_none()
    if user is None:
        raise refusal(LookupError, "no user {id}", id=raw_id)
    return user


__all__ = ["ROLES", "actor_of", "add_user", "authenticate", "disable_user", "external_login", "list_users",
           "set_roles", "set_language"]
