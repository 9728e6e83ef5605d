"""foundation: outbox, audit, auth

Revision ID: 0001_foundation
Revises: 
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import mindlinks.platform.db

revision: str = '0001_foundation'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_logs',
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('actor_role', sa.String(length=20), nullable=True),
    sa.Column('action', sa.String(length=100), nullable=False),
    sa.Column('entity_type', sa.String(length=60), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=True),
    sa.Column('ip_address', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=512), nullable=True),
    sa.Column('request_id', sa.String(length=128), nullable=True),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_logs'))
    )
    with op.batch_alter_table('audit_logs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_logs_action'), ['action'], unique=False)
        batch_op.create_index('ix_audit_logs_actor', ['actor_id', 'created_at'], unique=False)
        batch_op.create_index('ix_audit_logs_entity', ['entity_type', 'entity_id'], unique=False)

    op.create_table('auth_users',
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('email_verified', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('last_login', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('password_changed_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('mfa_enabled', sa.Boolean(), nullable=False),
    sa.Column('mfa_secret_enc', sa.Text(), nullable=True),
    sa.Column('mfa_last_step', sa.BigInteger(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_users')),
    sa.UniqueConstraint('email', name=op.f('uq_auth_users_email'))
    )
    op.create_table('platform_outbox_events',
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('occurred_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_outbox_events'))
    )
    with op.batch_alter_table('platform_outbox_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_platform_outbox_events_name'), ['name'], unique=False)

    op.create_table('auth_email_verifications',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('used_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['auth_users.id'], name=op.f('fk_auth_email_verifications_user_id_auth_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_email_verifications')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_auth_email_verifications_token_hash'))
    )
    with op.batch_alter_table('auth_email_verifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_email_verifications_user_id'), ['user_id'], unique=False)

    op.create_table('auth_mfa_recovery_codes',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('used_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['auth_users.id'], name=op.f('fk_auth_mfa_recovery_codes_user_id_auth_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_mfa_recovery_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_auth_mfa_recovery_codes_code_hash'))
    )
    with op.batch_alter_table('auth_mfa_recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_mfa_recovery_codes_user_id'), ['user_id'], unique=False)

    op.create_table('auth_password_resets',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('used', sa.Boolean(), nullable=False),
    sa.Column('used_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['auth_users.id'], name=op.f('fk_auth_password_resets_user_id_auth_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_password_resets')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_auth_password_resets_token_hash'))
    )
    with op.batch_alter_table('auth_password_resets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_password_resets_user_id'), ['user_id'], unique=False)

    op.create_table('auth_sessions',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('family_id', sa.Uuid(), nullable=False),
    sa.Column('refresh_token_hash', sa.String(length=64), nullable=False),
    sa.Column('amr', sa.String(length=40), nullable=False),
    sa.Column('user_agent', sa.String(length=512), nullable=True),
    sa.Column('ip_address', sa.String(length=64), nullable=True),
    sa.Column('expires_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('absolute_expires_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('rotated_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('revoked_reason', sa.String(length=40), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['auth_users.id'], name=op.f('fk_auth_sessions_user_id_auth_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_sessions')),
    sa.UniqueConstraint('refresh_token_hash', name=op.f('uq_auth_sessions_refresh_token_hash'))
    )
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_sessions_family_id'), ['family_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_auth_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('platform_event_deliveries',
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('subscriber', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('lease_until', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('claim_token', sa.Uuid(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('delivered_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['platform_outbox_events.id'], name=op.f('fk_platform_event_deliveries_event_id_platform_outbox_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_event_deliveries')),
    sa.UniqueConstraint('event_id', 'subscriber', name=op.f('uq_platform_event_deliveries_event_id'))
    )
    with op.batch_alter_table('platform_event_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_platform_event_deliveries_due', ['status', 'next_attempt_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('platform_event_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_platform_event_deliveries_due')

    op.drop_table('platform_event_deliveries')
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_sessions_user_id'))
        batch_op.drop_index(batch_op.f('ix_auth_sessions_family_id'))

    op.drop_table('auth_sessions')
    with op.batch_alter_table('auth_password_resets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_password_resets_user_id'))

    op.drop_table('auth_password_resets')
    with op.batch_alter_table('auth_mfa_recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_mfa_recovery_codes_user_id'))

    op.drop_table('auth_mfa_recovery_codes')
    with op.batch_alter_table('auth_email_verifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_email_verifications_user_id'))

    op.drop_table('auth_email_verifications')
    with op.batch_alter_table('platform_outbox_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_platform_outbox_events_name'))

    op.drop_table('platform_outbox_events')
    op.drop_table('auth_users')
    with op.batch_alter_table('audit_logs', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_logs_entity')
        batch_op.drop_index('ix_audit_logs_actor')
        batch_op.drop_index(batch_op.f('ix_audit_logs_action'))

    op.drop_table('audit_logs')
