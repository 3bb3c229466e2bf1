"""action_weeks, action_week_items (planned deliveries and searches, with their outcomes) and
unit_assignments (the unit a person gave a subject nothing placed)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 14:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('unit_assignments',
    sa.Column('id', ID, nullable=False),
    sa.Column('subject_id', ID, nullable=False),
    sa.Column('unit', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_assignments'))
    )
    op.create_index(op.f('ix_unit_assignments_subject_id'), 'unit_assignments', ['subject_id'], unique=False)
    op.create_table('action_weeks',
    sa.Column('id', ID, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('units', sa.JSON(), nullable=False),
    sa.Column('warnings_per_day', sa.Integer(), nullable=False),
    sa.Column('searches_per_day', sa.Integer(), nullable=False),
    sa.Column('overrides', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_weeks')),
    sa.UniqueConstraint('name', name=op.f('uq_action_weeks_name'))
    )
    op.create_table('action_week_items',
    sa.Column('id', ID, nullable=False),
    sa.Column('week_id', ID, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('warning_id', ID, nullable=True),
    sa.Column('report_id', ID, nullable=False),
    sa.Column('person_id', ID, nullable=True),
    sa.Column('subject_id', ID, nullable=True),
    sa.Column('unit', sa.String(length=100), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('area', sa.String(length=2), nullable=True),
    sa.Column('day', sa.Date(), nullable=True),
    sa.Column('left_over', sa.Text(), nullable=True),
    sa.Column('minor', sa.Boolean(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('outcome_on', sa.Date(), nullable=True),
    sa.Column('officer', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.String(length=200), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['week_id'], ['action_weeks.id'], name=op.f('fk_action_week_items_week_id_action_weeks')),
    sa.ForeignKeyConstraint(['warning_id'], ['warnings.id'], name=op.f('fk_action_week_items_warning_id_warnings')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_action_week_items_report_id_reports')),
    sa.ForeignKeyConstraint(['person_id'], ['reported_persons.id'],
                            name=op.f('fk_action_week_items_person_id_reported_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_week_items')),
    sa.UniqueConstraint('week_id', 'kind', 'report_id', name=op.f('uq_action_week_items_week_id_kind_report_id'))
    )
    op.create_index(op.f('ix_action_week_items_week_id'), 'action_week_items', ['week_id'], unique=False)
    op.create_index(op.f('ix_action_week_items_warning_id'), 'action_week_items', ['warning_id'], unique=False)
    op.create_index(op.f('ix_action_week_items_report_id'), 'action_week_items', ['report_id'], unique=False)


def downgrade() -> None:
    op.drop_table('action_week_items')
    op.drop_table('action_weeks')
    op.drop_index(op.f('ix_unit_assignments_subject_id'), table_name='unit_assignments')
    op.drop_table('unit_assignments')
