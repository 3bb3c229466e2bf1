"""Stored reports with files and hashes, written straight into intake's tables."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from tiptriage.db import utcnow
from tiptriage.intake.models import FileHashRow, FileRow, Report


def add_report(session: Session, files: list[dict]) -> tuple[int, list[int]]:
    """files: [{"hashes": {"md5": ..., "pdq": ...}, "classification": "A1" | None}] → (report id, file ids)."""
    report = Report(source="test", external_id=uuid.uuid4().hex, version=1, content_sha256=uuid.uuid4().hex * 2,
                    format="test", ingested_at=utcnow(), ingested_by="test", annotations=[])
    session.add(report)
    session.flush()
    ids = []
    for i, f in enumerate(files):
        row = FileRow(report_id=report.id, ref=f"f{i}", action="upload", recipients=[], annotations=[],
                      classification=f.get("classification"))
        session.add(row)
        session.flush()
        for hash_type, value in f.get("hashes", {}).items():
            session.add(FileHashRow(file_id=row.id, hash_type=hash_type, value=value))
        ids.append(row.id)
    session.commit()
    return report.id, ids
