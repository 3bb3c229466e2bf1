"""Test fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL: 127.0.0.1:5432, trust auth (override with TIPTRIAGE_TEST_PG_URL). Each pytest worker
gets its own database, created here and dropped at the end; tables are emptied between tests.
When no server answers, the PostgreSQL variants skip and say why.
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from tiptriage import config
from tiptriage.db import Base, make_engine, migrate, session_factory

PG_ADMIN_URL = os.environ.get("TIPTRIAGE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_admin():
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means: no server to test against
        engine.dispose()
        return None, f"no PostgreSQL server answers at {PG_ADMIN_URL.split('@')[-1]}: {type(exc).__name__}"
    return engine, None


@pytest.fixture(scope="session")
def pg_url():
    admin, why = _pg_admin()
    if admin is None:
        pytest.skip(f"PostgreSQL tests skipped: {why}")
    name = f"tiptriage_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A migrated, empty database: a fresh SQLite file, or the worker's PostgreSQL database emptied."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        yield url
        return
    url = request.getfixturevalue("pg_url")
    yield url
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine):
    with session_factory(engine)() as s:
        yield s


@pytest.fixture
def cli_env(db_url, monkeypatch):
    """Environment for CLI tests: the test database, English text, settings re-read."""
    monkeypatch.setenv("TIPTRIAGE_DATABASE_URL", db_url)
    monkeypatch.setenv("TIPTRIAGE_LANG", "en")
    monkeypatch.setenv("COLUMNS", "250")  # rich folds long cells at 80 columns
    config.get_settings.cache_clear()
    yield db_url
    config.get_settings.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def _audit_key(tmp_path_factory):
    """One audit key for the test session (the PostgreSQL database outlives a test), never in ./var;
    in os.environ, so CLI processes a test starts use it too."""
    os.environ.setdefault("TIPTRIAGE_AUDIT_KEY_FILE", str(tmp_path_factory.getbasetemp() / "audit.key"))


@pytest.fixture(autouse=True)
def _fresh_settings():
    config.get_settings.cache_clear()
    yield
    config.get_settings.cache_clear()
