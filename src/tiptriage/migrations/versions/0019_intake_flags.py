"""reports.intake_flags: what intake noticed for the analyst (look-alike letters in a source or id)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 15:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('intake_flags', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_column('intake_flags')
