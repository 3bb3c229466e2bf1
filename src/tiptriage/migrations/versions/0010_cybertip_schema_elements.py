"""What NCMEC's reporting schema carries besides what was read before: incidents, escalation, details

Reports read as the schema defines them: the kind of incident (internetDetails), the platform, the
escalation text (escalateToHighPriority), batching, the reporter's contact and the police already
involved; per person the analyst's details (display names, profile URLs, school, account state);
per identifier the verification date; per IP event the proxy flag; per file its relevance and
details. A file's action becomes optional: the schema has none, and triage judges distribution.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 08:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('platform', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('escalation', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('batched', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('incidents', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('reporter_contact', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('law_enforcement', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('reported_persons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('details', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('identifiers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('ip_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('possible_proxy', sa.Boolean(), nullable=True))
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.alter_column('action', existing_type=sa.String(length=16), nullable=True)
        batch_op.add_column(sa.Column('relevance', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('details', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.drop_column('details')
        batch_op.drop_column('relevance')
        batch_op.alter_column('action', existing_type=sa.String(length=16), nullable=False)
    with op.batch_alter_table('ip_events', schema=None) as batch_op:
        batch_op.drop_column('possible_proxy')
    with op.batch_alter_table('identifiers', schema=None) as batch_op:
        batch_op.drop_column('verified_at')
    with op.batch_alter_table('reported_persons', schema=None) as batch_op:
        batch_op.drop_column('details')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        for column in ('law_enforcement', 'reporter_contact', 'incidents', 'batched', 'escalation', 'platform'):
            batch_op.drop_column(column)
