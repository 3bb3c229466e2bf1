"""An administrator covering tracks: every way of rewriting the log is found by `audit verify`,
named at the first broken event; what only a checkpoint can find, and what nothing can, said too."""

from __future__ import annotations

import json
import os
import stat

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from tiptriage import config
from tiptriage.audit import service as audit
from tiptriage.audit.models import AuditEvent, AuditHead
from tiptriage.cli import app
from tiptriage.db import make_engine, session_factory

from tests_support import as_administrator

runner = CliRunner()


def _events(session, n: int, start: int = 0) -> None:
    for k in range(start, start + n):
        audit.record(session, actor="anna", action="report.view", entity="report", entity_ids=[k], reason="check",
                     details={"k": k})
    session.commit()


def _rechain(session, *, key: bytes | None, key_id: str | None = "keep") -> None:
    """Recompute every hash from the first event on, as a forger would after deleting or editing,
    and set the head to the new last event."""
    as_administrator(session)
    prev = audit.GENESIS
    events = list(session.query(AuditEvent).order_by(AuditEvent.seq))
    for new_seq, ev in enumerate(events, 1):
        if ev.seq != new_seq:
            session.execute(text("UPDATE audit_events SET seq = :new WHERE seq = :old"), {"new": new_seq, "old": ev.seq})
            session.expire(ev)
        ev = session.get(AuditEvent, new_seq)
        if key_id != "keep":
            ev.key_id = key_id
        ev.prev_hash = prev
        ev.hash = prev = audit.event_hash(prev, ev.seq, ev.at, ev.actor, ev.action, ev.entity, ev.entity_ids,
                                          ev.reason, ev.details, key=key)
        session.flush()
    head = session.get(AuditHead, 1)
    head.seq, head.hash = len(events), prev
    session.commit()


def _verify(session, marks=()):
    session.expire_all()
    return audit.verify(session, list(marks))


def _mark(session) -> audit.Checkpoint:
    state, mark = audit.checkpoint(session, actor=_admin())
    session.commit()
    assert state.ok and mark
    return mark


def _use_key(monkeypatch, path) -> None:
    monkeypatch.setenv("TIPTRIAGE_AUDIT_KEY_FILE", str(path))
    config.get_settings.cache_clear()


def _admin():
    from tiptriage.accounts.actor import Actor
    return Actor("otto", roles=frozenset({"auditor"}))


@pytest.mark.parametrize("statements, broken, said", [
    (["DELETE FROM audit_events WHERE seq = 3"], 3, "missing"),
    (["UPDATE audit_events SET reason = 'routine' WHERE seq = 4"], 4, "altered"),
    (["UPDATE audit_events SET seq = 100 WHERE seq = 2", "UPDATE audit_events SET seq = 2 WHERE seq = 3",
      "UPDATE audit_events SET seq = 3 WHERE seq = 100"], 2, "does not follow"),  # reorder
    (["DELETE FROM audit_events WHERE seq > 4"], 5, "tail removed"),  # truncate
])
def test_delete_edit_reorder_and_truncate_are_found(session, tamper, statements, broken, said):
    _events(session, 6)
    tamper(*statements)
    result = _verify(session)
    assert not result.ok and result.broken_seq == broken and said in result.problem, result


@pytest.mark.parametrize("key_id", ["keep", None])
def test_delete_and_rechain_without_the_key_is_found(session, tamper, key_id):
    """The attack the unkeyed chain could not see: one view deleted, the rest re-chained with the
    project's own hash function, the head set to match."""
    _events(session, 5)
    tamper("DELETE FROM audit_events WHERE seq = 2")
    _rechain(session, key=None, key_id=key_id)
    result = _verify(session)
    assert not result.ok and result.broken_seq == 1 and "without the key" in result.problem, result


def test_a_rewrite_with_the_key_is_found_by_an_earlier_checkpoint(session, tamper):
    _events(session, 4)
    mark = _mark(session)  # event 5 is the checkpoint's own
    _events(session, 2, start=4)
    tamper("DELETE FROM audit_events WHERE seq = 2")
    _rechain(session, key=audit.audit_key(session).secret)
    assert _verify(session).ok  # the key alone cannot tell: whoever holds it can re-chain
    result = _verify(session, [mark])
    assert not result.ok and result.broken_seq == mark.seq and "checkpoint" in result.problem, result


