"""Subjects: the trained linkage model in use, and storing a new version of it."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tiptriage.audit import service as audit
from tiptriage.db import utcnow
from tiptriage.subjects import linkage
from tiptriage.subjects.models import LinkageModel


def active_model(session: Session) -> linkage.Model:
    """The active trained model, or the packaged default when none was trained here."""
    row = session.execute(select(LinkageModel).where(LinkageModel.active.is_(True))).scalar_one_or_none()
    return linkage.load(row.document if row else linkage.packaged_document())


def save_model(session: Session, document: dict, *, actor: str, reason: str | None = None) -> LinkageModel:
    """Store a model version and make it the active one (audited)."""
    linkage.compile_model(document)  # refuse a document the fast path could not use
    existing = session.execute(
        select(LinkageModel).where(LinkageModel.version == document["version"])
    ).scalar_one_or_none()
    session.execute(update(LinkageModel).values(active=False))
    if existing is None:
        existing = LinkageModel(
            version=document["version"], created_at=utcnow(), created_by=actor, active=True, document=document
        )
        session.add(existing)
    existing.active = True
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="subjects.model",
        entity="subject_model",
        entity_ids=[existing.id],
        reason=reason,
        details={"version": document["version"], "trained": document.get("trained")},
    )
    return existing
