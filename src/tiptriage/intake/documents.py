"""Ingest: stored reports read back — lists, a report's document, its raw bytes, the quarantine.

Reading a report reads personal data: each read is audited with who and why.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from tiptriage.accounts.actor import require
from tiptriage.audit import service as audit
from tiptriage.i18n import refusal
from tiptriage.intake.compression import decompress
from tiptriage.intake.errors import said_again
from tiptriage.intake.models import FileRow, QuarantineEntry, Report, ReportedPersonRow
from tiptriage.intake.prepared import iso


def list_reports(session: Session, *, limit: int = 50, offset: int = 0, source: str | None = None) -> list[Report]:
    query = select(Report).order_by(Report.id.desc()).limit(limit).offset(offset)
    if source:
        query = query.where(Report.source == source)
    return list(session.execute(query).scalars())


def count_reports(session: Session) -> int:
    from sqlalchemy import func

    return session.execute(select(func.count()).select_from(Report)).scalar_one()


def raw_documents(session: Session, report: Report) -> list[tuple[str, bytes]]:
    """The report's original bytes, decompressed and checked against their stored SHA-256."""
    out = []
    for part in report.raw_parts:
        data = decompress(part.compression, part.data)
        if hashlib.sha256(data).hexdigest() != part.sha256:
            raise refusal(ValueError, "report {id}: raw part {seq} does not match its SHA-256", id=report.id, seq=part.seq)
        out.append((part.name, data))
    return out


def read_raw(session: Session, report_id: int, *, actor: str, reason: str | None = None) -> list[dict] | None:
    """The report's documents as they arrived (each checked against its stored SHA-256), audited.

    None when there is no such report; ValueError when a stored part no longer matches its hash
    (the store was altered: the caller must not hand such bytes on as the original); the refused
    read stays on record when the caller rolls back.
    """
    report = session.get(Report, report_id)
    if report is None:
        return None
    try:
        documents = raw_documents(session, report)
    except ValueError as exc:  # a sign the store was tampered with: the attempt is on record too
        audit.attempted(session, actor=actor, action="report.raw_read", entity="report", entity_ids=[report.id],
                        reason=reason, details={"refused": str(exc)})
        raise
    parts = [{"seq": p.seq, "name": name, "sha256": p.sha256, "data": data}
             for p, (name, data) in zip(report.raw_parts, documents, strict=True)]
    audit.consulted(session, actor=actor, action="report.raw_read", entity="report", entity_ids=[report.id],
                    reason=reason, details={"parts": [{"seq": p["seq"], "sha256": p["sha256"]} for p in parts]})
    return parts


def report_document(session: Session, report_id: int, *, actor: str, reason: str | None = None) -> dict | None:
    """Everything known about one report, as the JSON shape the CLI and API share.

    Reading a report reads personal data: the access is audited with who and why.
    """
    report = session.get(Report, report_id)
    if report is None:
        return None
    versions = session.execute(
        select(Report.id, Report.version, Report.ingested_at)
        .where(Report.source == report.source, Report.external_id == report.external_id)
        .order_by(Report.version)).all()
    doc = {
        "id": report.id, "source": report.source, "external_id": report.external_id, "version": report.version,
        "versions": [{"id": i, "version": v, "ingested_at": at.isoformat()} for i, v, at in versions],
        "format": report.format, "content_sha256": report.content_sha256,
        "incident_type": report.incident_type, "incident_at": iso(report.incident_at),
        "reported_at": iso(report.reported_at), "reporter": report.reporter,
        "annotations": report.annotations, "platform": report.platform, "escalation": report.escalation,
        "batched": report.batched, "incidents": report.incidents, "reporter_contact": report.reporter_contact,
        "law_enforcement": report.law_enforcement, "intake_flags": report.intake_flags or [],
        "ingested_at": iso(report.ingested_at),
        "ingested_by": report.ingested_by,
        "raw": [{"seq": p.seq, "name": p.name, "sha256": p.sha256, "size": p.size} for p in report.raw_parts],
        "persons": [_person_doc(p) for p in report.persons],
        "files": [_file_doc(f) for f in report.files],
    }
    audit.consulted(session, actor=actor, action="report.view", entity="report", entity_ids=[report.id],
                    reason=reason)
    return doc


def _person_doc(p: ReportedPersonRow) -> dict:
    return {
        "id": p.id, "ref": p.ref, "role": p.role, "given_name": p.given_name, "family_name": p.family_name,
        "date_of_birth": iso(p.date_of_birth), "age": p.age, "estimated_country": p.estimated_country,
        "prior_reports": p.prior_reports, "details": p.details,
        "identifiers": [{"kind": i.kind, "value": i.value, "verified": i.verified, "platform": i.platform,
                         "verified_at": iso(i.verified_at)} for i in p.identifiers],
        "addresses": [{"street": a.street, "postcode": a.postcode, "city": a.city, "country": a.country}
                      for a in p.addresses],
        "ip_events": [{"ip": e.ip, "event": e.event, "at": iso(e.at), "port": e.port,
                       "possible_proxy": e.possible_proxy} for e in p.ip_events],
    }


def _file_doc(f: FileRow) -> dict:
    return {
        "id": f.id, "ref": f.ref, "file_name": f.file_name, "person_ref": f.person_ref, "action": f.action,
        "recipients": f.recipients, "uploaded_at": iso(f.uploaded_at), "viewed_by_esp": f.viewed_by_esp,
        "publicly_available": f.publicly_available, "classification": f.classification,
        "annotations": f.annotations, "relevance": f.relevance, "details": f.details,
        "hashes": [{"hash_type": h.hash_type, "value": h.value} for h in f.hashes],
    }


def view_quarantine(session: Session, *, actor: str, purpose: str | None = None, limit: int = 50,
                    offset: int = 0) -> list[dict]:
    """Refused input, newest first: file, record, report id, field and reason. A reason may quote
    the refused value (a name, an e-mail address), so reading it is on record as a consultation:
    who, which entries, why. For those who bring report files in (the `ingest` action)."""
    require(actor, "ingest")
    rows = list(session.execute(select(QuarantineEntry).order_by(QuarantineEntry.id.desc())
                                .limit(limit).offset(offset)).scalars())
    audit.consulted(session, actor=actor, action="quarantine.view", entity="quarantine",
                    entity_ids=[q.id for q in rows], reason=purpose, details={"limit": limit, "offset": offset})
    return [{"id": q.id, "at": q.at.isoformat(), "file": q.path, "record": q.record, "report_id": q.report_id,
             "field": q.field, "reason": q.reason, "said": said_again(q.reason, _worded()),
             "raw_sha256": q.raw_sha256} for q in rows]


def _worded() -> tuple[str, ...]:
    """The refusals recorded from a message id, so the quarantine says them in the reader's language."""
    from tiptriage.intake.discovery import LINK_BROKEN, LINK_LEAVES, NOT_REGULAR
    from tiptriage.intake.formats.cybertip.reader import XINCLUDE
    from tiptriage.intake.formats.tiptriage_json import DUPLICATE_KEY
    from tiptriage.intake.parsing import REFUSED_WITH, SIBLING_OF_REFUSED

    return (NOT_REGULAR, LINK_LEAVES, LINK_BROKEN, XINCLUDE, DUPLICATE_KEY, REFUSED_WITH, SIBLING_OF_REFUSED)
