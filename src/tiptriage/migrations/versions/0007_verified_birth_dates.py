"""verified_birth_dates: dates of birth analysts checked in a register (BRP), newest counts

A reported person whose reports state no age got no age at all, and a WARNING with only a text
asking for a check. The check is now recorded (append-only), triage prefers it to stated ages, and
approving a warning needs it when no age is known.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 07:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('verified_birth_dates',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['reported_persons.id'], name=op.f('fk_verified_birth_dates_person_id_reported_persons')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_verified_birth_dates_report_id_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verified_birth_dates'))
    )
    op.create_index(op.f('ix_verified_birth_dates_person_id'), 'verified_birth_dates', ['person_id'], unique=False)
    op.create_index(op.f('ix_verified_birth_dates_report_id'), 'verified_birth_dates', ['report_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_verified_birth_dates_report_id'), table_name='verified_birth_dates')
    op.drop_index(op.f('ix_verified_birth_dates_person_id'), table_name='verified_birth_dates')
    op.drop_table('verified_birth_dates')
