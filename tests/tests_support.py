"""Small builders shared by tests (plain functions, importable as `tests_support`)."""

from __future__ import annotations

from pathlib import Path

from intake.test_store import make_report, write_xml  # noqa: F401 - re-exported for other tests


def write_reports(folder: Path, n: int, start: int = 0) -> list[Path]:
    return [write_xml(folder, make_report(k)) for k in range(start, start + n)]


def command(session):
    """One command's unit of work on a test's session, as the CLI runs it: committed when the block
    ends, rolled back (its consultations kept) when it is refused."""
    from contextlib import nullcontext

    from tiptriage.audit.service import unit_of_work

    return unit_of_work(lambda: nullcontext(session))


def as_administrator(connection) -> None:
    """Tamper as an administrator covering tracks would: lift the audit log's append-only trigger
    for this transaction (PostgreSQL, a superuser may; SQLite has none). A session or connection."""
    from sqlalchemy import text

    dialect = connection.dialect if hasattr(connection, "dialect") else connection.get_bind().dialect
    if dialect.name == "postgresql":
        connection.execute(text("SET LOCAL session_replication_role = replica"))
