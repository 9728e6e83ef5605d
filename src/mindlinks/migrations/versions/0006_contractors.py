"""contractors: profiles, bank accounts, tax info, licences, insurance, documents, achievements (catalogue seeded)

Revision ID: 0006_contractors
Revises: 0001_foundation
"""
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import mindlinks.platform.db

revision: str = '0006_contractors'
down_revision: str | None = '0001_foundation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NS = uuid.UUID('6f1d3c2a-5b8e-4c1f-9a7d-0e2b4c6d8f10')

# (key, title, description, category, max progress): seed 003 gamification.
ACHIEVEMENTS = [
    ('profile_complete', 'Profile complete', 'Filled in every field of your profile and business details.', 'completion', 1),
    ('identity_verified', 'Identity verified', 'Passed identity verification (KYC).', 'completion', 1),
    ('bank_account_verified', 'Bank account verified', 'Confirmed a bank account with micro-deposits.', 'completion', 1),
    ('tax_form_approved', 'Tax form approved', 'Your tax form was reviewed and approved.', 'completion', 1),
    ('onboarding_complete', 'Ready to work', 'Completed every onboarding step.', 'completion', 1),
    ('first_contract_signed', 'First contract signed', 'Signed your first contract on Mind-Links.', 'completion', 1),
    ('timesheets_approved_25', '25 timesheets approved', 'Had 25 timesheets approved by your clients.', 'quality', 25),
    ('timesheets_on_time_10', '10 timesheets approved on time', 'Submitted 10 timesheets on time that were approved.', 'speed', 10),
    ('first_referral', 'First referral', 'Referred a contractor who joined Mind-Links.', 'referral', 1),
]


def upgrade() -> None:
    op.create_table('contractor_achievement_catalogue',
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('max_progress', sa.Integer(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contractor_achievement_catalogue')),
    sa.UniqueConstraint('key', name=op.f('uq_contractor_achievement_catalogue_key'))
    )
    op.create_table('contractor_profiles',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('first_name', sa.String(length=100), nullable=True),
    sa.Column('last_name', sa.String(length=100), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('avatar_key', sa.String(length=512), nullable=True),
    sa.Column('kyc_status', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('legal_name', sa.String(length=200), nullable=True),
    sa.Column('dba_name', sa.String(length=200), nullable=True),
    sa.Column('website', sa.String(length=300), nullable=True),
    sa.Column('address_line1', sa.String(length=200), nullable=True),
    sa.Column('address_line2', sa.String(length=200), nullable=True),
    sa.Column('address_city', sa.String(length=100), nullable=True),
    sa.Column('address_state', sa.String(length=100), nullable=True),
    sa.Column('address_postal_code', sa.String(length=20), nullable=True),
    sa.Column('address_country', sa.String(length=2), nullable=True),
    sa.Column('first_contract_signed_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['auth_users.id'], name=op.f('fk_contractor_profiles_user_id_auth_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contractor_profiles')),
    sa.UniqueConstraint('email', name=op.f('uq_contractor_profiles_email')),
    sa.UniqueConstraint('user_id', name=op.f('uq_contractor_profiles_user_id'))
    )
    op.create_table('contractor_achievement_credits',
    sa.Column('contractor_id', sa.Uuid(), nullable=False),
    sa.Column('achievement_key', sa.String(length=60), nullable=False),
    sa.Column('source_id', sa.String(length=100), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contractor_id'], ['contractor_profiles.id'], name=op.f('fk_contractor_achievement_credits_contractor_id_contractor_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contractor_achievement_credits')),
    sa.UniqueConstraint('contractor_id', 'achievement_key', 'source_id', name=op.f('uq_contractor_achievement_credits_contractor_id'))
    )
    op.create_table('contractor_achievements',
    sa.Column('contractor_id', sa.Uuid(), nullable=False),
    sa.Column('achievement_id', sa.Uuid(), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('max_progress', sa.Integer(), nullable=False),
    sa.Column('unlocked_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['achievement_id'], ['contractor_achievement_catalogue.id'], name=op.f('fk_contractor_achievements_achievement_id_contractor_achievement_catalogue'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contractor_id'], ['contractor_profiles.id'], name=op.f('fk_contractor_achievements_contractor_id_contractor_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contractor_id', 'achievement_id', name=op.f('pk_contractor_achievements'))
    )
    op.create_table('contractor_bank_details',
    sa.Column('contractor_id', sa.Uuid(), nullable=False),
    sa.Column('account_holder_name', sa.String(length=200), nullable=False),
    sa.Column('bank_name', sa.String(length=200), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('account_type', sa.String(length=20), nullable=False),
    sa.Column('swift_code', sa.String(length=11), nullable=True),
    sa.Column('account_number_enc', sa.Text(), nullable=True),
    sa.Column('account_number_last4', sa.String(length=4), nullable=True),
    sa.Column('routing_number_enc', sa.Text(), nullable=True),
    sa.Column('routing_number_last4', sa.String(length=4), nullable=True),
    sa.Column('iban_enc', sa.Text(), nullable=True),
    sa.Column('iban_last4', sa.String(length=4), nullable=True),
    sa.Column('is_primary', sa.Boolean(), nullable=False),
    sa.Column('verification_method', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('micro_deposits_enc', sa.Text(), nullable=True),
    sa.Column('micro_deposits_sent_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('verification_attempts', sa.Integer(), nullable=False),
    sa.Column('verified_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('name_mismatch', sa.Boolean(), nullable=False),
    sa.Column('deleted_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contractor_id'], ['contractor_profiles.id'], name=op.f('fk_contractor_bank_details_contractor_id_contractor_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contractor_bank_details'))
    )
    with op.batch_alter_table('contractor_bank_details', schema=None) as batch_op:
        batch_op.create_index('ix_contractor_bank_details_owner', ['contractor_id', 'deleted_at'], unique=False)
        batch_op.create_index('uq_contractor_bank_details_primary', ['contractor_id'], unique=True, postgresql_where=sa.text('is_primary AND deleted_at IS NULL'), sqlite_where=sa.text('is_primary AND deleted_at IS NULL'))

    op.create_table('contractor_documents',
    sa.Column('contractor_id', sa.Uuid(), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('storage_key', sa.String(length=512), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('mime_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contractor_id'], ['contractor_profiles.id'], name=op.f('fk_contractor_documents_contractor_id_contractor_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contractor_documents')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_contractor_documents_storage_key'))
    )
    with op.batch_alter_table('contractor_documents', schema=None) as batch_op:
        batch_op.create_index('ix_contractor_documents_owner', ['contractor_id', 'created_at'], unique=False)

    op.create_table('contractor_insurance_policies',
    sa.Column('contractor_id', sa.Uuid(), nullable=False),
    sa.Column('provider', sa.String(length=40), nullable=False),
    sa.Column('policy_number', sa.String(length=100), nullable=False),
    sa.Column('coverage_types', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('expiration_date', sa.Date(), nullable=False),
    sa.Column('verification_status', sa.String(length=20), nullable=False),
    sa.Column('additional_insured', sa.Boolean(), nullable=False),
    sa.Column('last_checked_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contractor_id'], ['contractor_profiles.id'], name=op.f('fk_contractor_insurance_policies_contractor_id_contractor_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contractor_insurance_policies'))
    )
    with op.batch_alter_table('contractor_insurance_policies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contractor_insurance_policies_contractor_id'), ['contractor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contractor_insurance_policies_expiration_date'), ['expiration_date'], unique=False)

    op.create_table('contractor_licenses',
    sa.Column('contractor_id', sa.Uuid(), nullable=False),
    sa.Column('state', sa.String(length=100), nullable=False),
    sa.Column('license_number', sa.String(length=100), nullable=False),
    sa.Column('license_type', sa.String(length=100), nullable=True),
    sa.Column('expiration_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('verified_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contractor_id'], ['contractor_profiles.id'], name=op.f('fk_contractor_licenses_contractor_id_contractor_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contractor_licenses')),
    sa.UniqueConstraint('contractor_id', 'state', 'license_number', name=op.f('uq_contractor_licenses_contractor_id'))
    )
    with op.batch_alter_table('contractor_licenses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contractor_licenses_contractor_id'), ['contractor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contractor_licenses_expiration_date'), ['expiration_date'], unique=False)

    op.create_table('contractor_tax_info',
    sa.Column('contractor_id', sa.Uuid(), nullable=False),
    sa.Column('tax_id_enc', sa.Text(), nullable=False),
    sa.Column('tax_id_last4', sa.String(length=4), nullable=False),
    sa.Column('tax_country', sa.String(length=2), nullable=False),
    sa.Column('entity_type', sa.String(length=20), nullable=False),
    sa.Column('tax_form_type', sa.String(length=10), nullable=False),
    sa.Column('document_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('submitted_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.Column('expires_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('reviewed_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('reviewed_by', sa.Uuid(), nullable=True),
    sa.Column('review_reason', sa.String(length=1000), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contractor_id'], ['contractor_profiles.id'], name=op.f('fk_contractor_tax_info_contractor_id_contractor_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['contractor_documents.id'], name=op.f('fk_contractor_tax_info_document_id_contractor_documents'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contractor_tax_info'))
    )
    with op.batch_alter_table('contractor_tax_info', schema=None) as batch_op:
        batch_op.create_index('ix_contractor_tax_info_owner', ['contractor_id', 'submitted_at'], unique=False)

    catalogue = sa.table(
        'contractor_achievement_catalogue',
        sa.column('id', sa.Uuid), sa.column('key', sa.String), sa.column('title', sa.String),
        sa.column('description', sa.String), sa.column('category', sa.String),
        sa.column('max_progress', sa.Integer), sa.column('sort_order', sa.Integer),
        sa.column('created_at', mindlinks.platform.db.UTCDateTime()),
        sa.column('updated_at', mindlinks.platform.db.UTCDateTime()),
    )
    now = datetime.now(UTC)
    op.bulk_insert(catalogue, [
        {'id': uuid.uuid5(_NS, key), 'key': key, 'title': title, 'description': description,
         'category': category, 'max_progress': maximum, 'sort_order': i,
         'created_at': now, 'updated_at': now}
        for i, (key, title, description, category, maximum) in enumerate(ACHIEVEMENTS)
    ])


def downgrade() -> None:
    with op.batch_alter_table('contractor_tax_info', schema=None) as batch_op:
        batch_op.drop_index('ix_contractor_tax_info_owner')

    op.drop_table('contractor_tax_info')
    with op.batch_alter_table('contractor_licenses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contractor_licenses_expiration_date'))
        batch_op.drop_index(batch_op.f('ix_contractor_licenses_contractor_id'))

    op.drop_table('contractor_licenses')
    with op.batch_alter_table('contractor_insurance_policies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contractor_insurance_policies_expiration_date'))
        batch_op.drop_index(batch_op.f('ix_contractor_insurance_policies_contractor_id'))

    op.drop_table('contractor_insurance_policies')
    with op.batch_alter_table('contractor_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_contractor_documents_owner')

    op.drop_table('contractor_documents')
    with op.batch_alter_table('contractor_bank_details', schema=None) as batch_op:
        batch_op.drop_index('uq_contractor_bank_details_primary', postgresql_where=sa.text('is_primary AND deleted_at IS NULL'), sqlite_where=sa.text('is_primary AND deleted_at IS NULL'))
        batch_op.drop_index('ix_contractor_bank_details_owner')

    op.drop_table('contractor_bank_details')
    op.drop_table('contractor_achievements')
    op.drop_table('contractor_achievement_credits')
    op.drop_table('contractor_profiles')
    op.drop_table('contractor_achievement_catalogue')
