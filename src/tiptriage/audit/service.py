"""Append to, verify and checkpoint the audit chain.

Every event's hash covers its own fields and the previous event's hash, so editing, deleting or
reordering any event breaks verification from that event on. The hash is an HMAC-SHA256 with a key
kept outside the database (`TIPTRIAGE_AUDIT_KEY_FILE`), so whoever can write the database but not
read the key cannot re-chain what they changed; events written before a store had a key keep their
plain SHA-256 up to the switch point the head records, and an unkeyed event after it is forged.
A checkpoint (the head's seq and hash, appended to a file an auditor keeps elsewhere) catches what
the key cannot: a rewrite by someone holding the key, and a tail cut off with the head set back. Appends run inside the caller's
transaction: an event exists exactly when the change it records was committed. A consultation
(personal data shown or searched) is the exception: it happened whether or not the rest of the
transaction commits, so `consulted` keeps it for `unit_of_work` to write again after a rollback.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from typing import TextIO
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tiptriage.audit.models import AuditEvent, AuditHead  # noqa: F401 - AuditEvent re-exported
from tiptriage.config import get_settings
from tiptriage.db import utcnow
from tiptriage.i18n import N_, _, refusal
from tiptriage.keyfiles import beside_store, owner_only_key, read_owner_only

GENESIS = "0" * 64
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditKey:
    secret: bytes
    id: str  # a fingerprint, stored with each event: which key made its hash
    path: Path


_keys: dict[Path, AuditKey] = {}  # read once per process: one HMAC per event, no file access


def key_path(session: Session) -> Path:
    setting = get_settings().audit_key_file
    return Path(setting) if setting else beside_store(str(session.get_bind().url), "audit.key")


def audit_key(session: Session, *, create: bool = True) -> AuditKey | None:
    """The chain's key (refused when others may read its file); made on the first event when it
    does not exist yet; None when it does not and `create` is off (verifying makes no key)."""
    path = key_path(session).absolute()
    if path not in _keys:
        if not create and not path.exists():
            return None
        text = owner_only_key(path, lambda: secrets.token_hex(32)) if create else read_owner_only(path)
        if len(text) < 32:
            raise refusal(ValueError, "{path} holds no usable audit key (at least 32 characters)", path=str(path))
        secret = text.encode()
        _keys[path] = AuditKey(secret, hmac.new(secret, b"tiptriage audit key id", "sha256").hexdigest()[:16], path)
    return _keys[path]


def event_hash(prev_hash: str, seq: int, at: datetime, actor: str, action: str, entity: str,
               entity_ids: list, reason: str | None, details: dict, *, key: bytes | None = None) -> str:
    """HMAC-SHA256 with `key`; without one the plain SHA-256 of the events from before the key."""
    body = json.dumps([seq, at.isoformat(), actor, action, entity, entity_ids, reason, details],
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    message = prev_hash.encode() + body.encode()
    return hmac.new(key, message, "sha256").hexdigest() if key else hashlib.sha256(message).hexdigest()


def record(session: Session, *, actor: str, action: str, entity: str, entity_ids: list | None = None,
           reason: str | None = None, details: dict | None = None) -> AuditEvent:
    """Append one event (flushed, not committed: it commits with the change it records)."""
    key = audit_key(session)
    head = _locked_head(session)
    entity_ids = list(entity_ids or [])
    details = json.loads(json.dumps(details or {}, default=str))  # exactly what the JSON column returns
    at = utcnow()
    seq = head.seq + 1
    digest = event_hash(head.hash, seq, at, actor, action, entity, entity_ids, reason, details, key=key.secret)
    event = AuditEvent(seq=seq, at=at, actor=actor, action=action, entity=entity, entity_ids=entity_ids,
                       reason=reason, details=details, prev_hash=head.hash, hash=digest, key_id=key.id)
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
    problem_id: str | None = None  # the message id (English), said in the reader's language by `said`
    values: dict | None = None
    keyed_from: int = 1  # the first event that must be keyed
    key_id: str | None = None
    checkpoints: int = 0  # checkpoints the chain was compared with

    @property
    def problem(self) -> str | None:
        return self.problem_id and self.problem_id.format(**(self.values or {}))

    def said(self) -> str | None:
        return self.problem_id and _(self.problem_id, **(self.values or {}))

    @property
    def unkeyed(self) -> int:
        """Events from before the store had a key (plain SHA-256)."""
        return min(self.events, self.keyed_from - 1)


class Checkpoint(BaseModel):
    """One line of a checkpoint file: the chain's head as it was at `at`."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    seq: int = Field(ge=1)
    hash: str = Field(pattern="^[0-9a-f]{64}$")
    at: datetime
    keyed_from: int = Field(ge=1)
    key_id: str | None = None


