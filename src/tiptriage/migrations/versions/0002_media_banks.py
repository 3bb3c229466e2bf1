"""media: hash banks, versions and entries; match runs, file matches and status, analyst classifications

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 00:16:45.134483
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('banks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('category_map', sa.JSON(), nullable=False),
    sa.Column('default_category', sa.String(length=32), nullable=True),
    sa.Column('hash_type', sa.String(length=8), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_banks')),
    sa.UniqueConstraint('name', name=op.f('uq_banks_name'))
    )
    op.create_table('match_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('banks', sa.JSON(), nullable=False),
    sa.Column('max_distance', sa.Integer(), nullable=False),
    sa.Column('files', sa.Integer(), nullable=False),
    sa.Column('changed', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_runs'))
    )
    with op.batch_alter_table('match_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_runs_at'), ['at'], unique=False)

    op.create_table('bank_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('bank_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('hash_type', sa.String(length=8), nullable=False),
    sa.Column('value', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('source_category', sa.String(length=64), nullable=True),
    sa.Column('series', sa.Text(), nullable=True),
    sa.Column('victim_identified', sa.Boolean(), nullable=True),
    sa.Column('quality', sa.Integer(), nullable=True),
    sa.Column('ref', sa.String(length=200), nullable=True),
    sa.Column('added_version', sa.Integer(), nullable=False),
    sa.Column('removed_version', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['bank_id'], ['banks.id'], name=op.f('fk_bank_entries_bank_id_banks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_entries'))
    )
    with op.batch_alter_table('bank_entries', schema=None) as batch_op:
        batch_op.create_index('ix_bank_entries_bank_removed', ['bank_id', 'removed_version'], unique=False)
        batch_op.create_index('ix_bank_entries_type_value', ['hash_type', 'value'], unique=False)

    op.create_table('bank_versions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('bank_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('imported_by', sa.String(length=200), nullable=False),
    sa.Column('source_name', sa.Text(), nullable=False),
    sa.Column('source_sha256', sa.String(length=64), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('added', sa.Integer(), nullable=False),
    sa.Column('removed', sa.Integer(), nullable=False),
    sa.Column('recategorised', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['bank_id'], ['banks.id'], name=op.f('fk_bank_versions_bank_id_banks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_versions')),
    sa.UniqueConstraint('bank_id', 'version', name=op.f('uq_bank_versions_bank_id_version'))
    )
    with op.batch_alter_table('bank_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_versions_bank_id'), ['bank_id'], unique=False)

    op.create_table('file_classifications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('file_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['file_id'], ['files.id'], name=op.f('fk_file_classifications_file_id_files')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_file_classifications'))
    )
    with op.batch_alter_table('file_classifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_file_classifications_file_id'), ['file_id'], unique=False)

    op.create_table('file_match_state',
    sa.Column('file_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=True),
    sa.Column('victim_identified', sa.Boolean(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['files.id'], name=op.f('fk_file_match_state_file_id_files')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_file_match_state_report_id_reports')),
    sa.ForeignKeyConstraint(['run_id'], ['match_runs.id'], name=op.f('fk_file_match_state_run_id_match_runs')),
    sa.PrimaryKeyConstraint('file_id', name=op.f('pk_file_match_state'))
    )
    with op.batch_alter_table('file_match_state', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_file_match_state_report_id'), ['report_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_file_match_state_status'), ['status'], unique=False)

    op.create_table('file_matches',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('file_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('bank_entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('bank_version', sa.Integer(), nullable=False),
    sa.Column('hash_type', sa.String(length=8), nullable=False),
    sa.Column('distance', sa.Integer(), nullable=False),
    sa.Column('superseded_run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['bank_entry_id'], ['bank_entries.id'], name=op.f('fk_file_matches_bank_entry_id_bank_entries')),
    sa.ForeignKeyConstraint(['file_id'], ['files.id'], name=op.f('fk_file_matches_file_id_files')),
    sa.ForeignKeyConstraint(['run_id'], ['match_runs.id'], name=op.f('fk_file_matches_run_id_match_runs')),
    sa.ForeignKeyConstraint(['superseded_run_id'], ['match_runs.id'], name=op.f('fk_file_matches_superseded_run_id_match_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_file_matches'))
    )
    with op.batch_alter_table('file_matches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_file_matches_bank_entry_id'), ['bank_entry_id'], unique=False)
        batch_op.create_index('ix_file_matches_file_superseded', ['file_id', 'superseded_run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_file_matches_run_id'), ['run_id'], unique=False)

    op.create_table('media_status_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('file_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('old_status', sa.String(length=16), nullable=False),
    sa.Column('new_status', sa.String(length=16), nullable=False),
    sa.Column('old_category', sa.String(length=32), nullable=True),
    sa.Column('new_category', sa.String(length=32), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retriaged_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['file_id'], ['files.id'], name=op.f('fk_media_status_changes_file_id_files')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_media_status_changes_report_id_reports')),
    sa.ForeignKeyConstraint(['run_id'], ['match_runs.id'], name=op.f('fk_media_status_changes_run_id_match_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media_status_changes'))
    )
    with op.batch_alter_table('media_status_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_media_status_changes_file_id'), ['file_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_status_changes_report_id'), ['report_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_status_changes_retriaged_at'), ['retriaged_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_status_changes_run_id'), ['run_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('media_status_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_media_status_changes_run_id'))
        batch_op.drop_index(batch_op.f('ix_media_status_changes_retriaged_at'))
        batch_op.drop_index(batch_op.f('ix_media_status_changes_report_id'))
        batch_op.drop_index(batch_op.f('ix_media_status_changes_file_id'))

    op.drop_table('media_status_changes')
    with op.batch_alter_table('file_matches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_file_matches_run_id'))
        batch_op.drop_index('ix_file_matches_file_superseded')
        batch_op.drop_index(batch_op.f('ix_file_matches_bank_entry_id'))

    op.drop_table('file_matches')
    with op.batch_alter_table('file_match_state', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_file_match_state_status'))
        batch_op.drop_index(batch_op.f('ix_file_match_state_report_id'))

    op.drop_table('file_match_state')
    with op.batch_alter_table('file_classifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_file_classifications_file_id'))

    op.drop_table('file_classifications')
    with op.batch_alter_table('bank_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_versions_bank_id'))

    op.drop_table('bank_versions')
    with op.batch_alter_table('bank_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_bank_entries_type_value')
        batch_op.drop_index('ix_bank_entries_bank_removed')

    op.drop_table('bank_entries')
    with op.batch_alter_table('match_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_runs_at'))

    op.drop_table('match_runs')
    op.drop_table('banks')
