"""The one path data takes, as plain function calls: intake → media → subjects → triage.

The CLI's `ingest`, the web app and batch jobs all call `process`, so a report that is stored
is always matched, linked to a subject and triaged in the same way.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from tiptriage.intake import service as intake
from tiptriage.media import service as media
from tiptriage.subjects import bulk, service as subjects
from tiptriage.triage import service as triage


@dataclass
class PipelineSummary:
    intake: intake.IngestSummary
    matching: dict[str, int] = field(default_factory=dict)  # files by match status
    linking: dict[str, int] = field(default_factory=dict)  # reported persons by decision (linked/review/new)
    triage: dict[str, int] = field(default_factory=dict)  # reports by recommended outcome
    alerts: int = 0
    retriaged: int = 0  # earlier reports triaged again because linking joined their subjects
    seconds: dict[str, float] = field(default_factory=dict)  # per stage: store, match, link, triage
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # the same, this process's CPU time

    def as_dict(self) -> dict:
        return self.intake.as_dict() | {"matching": self.matching, "linking": self.linking,
                                        "triage": self.triage, "alerts": self.alerts,
                                        "retriaged": self.retriaged}


def process(session: Session, paths: Iterable[str | Path], *, actor: str,
            on_file: Callable[[Path], None] | None = None) -> PipelineSummary:
    """Store the reports in `paths`, then run every later stage on the reports just stored."""
    clock = (time.perf_counter(), time.process_time())
    stored = intake.ingest(session, paths, actor=actor, on_file=on_file)
    summary = PipelineSummary(stored)
    clock = _lap(summary, "store", clock)
    if not stored.report_ids:
        return summary
    run = media.match_reports(session, stored.report_ids, actor=actor)
    summary.matching = dict(run.by_status)
    clock = _lap(summary, "match", clock)
    linking: Counter = Counter()
    # Link in batches, each committed (one transaction over a national year of reports stalled a
    # 100k run), and only then triage, so every report is triaged knowing all links of this ingest.
    for start in range(0, len(stored.report_ids), STAGE_BATCH):
        part = stored.report_ids[start:start + STAGE_BATCH]
        linking.update(r.decision for r in bulk.resolve_reports(session, part, actor=actor))
        session.commit()
    summary.linking = dict(linking)
    clock = _lap(summary, "link", clock)
    result = triage.triage_reports(session, stored.report_ids, actor=actor)  # commits per 1,000 reports
    summary.triage = dict(result.by_outcome)
    summary.alerts = result.alerts
    # Linking may have joined subjects, which changes the history of reports triaged before this
    # ingest: triage those now, so the queue never shows a recommendation made on stale links.
    earlier = sorted(set(subjects.pending_retriage(session)) - set(stored.report_ids))
    if earlier:
        again = triage.triage_reports(session, earlier, actor=actor, trigger="subject",
                                      reason="subjects joined while linking new reports")
        summary.retriaged = again.triaged
        summary.alerts += again.alerts
    _lap(summary, "triage", clock)
    return summary


def _lap(summary: PipelineSummary, stage: str, since: tuple[float, float]) -> tuple[float, float]:
    now = (time.perf_counter(), time.process_time())
    summary.seconds[stage], summary.cpu_seconds[stage] = now[0] - since[0], now[1] - since[1]
    return now


STAGE_BATCH = 1000  # reports linked per transaction
