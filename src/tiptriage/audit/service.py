"""Append to and verify the audit chain.

Every event's hash covers its own fields and the previous event's hash, so editing, deleting or
reordering any event breaks verification from that event on. Appends run inside the caller's
transaction: an event exists exactly when the change it records was committed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tiptriage.audit.models import AuditEvent, AuditHead  # noqa: F401 - AuditEvent re-exported
from tiptriage.db import utcnow

GENESIS = "0" * 64


def event_hash(prev_hash: str, seq: int, at: datetime, actor: str, action: str, entity: str,
               entity_ids: list, reason: str | None, details: dict) -> str:
    body = json.dumps([seq, at.isoformat(), actor, action, entity, entity_ids, reason, details],
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(prev_hash.encode() + body.encode()).hexdigest()


def record(session: Session, *, actor: str, action: str, entity: str, entity_ids: list | None = None,
           reason: str | None = None, details: dict | None = None) -> AuditEvent:
    """Append one event (flushed, not committed: it commits with the change it records)."""
    head = _locked_head(session)
    entity_ids = list(entity_ids or [])
    details = json.loads(json.dumps(details or {}, default=str))  # exactly what the JSON column returns
    at = utcnow()
    seq = head.seq + 1
    digest = event_hash(head.hash, seq, at, actor, action, entity, entity_ids, reason, details)
    event = AuditEvent(seq=seq, at=at, actor=actor, action=action, entity=entity, entity_ids=entity_ids,
                       reason=reason, details=details, prev_hash=head.hash, hash=digest)
    session.add(event)
    head.seq, head.hash = seq, digest
    session.flush()
    return event


def _locked_head(session: Session) -> AuditHead:
    """The chain's head, locked until the caller commits and read anew (not from the session's
    identity map): two appends at once take turns and never hand out one sequence number twice.
    The first append of a store makes the head; of two at once, one makes it and both go on."""
    locked = select(AuditHead).where(AuditHead.id == 1).with_for_update().execution_options(populate_existing=True)
    head = session.execute(locked).scalar_one_or_none()
    if head is None:
        insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(insert(AuditHead).values(id=1, seq=0, hash=GENESIS).on_conflict_do_nothing())
        head = session.execute(locked).scalar_one()
    return head


@dataclass(frozen=True)
class Verification:
    ok: bool
    events: int
    broken_seq: int | None = None
    problem: str | None = None


def verify(session: Session) -> Verification:
    """Walk the chain in order; the first event that does not fit is named."""
    prev_hash, expected_seq, count = GENESIS, 1, 0
    rows = session.execute(select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=2000))
    for event in rows.scalars():
        if event.seq != expected_seq:
            return Verification(False, count, expected_seq, f"event {expected_seq} is missing (next is {event.seq})")
        if event.prev_hash != prev_hash:
            return Verification(False, count, event.seq, "does not follow the previous event (prev_hash differs)")
        digest = event_hash(prev_hash, event.seq, event.at, event.actor, event.action, event.entity,
                            event.entity_ids, event.reason, event.details)
        if digest != event.hash:
            return Verification(False, count, event.seq, "contents were altered (hash differs)")
        prev_hash, expected_seq, count = event.hash, expected_seq + 1, count + 1
    head = session.get(AuditHead, 1)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if (head_seq, head_hash) != (count, prev_hash):
        return Verification(False, count, count + 1 if head_seq > count else head_seq,
                            f"the log ends at event {count} but {head_seq} were written (tail removed or head altered)")
    return Verification(True, count)


def events(session: Session, *, limit: int = 50, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(session.execute(query).scalars())


__all__ = ["record", "verify", "events", "Verification"]
