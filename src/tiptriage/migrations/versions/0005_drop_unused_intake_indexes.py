"""drop intake indexes no query uses: identifiers (kind, value), ip_events (ip), addresses (postcode)

No query filters or joins on these columns (identifiers, IP events and addresses are read by
person_id; linkage looks people up through subject_keys). Their keys are random, so at ~100k
stored reports every ingest commit rewrote pages all over them: pure insert cost.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 05:00:00
"""
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain DROP INDEX on both databases (no batch table rebuild on SQLite).
    op.drop_index('ix_identifiers_kind_value', table_name='identifiers')
    op.drop_index('ix_ip_events_ip', table_name='ip_events')
    op.drop_index('ix_addresses_postcode', table_name='addresses')


def downgrade() -> None:
    op.create_index('ix_addresses_postcode', 'addresses', ['postcode'], unique=False)
    op.create_index('ix_ip_events_ip', 'ip_events', ['ip'], unique=False)
    op.create_index('ix_identifiers_kind_value', 'identifiers', ['kind', 'value'], unique=False)
