"""clients: the invoice net terms of a client company (days from issue to due date)

Revision ID: 0010_client_invoice_terms
Revises: 0007_clients
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010_client_invoice_terms'
down_revision: str | None = '0007_clients'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('client_companies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invoice_net_terms_days', sa.Integer(), server_default='14',
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('client_companies', schema=None) as batch_op:
        batch_op.drop_column('invoice_net_terms_days')
