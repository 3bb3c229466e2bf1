"""Linking an ingest batch at once (bulk.resolve_reports) decides exactly what linking its reports one
person at a time (linking.resolve_reports) decides: the same subjects, links with their evidence,
reviews, memberships, keys and name counts, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from tiptriage import pipeline
from tiptriage.accounts.actor import Actor
from tiptriage.db import make_engine, migrate, session_factory
from tiptriage.intake.models import Report
from tiptriage.subjects import bulk, linking
from tiptriage.subjects.models import (
    Subject,
    SubjectKey,
    SubjectLink,
    SubjectMember,
    SubjectRecord,
    SubjectReview,
    SubjectTermCount,
)

BATCH = 100


def linked(url: str, reports, link) -> dict:
    """Store the reports, link them in batches of BATCH with `link`; the registry as rows."""
    engine = make_engine(url)
    migrate(engine)
    with session_factory(engine)() as s:
        pipeline.ingest(s, [reports], actor=Actor("test"))
        s.commit()
        ids = list(s.execute(select(Report.id).order_by(Report.id)).scalars())
        decisions = []
        for start in range(0, len(ids), BATCH):
            decisions += [(r.reported_person_id, r.subject_id, r.decision, r.match_weight, r.candidate_subject_id,
                           r.review_ids) for r in link(s, ids[start:start + BATCH], actor=Actor("test"))]
            s.commit()
        rows = {
            "resolutions": decisions,
            "links": [(x.reported_person_id, x.subject_id, x.decision, x.candidate_subject_id, x.candidate_person_id,
                       x.match_weight, x.evidence) for x in _all(s, SubjectLink, SubjectLink.id)],
            "members": [(m.subject_id, m.reported_person_id, m.report_id, m.until is None)
                        for m in _all(s, SubjectMember, SubjectMember.id)],
            "reviews": [(r.kind, r.status, r.reported_person_id, r.subject_id, r.candidate_subject_id, r.match_weight)
                        for r in _all(s, SubjectReview, SubjectReview.id)],
            "subjects": [(x.id, x.retired_at is None, x.merged_into_id) for x in _all(s, Subject, Subject.id)],
            "records": [(r.reported_person_id, r.report_id, r.features)
                        for r in _all(s, SubjectRecord, SubjectRecord.reported_person_id)],
            "keys": sorted((k.key, k.reported_person_id) for k in _all(s, SubjectKey, SubjectKey.id)),
            "counts": sorted((c.field, c.value, c.n) for c in _all(s, SubjectTermCount, SubjectTermCount.field)),
        }
    engine.dispose()
    return rows


def _all(session, model, order):
    return list(session.execute(select(model).order_by(order)).scalars())


def test_bulk_linking_decides_what_linking_one_by_one_decides(small_set, db_url, tmp_path):
    one_by_one = linked(f"sqlite:///{tmp_path / 'one-by-one.db'}", small_set.out / "reports",
                        linking.resolve_reports)
    at_once = linked(db_url, small_set.out / "reports", bulk.resolve_reports)
    assert {d for _, _, d, *_ in one_by_one["resolutions"]} == {"new", "linked", "review"}
    for table, rows in one_by_one.items():
        assert at_once[table] == rows, table
