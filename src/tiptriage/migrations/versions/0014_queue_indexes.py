"""triage_state: indexes the queue reads in order — one outcome class at a time by priority and age,
and the counts per class — instead of the single-column outcome index

At 100k reports the queue's first page took ~300 ms, ordering every open report by the policy's
class (bench/web.py).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 23:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('triage_state', schema=None) as batch_op:
        batch_op.drop_index('ix_triage_state_outcome')
        batch_op.create_index('ix_triage_state_queue', ['outcome', sa.text('priority DESC'), 'received_at',
                                                        'report_id'], unique=False)
        batch_op.create_index('ix_triage_state_outcome_status_unit', ['outcome', 'status', 'unit'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('triage_state', schema=None) as batch_op:
        batch_op.drop_index('ix_triage_state_outcome_status_unit')
        batch_op.drop_index('ix_triage_state_queue')
        batch_op.create_index('ix_triage_state_outcome', ['outcome'], unique=False)
