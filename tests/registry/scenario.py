"""The registry tests' common start: a warned person, and a later report linkage keeps apart."""

from __future__ import annotations

from datetime import UTC, date, datetime

from triage.dbdata import bank, ingest, known, report

from tiptriage.accounts.actor import Actor
from tiptriage.intake.domain import ReportedPerson
from tiptriage import flows
from tiptriage.subjects import linking
from tiptriage.triage import service as triage

LATER = datetime(2024, 2, 1, 10, tzinfo=UTC)


def warned_then_reported_again(session, tmp_path, warned: ReportedPerson,
                               again: ReportedPerson) -> tuple[int, int, int]:
    """`warned` gets a warning (proposed, approved by a second person, delivered in Limburg); then
    `again` is reported, linked to a subject of its own and recommended a WARNING.
    Returns (warning id, first report id, second report id)."""
    bank(session, tmp_path)
    first = ingest(session, tmp_path / "1", report("a-1", known(0), who=warned))[0]
    second = ingest(session, tmp_path / "2", report("a-2", known(1), who=again, incident=LATER))[0]
    linking.resolve_reports(session, [first, second], actor=Actor("pipeline"))
    session.commit()
    triage.triage_pending(session, actor=Actor("pipeline"))
    warning = flows.propose_warning(session, first, actor=Actor("anna"), justification="First-time download.")
    flows.approve_warning(session, warning.id, actor=Actor("bram"))
    flows.deliver_warning(session, warning.id, actor=Actor("cor"), on=date(2023, 11, 14), officer="Agent 0412",
                          unit="Limburg", referral_offered=True)
    assert triage.report_triage(session, second)["recommendation"]["outcome"] == "WARNING"
    return warning.id, first, second
