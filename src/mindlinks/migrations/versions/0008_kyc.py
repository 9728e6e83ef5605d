"""kyc: verification sessions, documents and the provider webhook inbox

Revision ID: 0008_kyc
Revises: 0006_contractors

Based on 0006_contractors (not 0001_foundation + depends_on): the tables reference
contractor_profiles, and a `depends_on` revision stops being an applied head, which
tests/platform/test_migrations.py::test_every_head_is_applied refuses.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import mindlinks.platform.db

revision: str = '0008_kyc'
down_revision: str | None = '0006_contractors'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('kyc_sessions',
    sa.Column('contractor_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('provider_session_id', sa.String(length=100), nullable=True),
    sa.Column('session_url', sa.String(length=1000), nullable=True),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('verification_level', sa.String(length=20), nullable=False),
    sa.Column('expires_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('submitted_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('completed_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('verification_result', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=True),
    sa.Column('rejection_reason', sa.String(length=500), nullable=True),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contractor_id'], ['contractor_profiles.id'], name=op.f('fk_kyc_sessions_contractor_id_contractor_profiles'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['decided_by'], ['auth_users.id'], name=op.f('fk_kyc_sessions_decided_by_auth_users')),
    sa.ForeignKeyConstraint(['user_id'], ['auth_users.id'], name=op.f('fk_kyc_sessions_user_id_auth_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kyc_sessions')),
    sa.UniqueConstraint('provider', 'provider_session_id', name='uq_kyc_sessions_provider_session')
    )
    with op.batch_alter_table('kyc_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_kyc_sessions_contractor_created', ['contractor_id', 'created_at'], unique=False)
        batch_op.create_index('ix_kyc_sessions_status_created', ['status', 'created_at'], unique=False)

    op.create_table('kyc_documents',
    sa.Column('contractor_id', sa.Uuid(), nullable=False),
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('document_type', sa.String(length=30), nullable=False),
    sa.Column('s3_key', sa.String(length=512), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('mime', sa.String(length=100), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('expiry_date', sa.Date(), nullable=True),
    sa.Column('reviewed_by', sa.Uuid(), nullable=True),
    sa.Column('reviewed_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('rejection_reason', sa.String(length=500), nullable=True),
    sa.Column('file_deleted_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contractor_id'], ['contractor_profiles.id'], name=op.f('fk_kyc_documents_contractor_id_contractor_profiles'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reviewed_by'], ['auth_users.id'], name=op.f('fk_kyc_documents_reviewed_by_auth_users')),
    sa.ForeignKeyConstraint(['session_id'], ['kyc_sessions.id'], name=op.f('fk_kyc_documents_session_id_kyc_sessions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kyc_documents'))
    )
    with op.batch_alter_table('kyc_documents', schema=None) as batch_op:
        batch_op.create_index('ix_kyc_documents_contractor_created', ['contractor_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_kyc_documents_session_id'), ['session_id'], unique=False)

    op.create_table('verification_payloads',
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('contractor_id', sa.Uuid(), nullable=True),
    sa.Column('session_id', sa.Uuid(), nullable=True),
    sa.Column('provider_session_id', sa.String(length=100), nullable=True),
    sa.Column('raw_body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('handled_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contractor_id'], ['contractor_profiles.id'], name=op.f('fk_verification_payloads_contractor_id_contractor_profiles')),
    sa.ForeignKeyConstraint(['session_id'], ['kyc_sessions.id'], name=op.f('fk_verification_payloads_session_id_kyc_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verification_payloads')),
    sa.UniqueConstraint('provider', 'event_id', name='uq_verification_payloads_provider_event')
    )
    with op.batch_alter_table('verification_payloads', schema=None) as batch_op:
        batch_op.create_index('ix_verification_payloads_contractor_provider_created', ['contractor_id', 'provider', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_verification_payloads_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('verification_payloads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verification_payloads_status'))
        batch_op.drop_index('ix_verification_payloads_contractor_provider_created')

    op.drop_table('verification_payloads')
    with op.batch_alter_table('kyc_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kyc_documents_session_id'))
        batch_op.drop_index('ix_kyc_documents_contractor_created')

    op.drop_table('kyc_documents')
    with op.batch_alter_table('kyc_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_kyc_sessions_status_created')
        batch_op.drop_index('ix_kyc_sessions_contractor_created')

    op.drop_table('kyc_sessions')
