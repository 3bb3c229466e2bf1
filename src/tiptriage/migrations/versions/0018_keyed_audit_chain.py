"""audit chain keyed (HMAC-SHA256), and append-only on PostgreSQL

Each event says which key made its hash (`key_id`; NULL for the plain SHA-256 of the events written
before); the head records the switch point, the first event that must be keyed: the event after the
store's last one now. On PostgreSQL a trigger refuses UPDATE and DELETE of audit events (SQLite has
no such guard: the file's permissions are).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 15:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

REFUSE = """
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
"""


def upgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), nullable=True))
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('keyed_from', sa.Integer(), nullable=False, server_default='1'))
    op.execute("UPDATE audit_head SET keyed_from = seq + 1")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(REFUSE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION audit_events_append_only()")
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('keyed_from')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('key_id')
