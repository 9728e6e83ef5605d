"""payments: large admin adjustments wait for a second admin (maker-checker, RELIABILITY 31)

Revision ID: 0019_adjustment_requests
Revises: 0018_payroll_indexes
Create Date: 2026-11-29 23:50:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mindlinks.platform.db

revision: str = '0019_adjustment_requests'
down_revision: str | tuple[str, ...] | None = '0018_payroll_indexes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('payment_adjustment_requests',
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('requested_by', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.Column('decided_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('transfer_id', sa.Uuid(), nullable=True),
    sa.Column('expires_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint('amount <> 0', name=op.f('ck_payment_adjustment_requests_amount_not_zero')),
    sa.ForeignKeyConstraint(['account_id'], ['payment_accounts.id'], name=op.f('fk_payment_adjustment_requests_account_id_payment_accounts')),
    sa.ForeignKeyConstraint(['transfer_id'], ['payment_transfers.id'], name=op.f('fk_payment_adjustment_requests_transfer_id_payment_transfers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_adjustment_requests'))
    )
    with op.batch_alter_table('payment_adjustment_requests', schema=None) as batch_op:
        batch_op.create_index('ix_payment_adjustment_requests_status', ['status', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('payment_adjustment_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_adjustment_requests_status')
    op.drop_table('payment_adjustment_requests')