def verify(session: Session, checkpoints: list[Checkpoint] = ()) -> Verification:
    """Walk the chain in order; the first event that does not fit is named: one missing, altered,
    out of place, written without the key after the switch point, or not the event a checkpoint
    recorded at its seq. A keyed event needs the key: without its file the walk is refused."""
    head = session.get(AuditHead, 1)
    head_seq, head_hash, keyed_from = (head.seq, head.hash, head.keyed_from) if head else (0, GENESIS, 1)
    key = audit_key(session, create=False)
    marks = {c.seq: c for c in checkpoints}
    prev_hash, expected_seq, count = GENESIS, 1, 0

    def broken(at: int, msgid: str, /, **values) -> Verification:
        return Verification(False, count, at, msgid, values, keyed_from, key and key.id, len(checkpoints))

    moved = [c for c in checkpoints if c.keyed_from != keyed_from]
    if moved:
        return broken(min(keyed_from, moved[0].keyed_from),
                      N_("keyed events start at event {now}, but at {at} they started at event {then}"),
                      now=keyed_from, then=moved[0].keyed_from, at=moved[0].at.isoformat(timespec="seconds"))
    rows = session.execute(select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=2000))
    for event in rows.scalars():
        if event.seq != expected_seq:
            return broken(expected_seq, N_("event {seq} is missing (next is {next})"), seq=expected_seq,
                          next=event.seq)
        if event.prev_hash != prev_hash:
            return broken(event.seq, N_("does not follow the previous event (prev_hash differs)"))
        if problem := _misfit(event, key, keyed_from, session):
            return broken(event.seq, problem[0], **problem[1])
        mark = marks.get(event.seq)
        if mark and mark.hash != event.hash:
            return broken(event.seq, N_("is not the event the checkpoint of {at} recorded: the log was rewritten "
                                        "at or before it"), at=mark.at.isoformat(timespec="seconds"))
        prev_hash, expected_seq, count = event.hash, expected_seq + 1, count + 1
    beyond = [c for c in checkpoints if c.seq > count]
    if beyond:
        return broken(count + 1, N_("the log ends at event {count} but the checkpoint of {at} recorded event {seq} "
                                    "(events removed)"), count=count, seq=beyond[0].seq,
                      at=beyond[0].at.isoformat(timespec="seconds"))
    if (head_seq, head_hash) != (count, prev_hash):
        return broken(count + 1 if head_seq > count else head_seq,
                      N_("the log ends at event {count} but {written} were written (tail removed or head altered)"),
                      count=count, written=head_seq)
    return Verification(True, count, keyed_from=keyed_from, key_id=key and key.id, checkpoints=len(checkpoints))


