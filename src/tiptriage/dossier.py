"""The one place that tells everything known about a report, across the domains.

`intake` knows what was reported, `media` what each file is, `subjects` who stands behind it
(with the evidence of each link) and `triage` what is recommended, why, and what was decided. The CLI's `reports show` and the API return
this document; reading it is an audited access to personal data.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tiptriage.i18n import lang
from tiptriage.intake.documents import report_document
from tiptriage.media import service as media
from tiptriage.subjects import membership
from tiptriage.subjects.documents import links_doc
from tiptriage.triage import service as triage
from tiptriage.triage.models import TriageState


def report_dossier(session: Session, report_id: int, *, actor: str, reason: str | None = None) -> dict | None:
    """None when there is no such report. A report of a unit the actor does not work for is
    refused (NotAllowed) before anything is read, and the attempt is on record."""
    triage.report_in_view(session, report_id, actor)
    doc = report_document(session, report_id, actor=actor, reason=reason)
    if doc is None:
        return None
    statuses = media.file_status(session, [f["id"] for f in doc["files"]])
    verdicts = {v["file_id"]: v for v in triage.distribution_now(session, [report_id]).get(report_id, [])}
    for f in doc["files"]:
        f["match"] = statuses.get(f["id"], {"status": None, "matches": []})
        verdict = verdicts.get(f["id"], {})
        f["distribution"] = {"verdict": verdict.get("verdict"), "basis": verdict.get("basis")}
    person_ids = [p["id"] for p in doc["persons"]]
    subject_of = membership.subject_of_persons(session, person_ids)
    links: dict[int, list[dict]] = {}
    for link in links_doc(session, person_ids):
        links.setdefault(link["reported_person_id"], []).append(link)
    for p in doc["persons"]:
        p["subject_id"] = subject_of.get(p["id"])
        p["links"] = links.get(p["id"], [])
    doc["triage"] = triage.report_triage(session, report_id, lang=lang())
    return doc
