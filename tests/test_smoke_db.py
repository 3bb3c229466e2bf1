from sqlalchemy import inspect


def test_migrations_create_the_tables(engine):
    names = set(inspect(engine).get_table_names())
    assert {"reports", "report_raw", "reported_persons", "files", "file_hashes", "audit_events",
            "quarantine"} <= names


def test_migrations_match_the_models(engine):
    """A model change without its Alembic migration would leave PostgreSQL deployments behind."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from tiptriage import models_all  # noqa: F401
    from tiptriage.db import Base

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []
