from sqlalchemy import inspect


def test_migrations_create_the_tables(engine):
    names = set(inspect(engine).get_table_names())
    assert {"reports", "report_raw", "reported_persons", "files", "file_hashes", "audit_events",
            "quarantine"} <= names
