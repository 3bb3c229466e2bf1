"""The audit chain: intact after normal work, broken (and named) after any direct tampering."""

from __future__ import annotations

import pytest

from tiptriage.accounts.actor import Actor
from tiptriage.audit import service as audit

from tests_support import as_administrator


def _events(session, n: int) -> None:
    for k in range(n):
        audit.record(session, actor=f"user{k % 2}", action="report.view", entity="report", entity_ids=[k],
                     reason="check", details={"k": k, "nested": {"a": [1, 2]}})
    session.commit()


def test_an_untouched_chain_verifies(session):
    _events(session, 5)
    result = audit.verify(session)
    assert result.ok and result.events == 5


def test_an_empty_log_verifies(session):
    assert audit.verify(session).ok


@pytest.mark.parametrize("statement, broken", [
    ("UPDATE audit_events SET actor = 'someone-else' WHERE seq = 3", 3),
    ("UPDATE audit_events SET reason = NULL WHERE seq = 2", 2),
    ("UPDATE audit_events SET entity_ids = '[99]' WHERE seq = 4", 4),
    ("DELETE FROM audit_events WHERE seq = 2", 2),
    ("DELETE FROM audit_events WHERE seq = 5", 5),
    ("UPDATE audit_events SET seq = seq + 100 WHERE seq = 1", 1),
])
def test_direct_edits_are_found_and_named(session, tamper, statement, broken):
    _events(session, 5)
    tamper(statement)
    result = audit.verify(session)
    assert not result.ok and result.broken_seq == broken, result


def test_swapping_two_events_is_found(session, tamper):
    _events(session, 4)
    tamper("UPDATE audit_events SET seq = 100 WHERE seq = 2", "UPDATE audit_events SET seq = 2 WHERE seq = 3",
           "UPDATE audit_events SET seq = 3 WHERE seq = 100")
    result = audit.verify(session)
    assert not result.ok and result.broken_seq == 2


@pytest.mark.parametrize("with_key, broken", [(False, 2), (True, 3)])
def test_recomputing_one_hash_after_an_edit_still_breaks(session, with_key, broken):
    """A forger who fixes the edited row's own hash: without the key the row itself is caught,
    with it the following event is."""
    _events(session, 3)
    as_administrator(session)
    ev = session.get(audit.AuditEvent, 2)
    ev.actor = "forger"
    ev.hash = audit.event_hash(ev.prev_hash, ev.seq, ev.at, ev.actor, ev.action, ev.entity, ev.entity_ids,
                               ev.reason, ev.details, key=audit.audit_key(session).secret if with_key else None)
    session.commit()
    result = audit.verify(session)
    assert not result.ok and result.broken_seq == broken, result


def test_events_roll_back_with_the_change_they_record(session):
    _events(session, 2)
    audit.record(session, actor=Actor("x"), action="report.view", entity="report", entity_ids=[1])
    session.rollback()
    _events(session, 1)
    result = audit.verify(session)
    assert result.ok and result.events == 3
