"""Alembic environment: run by `tiptriage.db.migrate` (with a connection) or the alembic CLI."""

from alembic import context

from tiptriage import models_all  # noqa: F401 - registers every domain's tables
from tiptriage.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    engine = make_engine()
    with engine.begin() as conn:
        _run_on(conn)


def _run_on(connection) -> None:
    # SQLite cannot ALTER most things in place: batch mode copies tables when a migration needs it.
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run()
