"""Append to and verify the audit chain.

Every event's hash covers its own fields and the previous event's hash, so editing, deleting or
reordering any event breaks verification from that event on. Appends run inside the caller's
transaction: an event exists exactly when the change it records was committed. A consultation
(personal data shown or searched) is the exception: it happened whether or not the rest of the
transaction commits, so `consulted` keeps it for `unit_of_work` to write again after a rollback.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tiptriage.audit.models import AuditEvent, AuditHead  # noqa: F401 - AuditEvent re-exported
from tiptriage.db import utcnow

GENESIS = "0" * 64
log = logging.getLogger(__name__)


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


KEPT = "tiptriage.audit.kept"  # session.info key: consultations and refused attempts of the open transaction


def consulted(session: Session, *, actor: str, action: str, entity: str, entity_ids: list | None = None,
              reason: str | None = None, details: dict | None = None) -> AuditEvent:
    """Record that `actor` consulted personal data (LED art. 25): an event like any other, which
    `unit_of_work` writes again when the transaction it was part of is rolled back (a refused
    approval still searched earlier warnings; a command that failed after showing a subject still
    showed it)."""
    return _kept(session, actor=actor, action=action, entity=entity, entity_ids=entity_ids, reason=reason,
                 details=details)


def attempted(session: Session, *, actor: str, action: str, entity: str, entity_ids: list | None = None,
              reason: str | None = None, details: dict | None = None) -> AuditEvent:
    """Record an attempt the service is about to refuse (a bank file that cannot be read, stored
    documents that fail their hash): kept by `unit_of_work` when it rolls the rest back."""
    return _kept(session, actor=actor, action=action, entity=entity, entity_ids=entity_ids, reason=reason,
                 details=details)


def _kept(session: Session, **fields) -> AuditEvent:
    event = record(session, **fields)
    session.info.setdefault(KEPT, []).append(fields | {"entity_ids": list(event.entity_ids), "details": event.details})
    return event


def consulted_reports(session: Session, *, actor: str, action: str, report_ids, reason: str | None = None,
                      details: dict | None = None) -> AuditEvent:
    """`consulted` for what a list of reports shows (a queue, a warning, a subject's history)."""
    return consulted(session, actor=actor, action=action, entity="report", entity_ids=sorted(set(report_ids)),
                     reason=reason, details=details)


@contextmanager
def unit_of_work(open_session: Callable[[], AbstractContextManager[Session]]) -> Iterator[Session]:
    """The one transaction of an entry point (a command, a request): services flush, this commits
    once when the block ends, or rolls back everything when it raises, keeping only the
    consultations and refused attempts it recorded. Jobs that must commit stage by stage (the data path) commit
    themselves between stages; what they committed stays."""
    with open_session() as session:
        session.info[KEPT] = []
        # What a stage committed is on record: only what was recorded since is written again.
        sa_event.listen(session, "after_commit", _forget_kept)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            _record_again(session, session.info.get(KEPT) or [])
            raise
        finally:
            sa_event.remove(session, "after_commit", _forget_kept)
            session.info[KEPT] = []


def _record_again(session: Session, consultations: list[dict]) -> None:
    if not consultations:
        return
    try:
        for consultation in consultations:
            record(session, **consultation)
        session.commit()
    except Exception:  # the store itself failed: the original error is what the user must see
        log.exception("audit events of a failed transaction could not be recorded again: %s",
                      [c["action"] for c in consultations])
        session.rollback()


def _forget_kept(session: Session) -> None:
    session.info[KEPT] = []


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


def events(session: Session, *, limit: int = 50, action: str | None = None, actor: str | None = None,
           entity: str | None = None, entity_id: int | None = None, since: datetime | None = None,
           until: datetime | None = None) -> list[AuditEvent]:
    """The newest events first, filtered by action (exact, or a prefix ending in '.'), actor,
    entity and the events naming one id of it, and period."""
    query = select(AuditEvent).order_by(AuditEvent.seq.desc())
    if action:
        query = query.where(AuditEvent.action.startswith(action) if action.endswith(".")
                            else AuditEvent.action == action)
    for column, value in ((AuditEvent.actor, actor), (AuditEvent.entity, entity)):
        if value:
            query = query.where(column == value)
    if since:
        query = query.where(AuditEvent.at >= since)
    if until:
        query = query.where(AuditEvent.at < until)
    if entity_id is None:
        return list(session.execute(query.limit(limit)).scalars())
    # The ids are a JSON list: looked for among the newest events that pass the other filters.
    found = (e for e in session.execute(query.limit(ENTITY_SCAN)).scalars() if entity_id in e.entity_ids)
    return [e for _, e in zip(range(limit), found)]


ENTITY_SCAN = 20000  # events searched for one entity's id


__all__ = ["record", "consulted", "consulted_reports", "attempted", "unit_of_work", "verify", "events", "Verification"]
