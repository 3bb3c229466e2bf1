"""The entry point owns the transaction: services flush and never commit; a refused command leaves
nothing but the record of what was consulted or attempted (the read services' own records:
tests/registry/test_views.py)."""

from __future__ import annotations

import ast
from contextlib import nullcontext
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tiptriage.accounts.actor import Actor
from tiptriage.audit import service as audit
from tiptriage.audit.models import AuditEvent

SRC = Path(__file__).resolve().parents[1] / "src" / "tiptriage"

# Who may end a transaction: the entry points (the CLI's commands), the unit of work itself, the data
# path (a job whose stages commit one by one, so a killed run resumes) and the store's set-up.
MAY_COMMIT = {"cli.py", "cliutil.py", "pipeline.py", "db.py", "audit/service.py"}


def _commits(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"]


def test_no_service_module_commits():
    offenders = {}
    for path in sorted(SRC.rglob("*.py")):
        name = path.relative_to(SRC).as_posix()
        if name in MAY_COMMIT or name.endswith("/commands.py") or name.startswith("migrations/"):
            continue
        if lines := _commits(path):
            offenders[name] = lines
    assert offenders == {}, f"services must leave the commit to their entry point: {offenders}"


def test_the_check_finds_a_commit(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f(session):\n    session.add(1)\n    session.commit()\n")
    assert _commits(module) == [3]


def _work(session):
    return audit.unit_of_work(lambda: nullcontext(session))


def _count(session, action: str) -> int:
    return session.execute(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)).scalar()


def test_a_block_that_ends_commits_once(session, engine):
    with _work(session) as s:
        audit.record(s, actor=Actor("anna"), action="test.change", entity="x")
    session.close()
    with engine.connect() as other:
        assert other.execute(select(func.count()).select_from(AuditEvent)).scalar() == 1


def test_a_refused_block_keeps_only_what_was_consulted_or_attempted(session):
    with pytest.raises(LookupError), _work(session) as s:
        audit.record(s, actor=Actor("anna"), action="test.change", entity="x")
        audit.consulted(s, actor=Actor("anna"), action="test.view", entity="report", entity_ids=[3, 1], reason="check")
        audit.attempted(s, actor=Actor("anna"), action="test.refused", entity="bank")
        raise LookupError("no such thing")
    assert _count(session, "test.change") == 0
    view = session.execute(select(AuditEvent).where(AuditEvent.action == "test.view")).scalar_one()
    assert (view.actor, view.entity_ids, view.reason) == ("anna", [3, 1], "check")
    assert _count(session, "test.refused") == 1
    assert audit.verify(session).ok


def test_what_a_stage_committed_is_not_recorded_twice(session):
    with pytest.raises(RuntimeError), _work(session) as s:
        audit.consulted(s, actor=Actor("anna"), action="test.view", entity="report", entity_ids=[1])
        s.commit()  # a job's stage
        raise RuntimeError("stopped")
    assert _count(session, "test.view") == 1
    assert audit.verify(session).ok
