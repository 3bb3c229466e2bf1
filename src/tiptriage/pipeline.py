"""The one path data takes, as plain function calls: intake → media → subjects → triage.

The CLI's `ingest`, the web app and batch jobs all call `process`, so a report that is stored
is always matched, linked to a subject and triaged in the same way. What a stage has still to do
is read from the store (`Pending`), not kept in memory: a run that was killed is finished by the
next one, or by `tiptriage triage`, and triage never runs before matching and linking are done.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tiptriage.accounts.actor import require
from tiptriage.db import exclusive
from tiptriage.intake import storing
from tiptriage.intake.models import FileRow, Report, ReportedPersonRow
from tiptriage.media import service as media
from tiptriage.media.models import FileMatchState
from tiptriage.subjects import bulk, membership, retriage
from tiptriage.subjects.models import SubjectMember
from tiptriage.triage import service as triage
from tiptriage.triage.models import TriageState


# Log lines carry counts, ids of runs and timings, never a name, an identifier or a file's content.
log = logging.getLogger(__name__)


@dataclass
class PipelineSummary:
    intake: storing.IngestSummary
    matching: dict[str, int] = field(default_factory=dict)  # files by match status
    linking: dict[str, int] = field(default_factory=dict)  # reported persons by decision (linked/review/new)
    triage: dict[str, int] = field(default_factory=dict)  # reports by recommended outcome
    alerts: int = 0
    retriaged: int = 0  # earlier reports triaged again because linking joined their subjects
    resumed: int = 0  # reports an earlier, stopped run left unmatched, unlinked or untriaged, finished now
    seconds: dict[str, float] = field(default_factory=dict)  # per stage: store, match, link, triage
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # the same, this process's CPU time

    def as_dict(self) -> dict:
        return self.intake.as_dict() | {"matching": self.matching, "linking": self.linking,
                                        "triage": self.triage, "alerts": self.alerts,
                                        "retriaged": self.retriaged, "resumed": self.resumed}


def process(session: Session, paths: Iterable[str | Path], *, actor: str,
            on_file: Callable[[Path], None] | None = None) -> PipelineSummary:
    """Store the reports in `paths`, then run every later stage on what is pending: the reports
    just stored, and whatever an earlier run that was stopped left unmatched, unlinked or untriaged.
    Who brings report files in needs a role for it; the later stages are the system's own work."""
    require(actor, "ingest")
    clock = (time.perf_counter(), time.process_time())
    stored = ingest(session, paths, actor=actor, on_file=on_file)
    summary = PipelineSummary(stored)
    _refresh_statistics(session, len(stored.report_ids))
    clock = _lap(summary, "store", clock)
    return finish(session, actor=actor, summary=summary, clock=clock)


def ingest(session: Session, paths: Iterable[str | Path], *, actor: str | None = None,
           on_file: Callable[[Path], None] | None = None, batch_size: int | None = None) -> storing.IngestSummary:
    """Store the reports in `paths` and nothing more, committing each batch as intake finishes it
    (a killed run keeps what it committed; the next run counts those reports as duplicates)."""
    summary = storing.IngestSummary()
    storing.store(session, paths, summary, checkpoint=session.commit, actor=actor, on_file=on_file,
                  batch_size=batch_size)
    return summary


@dataclass(frozen=True)
class Pending:
    """Work a stage has not committed yet, read from the store itself (so it survives a killed
    run): files without a match status, reports with a reported person in no subject, reports
    without a recommendation."""

    files: list[int]
    unmatched: set[int]  # the reports of those files
    unlinked: list[int]
    untriaged: list[int]

    @classmethod
    def read(cls, session: Session) -> Pending:
        files = session.execute(select(FileRow.id, FileRow.report_id).where(~select(FileMatchState.file_id).where(
            FileMatchState.file_id == FileRow.id).exists()).order_by(FileRow.id)).all()
        unlinked = select(ReportedPersonRow.report_id).where(
            ReportedPersonRow.role == membership.SUBJECT_ROLE,
            ~select(SubjectMember.id).where(SubjectMember.reported_person_id == ReportedPersonRow.id).exists(),
        ).distinct().order_by(ReportedPersonRow.report_id)
        untriaged = select(Report.id).where(~select(TriageState.report_id).where(
            TriageState.report_id == Report.id).exists()).order_by(Report.id)
        return cls([f for f, _ in files], {r for _, r in files},
                   *(list(session.execute(q).scalars()) for q in (unlinked, untriaged)))

    def reports(self) -> set[int]:
        return self.unmatched | set(self.unlinked) | set(self.untriaged)


