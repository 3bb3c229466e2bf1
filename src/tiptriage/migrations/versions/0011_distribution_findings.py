"""distribution_findings: what an analyst established about whether a file was distributed

NCMEC's schema carries no per-file action, so some files' distribution cannot be read from a
report: triage asks the question (NEEDS_REVIEW, never a WARNING). The answer is recorded here,
append-only, the newest per file counting.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 09:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('distribution_findings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('file_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('distributed', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['files.id'], name=op.f('fk_distribution_findings_file_id_files')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_distribution_findings_report_id_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distribution_findings'))
    )
    op.create_index(op.f('ix_distribution_findings_file_id'), 'distribution_findings', ['file_id'], unique=False)
    op.create_index(op.f('ix_distribution_findings_report_id'), 'distribution_findings', ['report_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_distribution_findings_report_id'), table_name='distribution_findings')
    op.drop_index(op.f('ix_distribution_findings_file_id'), table_name='distribution_findings')
    op.drop_table('distribution_findings')
