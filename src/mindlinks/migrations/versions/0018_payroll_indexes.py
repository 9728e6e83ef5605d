"""payments, invoices, platform: indexes no query needs, taken off the payroll's write path

- `ix_payment_invoices_contractor_id` and `ix_payment_payroll_items_payroll_id` are the
  leading column of a unique key on the same table (`uq_payment_invoices_contractor_id`,
  `uq_payment_payroll_items_payroll_id`), which serves every lookup they served.
- `ix_platform_outbox_events_name`: no query selects events by name (the relay reads the
  deliveries), yet each event written updated it.
- `ix_payment_transfers_expiry` (status, expires_at) held every transfer, and every post of
  a hold rewrote its entry; the expiry job reads only pending transfers that have an expiry,
  so the index keeps only those (`expires_at` WHERE status = 'pending' AND expires_at IS NOT
  NULL): a payroll's posts and holds without expiry no longer touch it.

Revision ID: 0018_payroll_indexes
Revises: 0017_credential_documents, 0017_template_language, 0010_invoices
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018_payroll_indexes'
# A merge: the payments line (0017_credential_documents), the notifications line
# (0017_template_language) and the invoices branch, whose table this alters too (0010_invoices
# is its own head: a `depends_on` alone would leave it listed as an unapplied head).
down_revision: str | tuple[str, ...] | None = ('0017_credential_documents',
                                               '0017_template_language', '0010_invoices')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXPIRY_WHERE = "status = 'pending' AND expires_at IS NOT NULL"


def upgrade() -> None:
    op.drop_index('ix_payment_invoices_contractor_id', table_name='payment_invoices')
    op.drop_index('ix_payment_payroll_items_payroll_id', table_name='payment_payroll_items')
    op.drop_index('ix_platform_outbox_events_name', table_name='platform_outbox_events')
    op.drop_index('ix_payment_transfers_expiry', table_name='payment_transfers')
    op.create_index('ix_payment_transfers_expiry', 'payment_transfers', ['expires_at'],
                    postgresql_where=sa.text(EXPIRY_WHERE), sqlite_where=sa.text(EXPIRY_WHERE))


def downgrade() -> None:
    op.drop_index('ix_payment_transfers_expiry', table_name='payment_transfers')
    op.create_index('ix_payment_transfers_expiry', 'payment_transfers',
                    ['status', 'expires_at'])
    op.create_index('ix_platform_outbox_events_name', 'platform_outbox_events', ['name'])
    op.create_index('ix_payment_payroll_items_payroll_id', 'payment_payroll_items',
                    ['payroll_id'])
    op.create_index('ix_payment_invoices_contractor_id', 'payment_invoices', ['contractor_id'])
