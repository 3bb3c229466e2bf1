"""Subjects: finding subjects by an identifier, audited with who searched and why."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tiptriage.accounts.actor import require
from tiptriage.audit import service as audit
from tiptriage.i18n import N_, refusal
from tiptriage.subjects.errors import SubjectError, require_reason
from tiptriage.subjects.membership import subject_of_persons
from tiptriage.subjects.models import SubjectKey


SEARCH_KINDS = (N_("email"), N_("phone"), N_("device"), N_("account"))


def search_keys(value: str, kind: str | None = None) -> list[str]:
    """The keys a searched identifier can have: e-mail, phone, device, or platform:account."""
    from tiptriage.subjects import identifiers as ids

    if kind is not None and kind not in SEARCH_KINDS:
        raise refusal(SubjectError, "unknown kind of identifier {kind!r}; choose one of {kinds}", kind=kind,
                      kinds=", ".join(SEARCH_KINDS))

    keys = []
    if kind in (None, "email") and (email := ids.normalise_email(value)):
        keys.append(f"email:{email}")
    if kind in (None, "phone") and (phone := ids.normalise_phone(value)):
        keys.append(f"phone:{phone}")
    if kind in (None, "device") and (device := ids.normalise_device_id(value)):
        keys.append(f"dev:{device}")
    platform, sep, account = value.partition(":")
    if (
        kind in (None, "account")
        and sep
        and (p := ids.normalise_platform(platform))
        and (a := ids.normalise_account(account))
    ):
        keys += [f"uid:{p}:{a}", f"sn:{p}:{a}"]
    return keys


def search(
    session: Session, value: str, *, actor: str, reason: str | None, kind: str | None = None
) -> list[int]:
    """Subjects with a reported person carrying this identifier. Consulting personal data by
    identifier is logged with who and why (LED art. 25), found or not."""
    require(actor, "view")
    reason = require_reason(reason)
    keys = search_keys(value, kind)
    persons = (
        list(session.execute(select(SubjectKey.reported_person_id).where(SubjectKey.key.in_(keys))).scalars())
        if keys
        else []
    )
    subjects = sorted(set(subject_of_persons(session, persons).values()))
    audit.consulted(
        session,
        actor=actor,
        action="subjects.search",
        entity="subject",
        entity_ids=subjects,
        reason=reason,
        details={"kind": kind, "keys": keys, "found": len(subjects)},
    )
    return subjects