def test_a_truncation_with_the_head_set_back_is_found_only_by_a_checkpoint(session, tamper):
    _events(session, 3)
    first = _mark(session)  # event 4
    _events(session, 3, start=3)
    second = _mark(session)  # event 8
    tamper("DELETE FROM audit_events WHERE seq > 5")
    tamper("UPDATE audit_head SET seq = 5, hash = (SELECT hash FROM audit_events WHERE seq = 5)")
    assert _verify(session).ok  # a clean cut with the head moved back leaves a valid chain
    assert _verify(session, [first]).ok  # a checkpoint from before the cut cannot see it either
    result = _verify(session, [first, second])
    assert not result.ok and result.broken_seq == 6 and "events removed" in result.problem, result


def test_a_store_from_before_the_key_verifies_up_to_its_switch_point(session, tamper):
    """Events written before migration 0018 keep their plain SHA-256; everything after is keyed."""
    _events(session, 3)
    _rechain(session, key=None, key_id=None)  # as the store was before it had a key
    tamper("UPDATE audit_head SET keyed_from = 4")
    _events(session, 2, start=3)
    result = _verify(session)
    assert result.ok and result.unkeyed == 3 and result.events == 5 and result.key_id, result


def test_a_downgrade_after_the_switch_point_is_tampering(session, tamper):
    _events(session, 3)
    _rechain(session, key=None, key_id=None)
    tamper("UPDATE audit_head SET keyed_from = 4")
    _events(session, 3, start=3)
    mark = _mark(session)
    tamper("DELETE FROM audit_events WHERE seq = 5")
    _rechain(session, key=None, key_id=None)  # all of it made to look as old as the first three
    result = _verify(session)
    assert not result.ok and result.broken_seq == 4 and "without the key" in result.problem, result
    tamper("UPDATE audit_head SET keyed_from = 100")  # and the switch point moved past the end
    assert _verify(session).ok  # a store rewritten wholesale as never keyed: only a checkpoint knows
    result = _verify(session, [mark])
    assert not result.ok and result.broken_seq <= 4, result


def test_events_keyed_with_another_key_are_named(session, tmp_path, monkeypatch):
    _events(session, 2)
    other = tmp_path / "other.key"
    _use_key(monkeypatch, other)
    _events(session, 1, start=2)  # made on first use
    assert stat.S_IMODE(other.stat().st_mode) == 0o600
    result = _verify(session)
    assert not result.ok and result.broken_seq == 1 and "another key" in result.problem and str(other) in result.problem


