"""crypto: per-subject data keys for field encryption and crypto-shredding

Revision ID: 0003_crypto
Revises: 0001_foundation
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mindlinks.platform.db

revision: str = '0003_crypto'
down_revision: str | None = '0001_foundation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('platform_data_keys',
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('kek_id', sa.String(length=32), nullable=False),
    sa.Column('wrapped_key', sa.LargeBinary(), nullable=True),
    sa.Column('destroyed_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_data_keys')),
    sa.UniqueConstraint('subject_id', name=op.f('uq_platform_data_keys_subject_id'))
    )


def downgrade() -> None:
    op.drop_table('platform_data_keys')
