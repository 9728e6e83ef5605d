"""payments: client deposits through the payments provider (`payment_deposits`)

Revision ID: 0013_payment_deposits
Revises: 0011_payments
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mindlinks.platform.db

revision: str = '0013_payment_deposits'
down_revision: str | None = '0011_payments'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('payment_deposits',
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('requested_by', sa.Uuid(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('provider_ref', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('bank_reference', sa.String(length=100), nullable=True),
    sa.Column('transfer_id', sa.Uuid(), nullable=True),
    sa.Column('failure_reason', sa.String(length=500), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payment_deposits_amount_positive')),
    sa.ForeignKeyConstraint(['transfer_id'], ['payment_transfers.id'], name=op.f('fk_payment_deposits_transfer_id_payment_transfers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_deposits')),
    sa.UniqueConstraint('provider', 'provider_ref', name=op.f('uq_payment_deposits_provider'))
    )
    with op.batch_alter_table('payment_deposits', schema=None) as batch_op:
        batch_op.create_index('ix_payment_deposits_client_created', ['client_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('payment_deposits', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_deposits_client_created')

    op.drop_table('payment_deposits')
