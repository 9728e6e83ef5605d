"""platform: the shared webhook inbox (`platform_webhook_events`) and Idempotency-Key records
(`platform_idempotency_keys`)

Revision ID: 0012_platform_inbox
Revises: 0001_foundation
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mindlinks.platform.db

revision: str = '0012_platform_inbox'
down_revision: str | None = '0001_foundation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('platform_idempotency_keys',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('content_type', sa.String(length=100), nullable=True),
    sa.Column('location', sa.String(length=2000), nullable=True),
    sa.Column('body', sa.LargeBinary(), nullable=True),
    sa.Column('body_size', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_idempotency_keys')),
    sa.UniqueConstraint('user_id', 'key', name=op.f('uq_platform_idempotency_keys_user_id'))
    )
    with op.batch_alter_table('platform_idempotency_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_platform_idempotency_keys_expires_at'), ['expires_at'], unique=False)

    op.create_table('platform_webhook_events',
    sa.Column('domain', sa.String(length=30), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=100), nullable=False),
    sa.Column('object_ref', sa.String(length=200), nullable=True),
    sa.Column('subject_id', sa.Uuid(), nullable=True),
    sa.Column('owner_id', sa.Uuid(), nullable=True),
    sa.Column('occurred_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('raw_body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('handled_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_webhook_events')),
    sa.UniqueConstraint('domain', 'provider', 'event_id', name=op.f('uq_platform_webhook_events_domain'))
    )
    with op.batch_alter_table('platform_webhook_events', schema=None) as batch_op:
        batch_op.create_index('ix_platform_webhook_events_object', ['domain', 'object_ref'], unique=False)
        batch_op.create_index('ix_platform_webhook_events_owner', ['domain', 'owner_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_platform_webhook_events_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('platform_webhook_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_platform_webhook_events_status'))
        batch_op.drop_index('ix_platform_webhook_events_owner')
        batch_op.drop_index('ix_platform_webhook_events_object')

    op.drop_table('platform_webhook_events')
    with op.batch_alter_table('platform_idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_platform_idempotency_keys_expires_at'))

    op.drop_table('platform_idempotency_keys')
