"""Log lines say what happened — stages, counts, timings, the store — and never carry personal data:
no name, mailbox, phone number, address or IP address of any reported person appears in them."""

from __future__ import annotations

import logging

from sqlalchemy import select

from tiptriage.accounts.actor import Actor
from tiptriage import pipeline
from tiptriage.db import make_engine, migrate, session_factory
from tiptriage.intake.models import AddressRow, IdentifierRow, IpEventRow, ReportedPersonRow
from tiptriage.synth.generator import generate


def _personal_values(session) -> set[str]:
    """Every name, identifier, IP address and street the store holds of a reported person."""
    values = set()
    for column in (ReportedPersonRow.given_name, ReportedPersonRow.family_name, IdentifierRow.value,
                   IpEventRow.ip, AddressRow.street):
        values |= {v for v in session.execute(select(column).distinct()).scalars() if v and len(v) > 3}
    return values


def test_the_data_path_logs_stages_and_counts_but_no_personal_data(tmp_path, caplog):
    generate(tmp_path / "data", reports=60, seed=5)
    engine = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    migrate(engine)
    with caplog.at_level(logging.DEBUG, logger="tiptriage"), session_factory(engine)() as s:
        pipeline.process(s, [tmp_path / "data" / "reports"], actor=Actor("test"))
        personal = _personal_values(s)
    engine.dispose()
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("tiptriage")]
    assert any("stage link done" in line for line in lines) and any("stage triage done" in line for line in lines)
    assert len(personal) > 50
    assert [(line, v) for line in lines for v in personal if v in line] == []
