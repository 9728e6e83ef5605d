"""clients: companies, documents, invitations, client-contractor links

Revision ID: 0007_clients
Revises: 0001_foundation
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import mindlinks.platform.db

revision: str = '0007_clients'
down_revision: str | None = '0001_foundation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('client_companies',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('legal_name', sa.String(length=200), nullable=False),
    sa.Column('trading_name', sa.String(length=200), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('business_type', sa.String(length=40), nullable=False),
    sa.Column('company_number', sa.String(length=64), nullable=True),
    sa.Column('tax_id_enc', sa.Text(), nullable=False),
    sa.Column('tax_id_hint', sa.String(length=12), nullable=False),
    sa.Column('address', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('website', sa.String(length=300), nullable=True),
    sa.Column('logo_key', sa.String(length=512), nullable=True),
    sa.Column('verification_status', sa.String(length=20), nullable=False),
    sa.Column('verification_reason', sa.String(length=500), nullable=True),
    sa.Column('verified_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('reviewed_by', sa.Uuid(), nullable=True),
    sa.Column('reviewed_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('registry_status', sa.String(length=20), nullable=True),
    sa.Column('registry_checked_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('business_registry_data', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['reviewed_by'], ['auth_users.id'], name=op.f('fk_client_companies_reviewed_by_auth_users')),
    sa.ForeignKeyConstraint(['user_id'], ['auth_users.id'], name=op.f('fk_client_companies_user_id_auth_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_companies')),
    sa.UniqueConstraint('user_id', name=op.f('uq_client_companies_user_id'))
    )
    with op.batch_alter_table('client_companies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_companies_country'), ['country'], unique=False)
        batch_op.create_index(batch_op.f('ix_client_companies_verification_status'), ['verification_status'], unique=False)

    op.create_table('client_documents',
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('s3_key', sa.String(length=512), nullable=False),
    sa.Column('mime', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('review_reason', sa.String(length=500), nullable=True),
    sa.Column('reviewed_by', sa.Uuid(), nullable=True),
    sa.Column('reviewed_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['client_companies.id'], name=op.f('fk_client_documents_client_id_client_companies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewed_by'], ['auth_users.id'], name=op.f('fk_client_documents_reviewed_by_auth_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_documents')),
    sa.UniqueConstraint('s3_key', name=op.f('uq_client_documents_s3_key'))
    )
    with op.batch_alter_table('client_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_documents_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_client_documents_status'), ['status'], unique=False)

    op.create_table('client_invitations',
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('message', sa.String(length=2000), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('expires_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('sent_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('send_count', sa.Integer(), nullable=False),
    sa.Column('invited_by', sa.Uuid(), nullable=False),
    sa.Column('accepted_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('accepted_by', sa.Uuid(), nullable=True),
    sa.Column('revoked_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['accepted_by'], ['auth_users.id'], name=op.f('fk_client_invitations_accepted_by_auth_users')),
    sa.ForeignKeyConstraint(['client_id'], ['client_companies.id'], name=op.f('fk_client_invitations_client_id_client_companies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by'], ['auth_users.id'], name=op.f('fk_client_invitations_invited_by_auth_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_client_invitations_token_hash'))
    )
    with op.batch_alter_table('client_invitations', schema=None) as batch_op:
        batch_op.create_index('ix_client_invitations_client_email', ['client_id', 'email'], unique=False)
        batch_op.create_index(batch_op.f('ix_client_invitations_client_id'), ['client_id'], unique=False)

    op.create_table('client_contractors',
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('contractor_id', sa.Uuid(), nullable=False),
    sa.Column('contractor_user_id', sa.Uuid(), nullable=False),
    sa.Column('invitation_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['client_companies.id'], name=op.f('fk_client_contractors_client_id_client_companies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contractor_user_id'], ['auth_users.id'], name=op.f('fk_client_contractors_contractor_user_id_auth_users')),
    sa.ForeignKeyConstraint(['invitation_id'], ['client_invitations.id'], name=op.f('fk_client_contractors_invitation_id_client_invitations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_contractors')),
    sa.UniqueConstraint('client_id', 'contractor_id', name=op.f('uq_client_contractors_client_id'))
    )
    with op.batch_alter_table('client_contractors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_contractors_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_client_contractors_contractor_id'), ['contractor_id'], unique=False)


def downgrade() -> None:
    op.drop_table('client_contractors')
    op.drop_table('client_invitations')
    op.drop_table('client_documents')
    op.drop_table('client_companies')
