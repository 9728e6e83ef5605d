"""notifications: the user's page language (`notification_preferences.language`, seed 001
user-preferences `language`)

Revision ID: 0015_notification_language
Revises: 0004_notifications
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015_notification_language'
down_revision: str | None = '0004_notifications'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('notification_preferences') as batch:
        batch.add_column(sa.Column('language', sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notification_preferences') as batch:
        batch.drop_column('language')
