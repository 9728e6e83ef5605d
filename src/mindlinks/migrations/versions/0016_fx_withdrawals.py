"""payments: withdrawals under an FX quote (spread, payout amount and currency, locked rate)

Revision ID: 0016_fx_withdrawals
Revises: 0015_fx_quotes, 0015_withdrawals
Create Date: 2026-11-29 06:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016_fx_withdrawals'
# Joins the two heads of issue 14: quotes (0015_fx_quotes) and withdrawals (0015_withdrawals).
down_revision: str | tuple[str, ...] | None = ('0015_fx_quotes', '0015_withdrawals')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('payment_withdrawals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fee_fx', sa.BigInteger(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('payout_amount', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('payout_currency', sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column('rate_scaled', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('payment_withdrawals', schema=None) as batch_op:
        batch_op.drop_column('rate_scaled')
        batch_op.drop_column('payout_currency')
        batch_op.drop_column('payout_amount')
        batch_op.drop_column('fee_fx')