def test_postgresql_refuses_update_and_delete_of_audit_events(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has no such guard: the file's permissions are")
    _events(session, 2)
    for statement in ("UPDATE audit_events SET actor = 'someone' WHERE seq = 1", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
        session.rollback()
    assert _verify(session).ok and _verify(session).events == 2
    _events(session, 1, start=2)  # appending still works
    assert _verify(session).events == 3


# --- the key file ---------------------------------------------------------------------------------

def test_a_key_file_others_may_read_is_refused_in_dutch_naming_it(session, tmp_path, monkeypatch):
    key = tmp_path / "shared.key"
    key.write_text("k" * 64)
    key.chmod(0o644)
    _use_key(monkeypatch, key)
    with pytest.raises(ValueError) as refused:
        audit.record(session, actor="anna", action="report.view", entity="report")
    session.rollback()
    from tiptriage.i18n import message
    assert f"{key}" in message(refused.value) and "eigenaar" in message(refused.value)
    assert session.query(AuditEvent).count() == 0


def test_a_short_key_is_refused(session, tmp_path, monkeypatch):
    key = tmp_path / "short.key"
    key.write_text("geheim")
    key.chmod(0o600)
    _use_key(monkeypatch, key)
    with pytest.raises(ValueError, match="short.key"):
        audit.record(session, actor="anna", action="report.view", entity="report")


def test_the_key_is_made_next_to_the_sqlite_file_by_default(tmp_path, monkeypatch):
    from tiptriage.db import migrate

    monkeypatch.delenv("TIPTRIAGE_AUDIT_KEY_FILE")
    config.get_settings.cache_clear()
    engine = make_engine(f"sqlite:///{tmp_path / 'store' / 'tiptriage.db'}")
    migrate(engine)
    with session_factory(engine)() as s:
        _events(s, 1)
        assert audit.verify(s).ok
    engine.dispose()
    made = tmp_path / "store" / "audit.key"
    assert stat.S_IMODE(made.stat().st_mode) == 0o600 and len(made.read_text()) == 64


def test_verifying_keyed_events_without_the_key_file_is_refused(session, tmp_path, monkeypatch):
    key = tmp_path / "gone.key"
    _use_key(monkeypatch, key)
    _events(session, 1)
    key.unlink()
    audit._keys.clear()
    with pytest.raises(ValueError, match="gone.key"):
        audit.verify(session)


# --- the commands ---------------------------------------------------------------------------------

def _run(*args):
    return runner.invoke(app, list(args))


def test_checkpoint_and_verify_on_the_command_line(cli_env, tmp_path):
    engine = make_engine(cli_env)
    with session_factory(engine)() as s:
        _events(s, 3)
    marks = tmp_path / "auditor" / "checkpoints.jsonl"
    marks.parent.mkdir()
    first = _run("audit", "checkpoint", "--out", str(marks), "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["seq"] == 4
    said = _run("audit", "checkpoint", "--out", str(marks))
    assert said.exit_code == 0 and "event 5" in said.output
    lines = [json.loads(line) for line in marks.read_text().splitlines()]
    assert [line["seq"] for line in lines] == [4, 5] and stat.S_IMODE(marks.stat().st_mode) == 0o600
    assert {"seq", "hash", "at", "keyed_from", "key_id"} == set(lines[0])
    ok = _run("audit", "verify", "--checkpoint", str(marks))
    assert ok.exit_code == 0 and "5 events verified" in ok.output and "Every checkpoint of" in ok.output and "(2)" in ok.output, ok.output
    doc = json.loads(_run("audit", "verify", "--checkpoint", str(marks), "--json").stdout)
    assert doc["ok"] and doc["checkpoints"] == 2 and doc["unkeyed_events"] == 0 and doc["key_id"]

    with engine.begin() as conn:  # the tail cut off, the head set back
        as_administrator(conn)
        conn.execute(text("DELETE FROM audit_events WHERE seq >= 5"))
        conn.execute(text("UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit_events WHERE seq = 4)"))
    engine.dispose()
    assert _run("audit", "verify").exit_code == 0
    broken = _run("audit", "verify", "--checkpoint", str(marks))
    assert broken.exit_code == 1 and "BROKEN at event 5" in broken.output, broken.output
    doc = json.loads(_run("audit", "verify", "--checkpoint", str(marks), "--json").stdout)
    assert doc["ok"] is False and doc["broken_seq"] == 5


def test_a_checkpoint_file_others_may_read_or_not_a_checkpoint_is_refused(cli_env, tmp_path, monkeypatch):
    shared = tmp_path / "shared.jsonl"
    shared.write_text("")
    shared.chmod(0o644)
    refused = _run("audit", "checkpoint", "--out", str(shared))
    assert refused.exit_code == 2 and str(shared) in refused.output and shared.read_text() == ""
    missing = _run("audit", "checkpoint", "--out", str(tmp_path / "no-such-folder" / "marks.jsonl"))
    assert missing.exit_code == 2 and "no-such-folder" in missing.output
    assert _run("audit", "log", "--action", "audit.checkpoint", "--json").stdout.strip() == "[]"  # nothing taken
    garbled = tmp_path / "garbled.jsonl"
    garbled.write_text('{"seq": 1, "hash": "00", "at": "2026-01-01T00:00:00Z", "keyed_from": 1}\n')
    refused = _run("audit", "verify", "--checkpoint", str(garbled))
    assert refused.exit_code == 2 and "line 1" in refused.output and "garbled.jsonl" in refused.output
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    refused = _run("audit", "checkpoint", "--out", str(fifo))
    assert refused.exit_code == 2 and "not a regular file" in refused.output
    monkeypatch.delenv("TIPTRIAGE_LANG")
    dutch = _run("audit", "checkpoint", "--out", str(shared))
    assert "eigenaar" in dutch.output and str(shared) in dutch.output


def test_no_checkpoint_of_a_broken_chain(cli_env, tmp_path):
    engine = make_engine(cli_env)
    with session_factory(engine)() as s:
        _events(s, 3)
        as_administrator(s)
        s.execute(text("UPDATE audit_events SET actor = 'someone' WHERE seq = 2"))
        s.commit()
    engine.dispose()
    marks = tmp_path / "marks.jsonl"
    refused = _run("audit", "checkpoint", "--out", str(marks))
    assert refused.exit_code == 1 and "event 2" in refused.output and marks.read_text() == ""


def test_a_store_from_before_0018_keeps_verifying_and_goes_on_keyed(tmp_path):
    """A real upgrade: events written under 0017 (plain SHA-256), migration 0018, then new events."""
    from datetime import UTC, datetime

    from tiptriage.db import migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine, "0017")
    prev = audit.GENESIS
    with engine.begin() as conn:
        for seq in (1, 2):
            at = datetime(2026, 1, seq, tzinfo=UTC)
            digest = audit.event_hash(prev, seq, at, "anna", "report.view", "report", [seq], None, {})
            conn.execute(text("INSERT INTO audit_events (seq, at, actor, action, entity, entity_ids, reason, details,"
                              " prev_hash, hash) VALUES (:seq, :at, 'anna', 'report.view', 'report', :ids, NULL,"
                              " '{}', :prev, :hash)"),
                         {"seq": seq, "at": at.replace(tzinfo=None), "ids": f"[{seq}]", "prev": prev, "hash": digest})
            prev = digest
        conn.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 2, :hash)"), {"hash": prev})
    migrate(engine)
    with session_factory(engine)() as s:
        before = audit.verify(s)
        _events(s, 2)
        after = audit.verify(s)
    engine.dispose()
    assert before.ok and before.unkeyed == 2 and before.keyed_from == 3, before
    assert after.ok and after.unkeyed == 2 and after.events == 4, after


def test_a_separate_owner_leaves_the_application_no_way_around_the_trigger(session, db_url):
    """The deployment step of the README: the application's role may append, not switch the trigger off."""
    import uuid

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.orm import Session

    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    _events(session, 1)
    role = f"tiptriage_app_{uuid.uuid4().hex[:8]}"
    session.execute(text(f"CREATE ROLE {role} LOGIN"))
    session.execute(text(f"GRANT SELECT, INSERT ON audit_events TO {role}"))
    session.execute(text(f"GRANT SELECT, INSERT, UPDATE ON audit_head TO {role}"))
    session.commit()
    app_engine = create_engine(make_url(db_url).set(username=role, password=None).set(drivername="postgresql+psycopg"))
    try:
        with Session(app_engine) as app_session:
            audit.record(app_session, actor="anna", action="report.view", entity="report", entity_ids=[1])
            app_session.commit()
            for statement in ("SET session_replication_role = replica",
                              "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only",
                              "DELETE FROM audit_events", "TRUNCATE audit_events"):
                with pytest.raises(DBAPIError):
                    app_session.execute(text(statement))
                app_session.rollback()
        assert _verify(session).ok and _verify(session).events == 2
    finally:
        app_engine.dispose()
        session.rollback()
        session.execute(text(f"DROP OWNED BY {role}"))
        session.execute(text(f"DROP ROLE {role}"))
        session.commit()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.text(max_size=80), st.builds(json.dumps, st.dictionaries(
    st.sampled_from(["seq", "hash", "at", "keyed_from", "key_id", "x"]),
    st.one_of(st.integers(-3, 10**12), st.text(max_size=70), st.none(), st.just("0" * 64),
              st.just("2026-12-07T10:00:00Z"))))), max_size=5))
def test_a_checkpoint_file_is_read_or_refused_by_line_never_crashes(tmp_path, lines):
    path = tmp_path / "marks.jsonl"
    path.write_text("\n".join(line.replace("\n", " ").replace("\r", " ") for line in lines), encoding="utf-8")
    try:
        marks = audit.read_checkpoints(path)
    except ValueError as exc:
        assert exc.msgid == "{path} line {line}: not a checkpoint ({error})" and str(path) in str(exc)
    else:
        assert all(m.seq >= 1 and len(m.hash) == 64 for m in marks)


def test_only_an_auditor_or_administrator_takes_a_checkpoint(session):
    import pytest

    from tiptriage import flows
    from tiptriage.accounts.actor import Actor, NotAllowed

    with pytest.raises(NotAllowed, match="read_audit|auditor"):
        flows.audit_checkpoint(session, actor=Actor("anna", roles=("analyst",)))
    state, mark = flows.audit_checkpoint(session, actor=Actor("otto", roles=("auditor",)))
    assert state.ok and mark is not None
