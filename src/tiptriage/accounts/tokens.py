"""API tokens for service accounts and automated feeds. The token is shown once, when it is made;
the store keeps only its SHA-256. A request with it acts as the token's account (its roles and
units still apply) and only within the token's scopes; a revoked token, or one whose account is
disabled, is refused."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from tiptriage.accounts.actor import Actor, NotAllowed, require, user_id
from tiptriage.accounts.models import ApiToken, User
from tiptriage.audit import service as audit
from tiptriage.db import utcnow
from tiptriage.i18n import N_, refusal

# read: queue, reports, subjects, alerts, reviews; decide: decisions, alerts acknowledged; approve:
# warnings approved or revoked; deliver; ingest; record: register checks and identifications;
# subjects: possible matches answered, subjects merged and split; import_bank: a bank file's new version.
SCOPES = (N_("read"), N_("decide"), N_("approve"), N_("deliver"), N_("ingest"), N_("record"), N_("subjects"),
          N_("import_bank"))
PREFIX = "tt_"  # so a token found in a log or a script is recognisable as one


def issue(session: Session, name: str, *, for_user: str, scopes: list[str], actor: str) -> tuple[str, ApiToken]:
    """A new token for `for_user`'s account; returns the token itself (shown once) and its row."""
    require(actor, "manage_users")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise refusal(ValueError, "scopes are {known}, not {given}", known=", ".join(SCOPES),
                      given=", ".join(unknown) or "-")
    uid = user_id(for_user)
    if session.execute(select(User.id).where(User.user_id == uid)).first() is None:
        raise refusal(LookupError, "no user {id}", id=for_user)
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name.strip() or uid, token_sha256=_digest(token), user_id=uid, scopes=sorted(set(scopes)),
                   created_at=utcnow(), created_by=str(actor))
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="token.issue", entity="api_token", entity_ids=[row.id],
                 details={"name": row.name, "user_id": uid, "scopes": row.scopes})
    return token, row


def revoke(session: Session, token_id: int, *, actor: str, reason: str) -> ApiToken:
    require(actor, "manage_users")
    row = session.get(ApiToken, token_id)
    if row is None:
        raise refusal(LookupError, "no token {id}", id=token_id)
    row.revoked_at = row.revoked_at or utcnow()
    audit.record(session, actor=actor, action="token.revoke", entity="api_token", entity_ids=[row.id], reason=reason)
    return row


def list_tokens(session: Session, *, actor: str) -> list[ApiToken]:
    require(actor, "manage_users")
    return list(session.execute(select(ApiToken).order_by(ApiToken.id)).scalars())


def resolve(session: Session, token: str) -> tuple[User, frozenset[str]] | None:
    """The account and scopes behind a token, or None (unknown, revoked, or the account disabled)."""
    row = session.execute(select(ApiToken).where(ApiToken.token_sha256 == _digest(token))).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    user = session.execute(select(User).where(User.user_id == row.user_id)).scalar_one_or_none()
    if user is None or user.disabled:
        return None
    row.last_used_at = utcnow()
    return user, frozenset(row.scopes)


def require_scope(scopes: frozenset[str], scope: str, actor: Actor) -> None:
    if scope not in scopes:
        raise refusal(NotAllowed, "this token of {actor} may not {scope}: its scopes are {scopes}", actor=str(actor),
                      scope=scope, scopes=", ".join(sorted(scopes)))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
