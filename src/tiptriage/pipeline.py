"""The one path data takes, as plain function calls: intake → media → subjects → triage.

The CLI's `ingest`, the web app and batch jobs all call `process`, so a report that is stored
is always matched (and, as those stages land, linked and triaged) in the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from tiptriage.intake import service as intake
from tiptriage.media import service as media


@dataclass
class PipelineSummary:
    intake: intake.IngestSummary
    matching: dict[str, int] = field(default_factory=dict)  # files by match status

    def as_dict(self) -> dict:
        return self.intake.as_dict() | {"matching": self.matching}


def process(session: Session, paths: Iterable[str | Path], *, actor: str,
            on_file: Callable[[Path], None] | None = None) -> PipelineSummary:
    """Store the reports in `paths`, then run every later stage on the reports just stored."""
    stored = intake.ingest(session, paths, actor=actor, on_file=on_file)
    summary = PipelineSummary(stored)
    if stored.report_ids:
        run = media.match_reports(session, stored.report_ids, actor=actor)
        summary.matching = dict(run.by_status)
    return summary
