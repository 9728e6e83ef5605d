"""reconciliation: system alerts (`platform_alerts`) and the sandbox provider's own records
(`payment_sandbox_records`)

Revision ID: 0015_reconciliation
Revises: 0014_payroll
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import mindlinks.platform.db

revision: str = '0015_reconciliation'
down_revision: str | None = '0014_payroll'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('platform_alerts',
    sa.Column('source', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('summary', sa.String(length=500), nullable=False),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('resolved_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_alerts')),
    sa.UniqueConstraint('key', name=op.f('uq_platform_alerts_key'))
    )
    with op.batch_alter_table('platform_alerts', schema=None) as batch_op:
        batch_op.create_index('ix_platform_alerts_open', ['resolved_at', 'created_at'], unique=False)

    op.create_table('payment_sandbox_records',
    sa.Column('record_id', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('reference', sa.String(length=255), nullable=False),
    sa.Column('source_ref', sa.String(length=200), nullable=False),
    sa.Column('occurred_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payment_sandbox_records_amount_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_sandbox_records')),
    sa.UniqueConstraint('record_id', name=op.f('uq_payment_sandbox_records_record_id'))
    )
    with op.batch_alter_table('payment_sandbox_records', schema=None) as batch_op:
        batch_op.create_index('ix_payment_sandbox_records_occurred', ['occurred_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('payment_sandbox_records', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_sandbox_records_occurred')
    op.drop_table('payment_sandbox_records')
    with op.batch_alter_table('platform_alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_platform_alerts_open')
    op.drop_table('platform_alerts')
