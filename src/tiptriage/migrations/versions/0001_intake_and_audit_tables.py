"""intake and audit tables

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 23:59:31.713648
"""
from alembic import op
import sqlalchemy as sa



revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('entity', sa.String(length=64), nullable=False),
    sa.Column('entity_ids', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)

    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    op.create_table('quarantine',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('record', sa.Integer(), nullable=True),
    sa.Column('report_id', sa.String(length=200), nullable=True),
    sa.Column('field', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('raw_sha256', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quarantine'))
    )
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quarantine_at'), ['at'], unique=False)

    op.create_table('reports',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('format', sa.String(length=32), nullable=False),
    sa.Column('incident_type', sa.Text(), nullable=True),
    sa.Column('incident_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reporter', sa.Text(), nullable=True),
    sa.Column('annotations', sa.JSON(), nullable=False),
    sa.Column('ingested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ingested_by', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports')),
    sa.UniqueConstraint('external_id', 'source', 'content_sha256', name=op.f('uq_reports_external_id_source_content_sha256')),
    sa.UniqueConstraint('external_id', 'source', 'version', name=op.f('uq_reports_external_id_source_version'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_ingested_at'), ['ingested_at'], unique=False)

    op.create_table('files',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ref', sa.String(length=200), nullable=False),
    sa.Column('file_name', sa.Text(), nullable=True),
    sa.Column('person_ref', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('viewed_by_esp', sa.Boolean(), nullable=True),
    sa.Column('publicly_available', sa.Boolean(), nullable=True),
    sa.Column('classification', sa.String(length=2), nullable=True),
    sa.Column('annotations', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_files_report_id_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_files'))
    )
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_files_report_id'), ['report_id'], unique=False)

    op.create_table('report_raw',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('compression', sa.String(length=16), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_raw_report_id_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_raw')),
    sa.UniqueConstraint('report_id', 'seq', name=op.f('uq_report_raw_report_id_seq'))
    )

    op.create_table('reported_persons',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ref', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('given_name', sa.Text(), nullable=True),
    sa.Column('family_name', sa.Text(), nullable=True),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('age', sa.Integer(), nullable=True),
    sa.Column('estimated_country', sa.String(length=64), nullable=True),
    sa.Column('prior_reports', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_reported_persons_report_id_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reported_persons'))
    )
    with op.batch_alter_table('reported_persons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reported_persons_report_id'), ['report_id'], unique=False)

    op.create_table('addresses',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('street', sa.Text(), nullable=True),
    sa.Column('postcode', sa.String(length=64), nullable=True),
    sa.Column('city', sa.Text(), nullable=True),
    sa.Column('country', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['reported_persons.id'], name=op.f('fk_addresses_person_id_reported_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_addresses'))
    )
    with op.batch_alter_table('addresses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_addresses_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_addresses_postcode'), ['postcode'], unique=False)

    op.create_table('file_hashes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('file_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('hash_type', sa.String(length=8), nullable=False),
    sa.Column('value', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['files.id'], name=op.f('fk_file_hashes_file_id_files')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_file_hashes'))
    )
    with op.batch_alter_table('file_hashes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_file_hashes_file_id'), ['file_id'], unique=False)
        batch_op.create_index('ix_file_hashes_type_value', ['hash_type', 'value'], unique=False)

    op.create_table('identifiers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('verified', sa.Boolean(), nullable=True),
    sa.Column('platform', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['reported_persons.id'], name=op.f('fk_identifiers_person_id_reported_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identifiers'))
    )
    with op.batch_alter_table('identifiers', schema=None) as batch_op:
        batch_op.create_index('ix_identifiers_kind_value', ['kind', 'value'], unique=False)
        batch_op.create_index(batch_op.f('ix_identifiers_person_id'), ['person_id'], unique=False)

    op.create_table('ip_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('port', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['reported_persons.id'], name=op.f('fk_ip_events_person_id_reported_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ip_events'))
    )
    with op.batch_alter_table('ip_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ip_events_ip'), ['ip'], unique=False)
        batch_op.create_index(batch_op.f('ix_ip_events_person_id'), ['person_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ip_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ip_events_person_id'))
        batch_op.drop_index(batch_op.f('ix_ip_events_ip'))

    op.drop_table('ip_events')
    with op.batch_alter_table('identifiers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identifiers_person_id'))
        batch_op.drop_index('ix_identifiers_kind_value')

    op.drop_table('identifiers')
    with op.batch_alter_table('file_hashes', schema=None) as batch_op:
        batch_op.drop_index('ix_file_hashes_type_value')
        batch_op.drop_index(batch_op.f('ix_file_hashes_file_id'))

    op.drop_table('file_hashes')
    with op.batch_alter_table('addresses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_addresses_postcode'))
        batch_op.drop_index(batch_op.f('ix_addresses_person_id'))

    op.drop_table('addresses')
    with op.batch_alter_table('reported_persons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reported_persons_report_id'))

    op.drop_table('reported_persons')
    op.drop_table('report_raw')
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_files_report_id'))

    op.drop_table('files')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_ingested_at'))

    op.drop_table('reports')
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quarantine_at'))

    op.drop_table('quarantine')
    op.drop_table('audit_head')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
