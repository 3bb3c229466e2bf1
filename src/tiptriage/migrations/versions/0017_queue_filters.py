"""triage_state: the report's source and the person's age band, for the queue's filters

Copied from the report and the newest recommendation's facts so that filtering the queue by
source or age band needs no join (bench/web.py: the queue at 100k reports); the sources for the
filter's list are read from an index on source.

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-07 15:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0015'
branch_labels = None
depends_on = None

BATCH = 5000


def _band(age):  # as triage.facts.age_band; a migration keeps its own copy so later changes cannot alter it
    if age is None:
        return "unknown"
    for band, low in (("40+", 40), ("25-39", 25), ("18-24", 18), ("16-17", 16), ("14-15", 14)):
        if age >= low:
            return band
    return "0-13"


def upgrade() -> None:
    with op.batch_alter_table('triage_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('age_band', sa.String(length=8), nullable=False, server_default='unknown'))
        batch_op.create_index('ix_triage_state_source', ['source'], unique=False)
    bind = op.get_bind()
    state = sa.table('triage_state', sa.column('report_id'), sa.column('source'), sa.column('age_band'),
                     sa.column('recommendation_id'))
    reports = sa.table('reports', sa.column('id'), sa.column('source'))
    recs = sa.table('recommendations', sa.column('id'), sa.column('facts', sa.JSON))
    rows = bind.execute(sa.select(state.c.report_id, reports.c.source, recs.c.facts)
                        .join(reports, reports.c.id == state.c.report_id)
                        .join(recs, recs.c.id == state.c.recommendation_id)).all()
    values = [{"rid": rid, "s": source, "b": _band((facts or {}).get("age"))} for rid, source, facts in rows]
    change = (sa.update(state).where(state.c.report_id == sa.bindparam("rid"))
              .values(source=sa.bindparam("s"), age_band=sa.bindparam("b")))
    for start in range(0, len(values), BATCH):
        bind.execute(change, values[start:start + BATCH])


def downgrade() -> None:
    with op.batch_alter_table('triage_state', schema=None) as batch_op:
        batch_op.drop_index('ix_triage_state_source')
        batch_op.drop_column('age_band')
        batch_op.drop_column('source')