def _misfit(event: AuditEvent, key: AuditKey | None, keyed_from: int, session: Session) -> tuple | None:
    """Why one event's hash does not hold (message id and values), or None."""
    fields = (event.prev_hash, event.seq, event.at, event.actor, event.action, event.entity, event.entity_ids,
              event.reason, event.details)
    if event.key_id is None:
        if event.seq >= keyed_from:  # no silent downgrade: after the switch every event is keyed
            return (N_("written without the key, though every event from {first} on is keyed (re-chained or "
                       "forged by someone without the key)"), {"first": keyed_from})
        return None if event_hash(*fields) == event.hash else (N_("contents were altered (hash differs)"), {})
    if key is None:
        raise refusal(ValueError, "the audit key {path} is missing: the keyed events cannot be verified without it",
                      path=str(key_path(session)))
    if event.key_id != key.id:
        return (N_("was keyed with another key ({theirs}) than {path} ({ours})"),
                {"theirs": event.key_id, "path": str(key.path), "ours": key.id})
    if event.seq < keyed_from:
        return (N_("is keyed, but keyed events start at event {first} (the switch point was moved)"),
                {"first": keyed_from})
    if event_hash(*fields, key=key.secret) == event.hash:
        return None
    if event_hash(*fields) == event.hash:
        return N_("hashed without the key (re-chained or forged by someone without the key)"), {}
    return N_("contents were altered (hash differs)"), {}


def checkpoint(session: Session, *, actor: str) -> tuple[Verification, Checkpoint | None]:
    """The chain verified, then the taking of a checkpoint recorded and the head after it returned,
    for `append_checkpoint` once the transaction has committed (no checkpoint of a broken chain:
    it would vouch for what was altered). Who may take one (read_audit) is the caller's check:
    the audit log sits below the accounts (flows.audit_checkpoint)."""
    state = verify(session)
    if not state.ok:
        return state, None
    event = record(session, actor=actor, action="audit.checkpoint", entity="audit", reason="checkpoint")
    return state, Checkpoint(seq=event.seq, hash=event.hash, at=event.at, keyed_from=state.keyed_from,
                             key_id=event.key_id)


def open_checkpoints(path: Path) -> TextIO:
    """The auditor's file, opened to append (made owner-only), before the checkpoint is taken, so a
    file that cannot be written leaves nothing recorded. An existing file others may read, or
    anything but a regular file (a FIFO would hang the command), is refused by name."""
    if path.exists() and not path.is_file():
        raise refusal(ValueError, "{path} is not a regular file", path=str(path))
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o600)
    except OSError as exc:
        raise refusal(ValueError, "{path}: {error}", path=str(path), error=os.strerror(exc.errno or 0)) from None
    handle = os.fdopen(fd, "a", encoding="utf-8")
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode) or mode & (stat.S_IRWXG | stat.S_IRWXO):
        handle.close()
        if not stat.S_ISREG(mode):
            raise refusal(ValueError, "{path} is not a regular file", path=str(path))
        raise refusal(ValueError, "{path} may be read by others than its owner (chmod 600 it)", path=str(path))
    return handle


def append_checkpoint(handle: TextIO, mark: Checkpoint) -> None:
    """One JSON line at the end of the file `open_checkpoints` opened, on disk before it returns."""
    handle.write(mark.model_dump_json() + "\n")
    handle.flush()
    os.fsync(handle.fileno())


def read_checkpoints(path: Path) -> list[Checkpoint]:
    """The checkpoints of a file `append_checkpoint` wrote; a line that is not one is refused by number."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        error = os.strerror(exc.errno or 0) if isinstance(exc, OSError) else "not UTF-8"
        raise refusal(ValueError, "{path}: {error}", path=str(path), error=error) from None
    marks = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            marks.append(Checkpoint.model_validate_json(line))
        except ValidationError as exc:
            first = exc.errors()[0]
            raise refusal(ValueError, "{path} line {line}: not a checkpoint ({error})", path=str(path), line=number,
                          error=f"{'.'.join(map(str, first['loc'])) or 'line'}: {first['msg']}") from None
    return marks


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


__all__ = ["record", "consulted", "consulted_reports", "attempted", "unit_of_work", "verify", "events", "Verification",
           "checkpoint", "open_checkpoints", "append_checkpoint", "read_checkpoints", "Checkpoint", "audit_key"]