def finish(session: Session, *, actor: str, summary: PipelineSummary | None = None,
           clock: tuple[float, float] | None = None) -> PipelineSummary:
    """Match, link and triage whatever is pending, in that order, each stage committed before the
    next starts: a report is triaged only once its files are matched and its persons linked. One
    process at a time (two ingests at once would both take up the same pending files)."""
    summary = summary or PipelineSummary(storing.IngestSummary())
    clock = clock or (time.perf_counter(), time.process_time())
    with exclusive(session.get_bind(), "finish"):
        pending, clock = _match_and_link(session, actor, summary, clock)
        if pending.untriaged:
            result = triage.triage_reports(session, pending.untriaged, actor=actor,
                                           checkpoint=session.commit)  # a killed run keeps what was triaged
            summary.triage, summary.alerts = dict(result.by_outcome), result.alerts
        # Linking may have joined subjects, which changes the history of reports triaged before
        # this ingest: triage those now, so the queue never shows a recommendation made on stale links.
        earlier = sorted(set(retriage.pending_retriage(session)) - set(pending.untriaged))
        if earlier:
            again = triage.triage_reports(session, earlier, actor=actor, trigger="subject",
                                          reason="subjects joined while linking new reports", checkpoint=session.commit)
            summary.retriaged = again.triaged
            summary.alerts += again.alerts
        # Once more after triage: the queue's tables (triage_state, recommendations) were empty when
        # the store stage refreshed them, and SQLite's planner then scanned the queue (bench/web.py).
        _refresh_statistics(session, len(pending.untriaged))
    _lap(summary, "triage", clock)
    return summary


def catch_up(session: Session, *, actor: str) -> PipelineSummary:
    """Match and link whatever is pending (what a stopped ingest left), before a triage of its own."""
    summary = PipelineSummary(storing.IngestSummary())
    with exclusive(session.get_bind(), "finish"):
        _match_and_link(session, actor, summary, (time.perf_counter(), time.process_time()))
    return summary


def _match_and_link(session: Session, actor: str, summary: PipelineSummary,
                    clock: tuple[float, float]) -> tuple[Pending, tuple[float, float]]:
    pending = Pending.read(session)
    summary.resumed = len(pending.reports() - set(summary.intake.report_ids))
    if pending.files:
        summary.matching = dict(media.match_files(session, pending.files, actor=actor, trigger="ingest",
                                                  checkpoint=session.commit).by_status)
    clock = _lap(summary, "match", clock)
    linking: Counter = Counter()
    # Link in batches, each committed (one transaction over a national year of reports stalled a
    # 100k run), and only then triage, so every report is triaged knowing all links of this ingest.
    for start in range(0, len(pending.unlinked), STAGE_BATCH):
        part = pending.unlinked[start:start + STAGE_BATCH]
        linking.update(r.decision for r in bulk.resolve_reports(session, part, actor=actor))
        session.commit()
    summary.linking = dict(linking)
    return pending, _lap(summary, "link", clock)


def _refresh_statistics(session: Session, stored: int) -> None:
    """Both databases plan with table statistics; after a bulk load they describe an empty store. On
    PostgreSQL matching took 27 s per 500 files until ANALYZE, then 5 ms; on SQLite, without them,
    the queue's counts per outcome chose the (status, unit) index and a sort (100 ms at 100k
    reports) over the covering (outcome, status, unit) one (13 ms)."""
    if stored >= ANALYZE_AFTER:
        session.execute(text("ANALYZE"))
        session.commit()


def _lap(summary: PipelineSummary, stage: str, since: tuple[float, float]) -> tuple[float, float]:
    now = (time.perf_counter(), time.process_time())
    summary.seconds[stage], summary.cpu_seconds[stage] = now[0] - since[0], now[1] - since[1]
    log.info("stage %s done in %.2f s (%.2f s CPU): %s", stage, summary.seconds[stage], summary.cpu_seconds[stage],
             _counts(summary, stage))
    return now


def _counts(summary: PipelineSummary, stage: str) -> dict:
    if stage == "store":
        return {"stored": summary.intake.stored, "duplicates": summary.intake.duplicates,
                "rejected": summary.intake.rejected}
    if stage == "match":
        return summary.matching | {"resumed": summary.resumed}
    if stage == "link":
        return summary.linking
    return summary.triage | {"retriaged": summary.retriaged}


STAGE_BATCH = 1000  # reports linked per transaction
ANALYZE_AFTER = 1000  # reports stored in one run after which PostgreSQL's statistics are refreshed
