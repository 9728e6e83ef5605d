"""notifications: inbox, preferences, templates, delivery log

Revision ID: 0004_notifications
Revises: 0001_foundation
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import mindlinks.platform.db

revision: str = '0004_notifications'
down_revision: str | None = '0001_foundation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('notification_templates',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=10), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('text_body', sa.Text(), nullable=True),
    sa.Column('variables', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('updated_by', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_templates')),
    sa.UniqueConstraint('name', 'type', name=op.f('uq_notification_templates_name'))
    )
    op.create_index(op.f('ix_notification_templates_type'), 'notification_templates', ['type'], unique=False)
    op.create_table('notification_notifications',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('read', sa.Boolean(), nullable=False),
    sa.Column('read_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('action_url', sa.String(length=500), nullable=True),
    sa.Column('event_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['auth_users.id'], name=op.f('fk_notification_notifications_user_id_auth_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_notifications')),
    sa.UniqueConstraint('event_id', 'user_id', name=op.f('uq_notification_notifications_event_id'))
    )
    op.create_index('ix_notification_notifications_inbox', 'notification_notifications', ['user_id', 'read', 'created_at'], unique=False)
    op.create_index(op.f('ix_notification_notifications_user_id'), 'notification_notifications', ['user_id'], unique=False)
    op.create_table('notification_preferences',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('email_enabled', sa.Boolean(), nullable=False),
    sa.Column('push_enabled', sa.Boolean(), nullable=False),
    sa.Column('sms_enabled', sa.Boolean(), nullable=False),
    sa.Column('in_app_enabled', sa.Boolean(), nullable=False),
    sa.Column('digest_frequency', sa.String(length=10), nullable=False),
    sa.Column('opt_outs', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['auth_users.id'], name=op.f('fk_notification_preferences_user_id_auth_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_preferences')),
    sa.UniqueConstraint('user_id', name=op.f('uq_notification_preferences_user_id'))
    )
    op.create_table('notification_deliveries',
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('notification_id', sa.Uuid(), nullable=True),
    sa.Column('event_id', sa.Uuid(), nullable=True),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=True),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=True),
    sa.Column('headers', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lease_until', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claim_token', sa.Uuid(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('provider_message_id', sa.String(length=200), nullable=True),
    sa.Column('sent_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['notification_id'], ['notification_notifications.id'], name='fk_notification_deliveries_notification', ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['auth_users.id'], name=op.f('fk_notification_deliveries_user_id_auth_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_deliveries')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notification_deliveries_dedupe_key'))
    )
    op.create_index('ix_notification_deliveries_due', 'notification_deliveries', ['status', 'next_attempt_at'], unique=False)
    op.create_index(op.f('ix_notification_deliveries_user_id'), 'notification_deliveries', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_notification_deliveries_user_id'), table_name='notification_deliveries')
    op.drop_index('ix_notification_deliveries_due', table_name='notification_deliveries')
    op.drop_table('notification_deliveries')
    op.drop_table('notification_preferences')
    op.drop_index(op.f('ix_notification_notifications_user_id'), table_name='notification_notifications')
    op.drop_index('ix_notification_notifications_inbox', table_name='notification_notifications')
    op.drop_table('notification_notifications')
    op.drop_index(op.f('ix_notification_templates_type'), table_name='notification_templates')
    op.drop_table('notification_templates')
