from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tiptriage.db import Base, UTCDateTime


class AuditEvent(Base):
    """Who did what, when, to which records, and why. `hash` covers the row and the previous hash:
    an HMAC-SHA256 with the audit key whose fingerprint is `key_id`, or, for events written before
    the store had a key (key_id NULL), a plain SHA-256."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity: Mapped[str] = mapped_column(String(64))
    entity_ids: Mapped[list] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(16))


class AuditHead(Base):
    """The newest event's seq and hash, written with every append. It catches a deleted tail
    (which leaves a valid chain behind) and is the row appenders lock to keep the chain linear.
    `keyed_from`: the first event that must be keyed (1 for a store made keyed; for an older store,
    the event after its last one when migration 0018 ran) — an unkeyed event from there on is forged."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    keyed_from: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
