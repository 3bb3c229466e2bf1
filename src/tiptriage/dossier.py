"""The one place that tells everything known about a report, across the domains.

`intake` knows what was reported, `media` what each file is, and (as they land) `subjects` who
stands behind it and `triage` what is recommended. The CLI's `reports show` and the API return
this document; reading it is an audited access to personal data.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tiptriage.intake import service as intake
from tiptriage.media import service as media


def report_dossier(session: Session, report_id: int, *, actor: str, reason: str | None = None) -> dict | None:
    doc = intake.report_document(session, report_id, actor=actor, reason=reason)
    if doc is None:
        return None
    statuses = media.file_status(session, [f["id"] for f in doc["files"]])
    for f in doc["files"]:
        f["match"] = statuses.get(f["id"], {"status": None, "matches": []})
    return doc
