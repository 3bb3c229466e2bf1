"""Engine, sessions and schema migrations (Alembic) for SQLite and PostgreSQL alike."""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from json.encoder import encode_basestring_ascii
from pathlib import Path

from sqlalchemy import (
    BigInteger, Connection, DateTime, Engine, Integer, MetaData, Table, TypeDecorator, create_engine, event, func,
    inspect, make_url, select, text,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from tiptriage.config import get_settings, sqlite_path
from tiptriage.i18n import refusal
from tiptriage.keyfiles import private_folder, private_open

# Stable constraint names, so Alembic migrations can refer to them on both databases.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Row ids: 64-bit on PostgreSQL (file hashes pass 2^31 at national scale), INTEGER on SQLite,
# where only INTEGER PRIMARY KEY auto-increments.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    # WAL lets readers (web, reports) go on while an ingest writes; foreign keys are off by default.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    # 64 MiB of page cache instead of 2: ingest inserts into random-key indexes (hashes,
    # identifiers), whose pages were re-read from the OS for every batch once a store held ~100k
    # reports (storing 1,000 more: file_hashes inserts 0.45 s -> 0.25 s).
    cur.execute("PRAGMA cache_size=-65536")
    cur.close()
    # Transactions are begun by SQLAlchemy (below), not by the driver's implicit BEGIN.
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection: Connection) -> None:
    # Every transaction takes SQLite's write lock when it begins, not at its first write: of two
    # that read and then write (an approval, a decision, the audit chain's head, ids after the
    # maximum), the second waits for the first and reads what it committed. With the driver's
    # deferred BEGIN both read the old state and both wrote (or one failed on a unique key).
    connection.exec_driver_sql("BEGIN IMMEDIATE")


log = logging.getLogger(__name__)

KNOWN_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")


class StoreError(Exception):
    """The store cannot be used: missing, unreachable, of an unknown kind or of a newer schema."""


def make_engine(url: str | None = None, *, create: bool = True) -> Engine:
    """An engine on `url`; `create=False` leaves a missing SQLite file's folder alone (a store is
    only made by the commands that create one)."""
    url = url or get_settings().database_url
    scheme = url.split(":", 1)[0]
    if scheme not in KNOWN_SCHEMES:
        raise refusal(StoreError, "TIPTRIAGE_DATABASE_URL: '{scheme}' is not a database tiptriage knows; use "
                                  "sqlite:///PATH or postgresql://HOST/DATABASE", scheme=scheme)
    path = sqlite_path(url)
    if path is not None and create:
        _private_store(path)
    engine = create_engine(_as_driver_url(url))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _private_store(path: Path) -> None:
    """A new SQLite store is made owner-only, in a folder only its owner enters (an empty file is
    an empty database); SQLite gives its journal files the store's own rights."""
    private_folder(path.parent)
    try:
        private_open(path, exclusive=True).close()
    except FileExistsError:
        pass


_engine: Engine | None = None  # one engine per process: the last URL opened


def engine_for(url: str) -> Engine:
    """The process's engine on `url` (another URL replaces it: a process works on one store)."""
    global _engine
    if _engine is None or _engine.url != make_url(_as_driver_url(url)):
        if _engine is not None:
            _engine.dispose()
        _engine = make_engine(url, create=False)
    return _engine


def _as_driver_url(url: str) -> str:
    return "postgresql+psycopg://" + url[len("postgresql://"):] if url.startswith("postgresql://") else url


@cache
def _scripts():
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(Path(__file__).parent / "migrations"))


def schema_head() -> str:
    """The newest schema revision this version of tiptriage knows."""
    return _scripts().get_current_head()


