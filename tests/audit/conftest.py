from __future__ import annotations

import pytest
from sqlalchemy import text

from tests_support import as_administrator


@pytest.fixture
def tamper(session):
    """Run SQL on the audit tables past the append-only trigger, and commit."""
    def run(*statements: str, **params) -> None:
        as_administrator(session)
        for statement in statements:
            session.execute(text(statement), params)
        session.commit()
    return run
