from sqlalchemy import inspect

from tiptriage.accounts.actor import Actor
from tiptriage.db import migrate, utcnow


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


def test_migration_0006_gives_stored_hashes_their_prefix(session, engine):
    """Upgrading a store with data: every stored hash gets the prefix that ingest would give it,
    and files are still found by hash (the sign of the prefix matters: 'ff...' is negative)."""
    from sqlalchemy import select

    from tiptriage.intake.models import FileHashRow, FileRow, Report, value_prefix
    from tiptriage.media.service import BankChanges, affected_files

    values = ["ff" + "0" * 30, "00" + "f" * 30, "7fffffff" + "a" * 56]
    report = Report(source="NCMEC", external_id="1", version=1, content_sha256="0" * 64, format="cybertip-xml",
                    ingested_at=utcnow(), ingested_by="test")
    session.add(report)
    session.flush()
    for k, value in enumerate(values):
        file = FileRow(report_id=report.id, ref=f"f{k}", action="upload")
        session.add(file)
        session.flush()
        session.add(FileHashRow(file_id=file.id, hash_type="md5" if len(value) == 32 else "sha256", value=value))
    session.commit()
    session.close()
    migrate(engine, "0005", down=True)
    migrate(engine)

    rows = session.execute(select(FileHashRow.value, FileHashRow.value_prefix, FileHashRow.file_id)).all()
    assert sorted((v, p) for v, p, _ in rows) == sorted((v, value_prefix(v)) for v in values)
    assert value_prefix(values[0]) < 0 < value_prefix(values[2])
    changes = BankChanges({})
    changes.add("md5", values[0])
    changes.add("sha256", values[2])
    wanted = sorted(f for v, _, f in rows if v in (values[0], values[2]))
    assert affected_files(session, changes) == wanted


def test_migration_0009_gives_stored_records_their_family_key(session, engine, tmp_path):
    """Upgrading a store with linked reports: every record with a family name gets its `fam:` key,
    so the registry's name check finds subjects linked before the upgrade."""
    from sqlalchemy import select
    from triage.dbdata import ingest, known, person, report

    from tiptriage.subjects import linking
    from tiptriage.subjects.models import SubjectKey

    ids = ingest(session, tmp_path / "in", report("k-1", known(0)),
                 report("k-2", known(1), who=person(given=None, family=None, email="x@example.org")))
    linking.resolve_reports(session, ids, actor=Actor("test"))
    session.commit()
    session.close()
    migrate(engine, "0008", down=True)
    migrate(engine)
    keys = session.execute(select(SubjectKey.key).where(SubjectKey.key.like("fam:%"))).scalars().all()
    assert keys == ["fam:vries"]


def test_migration_0017_gives_queued_reports_their_source_and_age_band(session, engine, tmp_path):
    """Upgrading a store with triaged reports: the queue's filters find them by source and age band."""
    from triage.dbdata import ingest, known, person, report

    from tiptriage.subjects import linking
    from tiptriage.triage import service as triage
    from tiptriage.triage.models import QUEUE_STATUSES

    ids = ingest(session, tmp_path / "in", report("q-1", known(0), who=person(age=16, dob=None)),
                 report("q-2", known(1), who=person(given="Kees", dob=None, email="k@example.org")))
    linking.resolve_reports(session, ids, actor=Actor("test"))
    triage.triage_reports(session, ids, actor=Actor("test"))
    session.commit()
    session.close()
    migrate(engine, "0014", down=True)
    migrate(engine)
    bands = {r["external_id"]: (r["source"], r["age_band"]) for r in triage.queue(session, statuses=QUEUE_STATUSES)}
    assert bands == {"q-1": ("NCMEC", "16-17"), "q-2": ("NCMEC", "unknown")}