def schema_revision(engine: Engine) -> str | None:
    """The store's schema revision; None when it holds no tiptriage schema."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def ensure_schema(engine: Engine, *, create: bool) -> None:
    """Bring an existing store to the newest schema; make one only where `create` is asked. A
    missing store, one that does not answer or one newer than this software is a StoreError."""
    where = engine.url.render_as_string(hide_password=True)
    path = sqlite_path(str(engine.url))
    if path is not None and create:
        _private_store(path)
    if path is not None and not path.exists() and not create:
        raise _no_store(where)
    try:
        found = schema_revision(engine)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise refusal(StoreError, "The database at {where} does not answer: {reason}",
                      where=where, reason=reason) from None
    if found == schema_head():
        return
    if found is None and not create:
        raise _no_store(where)
    if found is not None and not _known_revision(found):
        raise refusal(StoreError, "The store at {where} has schema {found}, newer than this version of tiptriage "
                                  "knows ({head}): upgrade tiptriage", where=where, found=found, head=schema_head())
    if found is None:
        log.info("store made at %s, schema %s", where, schema_head())
    else:
        log.warning("schema of %s brought from %s to %s", where, found, schema_head())
    migrate(engine)


def _no_store(where: str) -> StoreError:
    return refusal(StoreError, "No store at {where}. `tiptriage ingest` or `tiptriage db upgrade` creates one; "
                               "check TIPTRIAGE_DATABASE_URL", where=where)


def _known_revision(revision: str) -> bool:
    return any(r.revision == revision for r in _scripts().walk_revisions())


def migrate(engine: Engine, revision: str = "head", *, down: bool = False) -> None:
    """Bring the schema to `revision`, the newest by default (idempotent); `down` goes back to it."""
    from alembic import command

    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite changes a column by copying its table (Alembic's batch mode) while rows of
            # other tables point at it. Foreign keys can only be switched off outside a
            # transaction (so on the driver's connection, which begins none by itself); they are
            # checked as a whole before they are on again.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        with connection.begin():
            (command.downgrade if down else command.upgrade)(alembic_config(connection), revision)
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all() if sqlite else []
            if broken:
                raise RuntimeError(f"migration left rows whose foreign key points nowhere: {broken[:5]}")
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


def alembic_config(connection: Connection):
    """Alembic's configuration for running the project's migrations on `connection`."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.attributes["connection"] = connection
    return cfg


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[None]:
    """Run a block in one process at a time per store, across transactions (e.g. the data path's
    later stages, which two ingests at once would otherwise both take up): PostgreSQL's advisory
    lock on a connection of its own; for SQLite a lock on a file beside the database."""
    if engine.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                connection.commit()
        return
    path = sqlite_path(str(engine.url))
    if path is None:  # an in-memory store lives in this process only
        yield
        return
    with open(path.with_name(f"{path.name}.{name}.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def open_session(url: str | None = None, *, create: bool = False) -> Iterator[Session]:
    """A session on the store at `url` (the configured one by default), its schema brought up to
    date; `create` makes the store when there is none (the commands that write a store's first
    data), otherwise a missing store is a StoreError. The engine is the process's own."""
    engine = engine_for(url or get_settings().database_url)
    ensure_schema(engine, create=create)
    with session_factory(engine)() as session:
        yield session


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both databases (SQLite keeps no offset of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


IN_BATCH = 500  # values per IN (...) list: well inside SQLite's and PostgreSQL's limits


def chunks(items: list, size: int = IN_BATCH):
    """Slices of `items` small enough for one IN (...) list."""
    for i in range(0, len(items), size):
        yield items[i:i + size]


def allocate_ids(connection: Connection, table: Table, n: int) -> list[int]:
    """n new primary keys for `table`, for bulk inserts that must know their ids up front
    (children reference parents; RETURNING runs row by row on SQLite).

    PostgreSQL: drawn from the column's sequence, safe under concurrency. SQLite: after the
    current maximum; SQLite has one writer at a time, and a racing writer would hit the primary
    key constraint and be retried by the caller, never overwrite.
    """
    if n == 0:
        return []
    if connection.dialect.name == "postgresql":
        # One row holding an array: fetching n rows through SQLAlchemy cost ~1 ms per 1,000 ids.
        return connection.execute(
            text("SELECT array_agg(id ORDER BY id) FROM (SELECT nextval(pg_get_serial_sequence(:t, 'id')) AS id "
                 "FROM generate_series(1, :n)) AS ids"),
            {"t": table.name, "n": n}).scalar_one()
    start = connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one() + 1
    return list(range(start, start + n))


class ColumnValues:
    """Python values as the store's columns take them, for rows written without the ORM: SQLite gets
    text the way SQLAlchemy's types write it (so rows read back through the ORM exactly as if
    SQLAlchemy had written them), PostgreSQL the objects. Needs no connection: ingest's parse
    workers build rows with it."""

    def __init__(self, sqlite: bool):
        self.sqlite = sqlite

    def ts(self, value: datetime | None):
        if value is None or not self.sqlite:
            return value
        # isoformat is several times faster than strftime; same text for years 1000-9999.
        if value.tzinfo is UTC:  # as intake makes them: the text less its "+00:00"
            return value.isoformat(" ", "microseconds")[:-6]
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

    def day(self, value):
        return value.isoformat() if self.sqlite and value is not None else value

    @staticmethod
    def js(values) -> str:
        if not values:  # most list columns are empty
            return "[]"
        if all(type(v) is str for v in values):  # json.dumps's text, without its per-call set-up
            return "[" + ", ".join(map(encode_basestring_ascii, values)) + "]"
        return json.dumps(list(values))


class BulkInsert(ColumnValues):
    """Bulk inserts for the hot path (ingest writes ~10 rows per report).

    SQLAlchemy's per-row parameter processing, and psycopg's executemany, cost more than the
    database's own work here, so SQLite gets a driver-level executemany of tuples and PostgreSQL
    gets COPY; the values converted as `ColumnValues` does.
    """

    def __init__(self, connection: Connection):
        super().__init__(connection.dialect.name == "sqlite")
        self.connection = connection

    def insert(self, table: Table, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        names = ", ".join(columns)
        if self.sqlite:
            marks = ", ".join("?" * len(columns))
            self.connection.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)
            return
        raw = self.connection.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
