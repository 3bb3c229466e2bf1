"""Two people acting on the same thing at the same moment, each in their own session (as two
terminals or two web requests): of conflicting actions exactly one wins, the other is refused with
the message it would get one after the other, nothing crashes, and the audit chain verifies."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from triage.dbdata import bank, ingest, known, report, reported_person

from tiptriage.accounts.actor import Actor
from tiptriage import flows
from tiptriage.audit import service as audit
from tiptriage.db import session_factory
from tiptriage.registry import service as registry
from tiptriage.registry.models import Investigation, PoliceWarning, WarningEvent
from tiptriage.triage import service as triage
from tiptriage.triage.subjectlinks import FixedLinks

ATTEMPTS = range(3)


def _at_once(engine, *actions):
    """Run each action in a thread with a session of its own, released together; what each
    returned or raised, in order."""
    start = threading.Barrier(len(actions))
    outcomes: list = [None] * len(actions)

    def run(i, action):
        with session_factory(engine)() as s:
            start.wait()
            try:
                outcomes[i] = action(s)
                s.commit()
            except Exception as exc:  # noqa: BLE001 - the outcome under test
                s.rollback()
                outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


@pytest.fixture
def triaged(session, tmp_path):
    """One report of a first-time downloader of known material, triaged WARNING and committed."""
    bank(session, tmp_path)
    (report_id,) = ingest(session, tmp_path / "in", report("first", known(0)))
    links = FixedLinks({reported_person(session, report_id): 7})
    triage.triage_reports(session, [report_id], actor=Actor("analyst"), links=links)
    session.commit()
    return report_id, links


@pytest.mark.parametrize("attempt", ATTEMPTS)
def test_two_approvals_at_once_one_wins(engine, session, triaged, attempt):
    report_id, links = triaged
    warning = flows.propose_warning(session, report_id, actor=Actor("anna"), justification="x", links=links)
    session.commit()
    outcomes = _at_once(engine, *(lambda s, who=who: flows.approve_warning(s, warning.id, actor=who, links=links)
                                  for who in (Actor("bob"), Actor("carla"))))
    won = [o for o in outcomes if not isinstance(o, Exception)]
    lost = [o for o in outcomes if isinstance(o, Exception)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert isinstance(lost[0], registry.RegistryError) and "approved" in str(lost[0])
    session.expire_all()
    states = list(session.execute(select(WarningEvent.state).where(WarningEvent.warning_id == warning.id)
                                  .order_by(WarningEvent.id)).scalars())
    assert states == ["proposed", "approved"]
    assert audit.verify(session).ok


@pytest.mark.parametrize("attempt", ATTEMPTS)
def test_two_decisions_on_one_report_at_once_one_wins(engine, session, triaged, attempt):
    report_id, links = triaged
    outcomes = _at_once(
        engine,
        lambda s: flows.propose_warning(s, report_id, actor=Actor("anna"), justification="warning", links=links),
        lambda s: triage.decide(s, report_id, actor=Actor("bob"), justification="search", outcome="CRIMINAL_CASE",
                                links=links),
    )
    lost = [o for o in outcomes if isinstance(o, Exception)]
    assert len(lost) == 1, outcomes
    assert isinstance(lost[0], triage.DecisionError)
    session.expire_all()
    warnings = session.execute(select(func.count()).select_from(PoliceWarning)).scalar_one()
    investigations = session.execute(select(func.count()).select_from(Investigation)).scalar_one()
    assert (warnings, investigations) in ((1, 0), (0, 1))  # never a proposed warning and an investigation
    assert audit.verify(session).ok


def test_audited_reads_at_once_never_share_a_sequence_number(engine, session):
    def reads(s):
        for i in range(20):
            audit.record(s, actor=Actor("reader"), action="report.view", entity="report", entity_ids=[i])
            s.commit()
        return True

    assert _at_once(engine, reads, reads, reads) == [True, True, True]
    state = audit.verify(session)
    assert (state.ok, state.events, state.broken_seq) == (True, 60, None)
