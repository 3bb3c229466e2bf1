"""file_hashes: look files up by hash through (hash_type, value_prefix) instead of (hash_type, value)

Digests are random, so each ingest commit rewrote pages all over the (hash_type, value) index of
hex text: at 100k stored reports the per-report ingest cost was 1.5x that of a small store. The
digest's first 32 bits as an integer make an index a quarter of the size; lookups compare `value`
after it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 06:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def value_prefix(value: str) -> int:
    # A copy of intake.models.value_prefix as it was: a migration must not change with the code.
    return int.from_bytes(bytes.fromhex(value[:8]), "big", signed=True)


def upgrade() -> None:
    op.drop_index('ix_file_hashes_type_value', table_name='file_hashes')
    op.add_column('file_hashes', sa.Column('value_prefix', sa.Integer(), nullable=True))
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        bind.connection.driver_connection.create_function('hex_prefix32', 1, value_prefix, deterministic=True)
        op.execute('UPDATE file_hashes SET value_prefix = hex_prefix32(value)')
    else:
        op.execute("UPDATE file_hashes SET value_prefix = ('x' || substr(value, 1, 8))::bit(32)::int")
    with op.batch_alter_table('file_hashes') as batch_op:
        batch_op.alter_column('value_prefix', existing_type=sa.Integer(), nullable=False)
    op.create_index('ix_file_hashes_type_prefix', 'file_hashes', ['hash_type', 'value_prefix'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_file_hashes_type_prefix', table_name='file_hashes')
    with op.batch_alter_table('file_hashes') as batch_op:
        batch_op.drop_column('value_prefix')
    op.create_index('ix_file_hashes_type_value', 'file_hashes', ['hash_type', 'value'], unique=False)
