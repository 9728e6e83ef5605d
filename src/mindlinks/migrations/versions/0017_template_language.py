"""notifications: admin-edited templates per language (`notification_templates.language`)

The rows that exist are the English ones (admins could only edit English before); the Arabic
rows are seeded from the built-in Arabic catalogue at start-up (`templates.seed_defaults`).

Revision ID: 0017_template_language
Revises: 0016_fx_withdrawals, 0015_notification_language
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017_template_language'
# Also on the notifications branch, whose table this alters (a merge of the two).
down_revision: str | tuple[str, ...] | None = ('0016_fx_withdrawals', '0015_notification_language')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('notification_templates') as batch:
        batch.add_column(sa.Column('language', sa.String(length=10), server_default='en',
                                   nullable=False))
        batch.drop_constraint('uq_notification_templates_name', type_='unique')
        batch.create_unique_constraint('uq_notification_templates_name',
                                       ['name', 'type', 'language'])


def downgrade() -> None:
    # Only the English rows fit the old (name, type) key.
    op.execute("DELETE FROM notification_templates WHERE language <> 'en'")
    with op.batch_alter_table('notification_templates') as batch:
        batch.drop_constraint('uq_notification_templates_name', type_='unique')
        batch.create_unique_constraint('uq_notification_templates_name', ['name', 'type'])
        batch.drop_column('language')
