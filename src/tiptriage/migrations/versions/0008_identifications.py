"""identifications: who the unit established stands behind a reported person (newest counts)

A report that carries only an IP address or an account got NEEDS_IDENTIFICATION and could go no
further: the answer to the subscriber request had nowhere to go. It is now recorded (append-only),
linkage compares the person with it, and triage counts the person as identified.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 09:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('identifications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('given_name', sa.String(length=200), nullable=False),
    sa.Column('family_name', sa.String(length=200), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('street', sa.String(length=200), nullable=True),
    sa.Column('postcode', sa.String(length=16), nullable=True),
    sa.Column('city', sa.String(length=200), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['reported_persons.id'], name=op.f('fk_identifications_person_id_reported_persons')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_identifications_report_id_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identifications'))
    )
    op.create_index(op.f('ix_identifications_person_id'), 'identifications', ['person_id'], unique=False)
    op.create_index(op.f('ix_identifications_report_id'), 'identifications', ['report_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_identifications_report_id'), table_name='identifications')
    op.drop_index(op.f('ix_identifications_person_id'), table_name='identifications')
    op.drop_table('identifications')
