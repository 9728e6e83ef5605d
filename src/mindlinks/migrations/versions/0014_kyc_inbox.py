"""kyc: provider webhooks move to the platform's shared inbox (`platform_webhook_events`,
domain "kyc"); `verification_payloads` rows are copied over and the table dropped

Revision ID: 0014_kyc_inbox
Revises: 0008_kyc, 0012_platform_inbox
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mindlinks.platform.db

revision: str = '0014_kyc_inbox'
down_revision: str | tuple[str, ...] | None = ('0008_kyc', '0012_platform_inbox')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COPY = """
INSERT INTO platform_webhook_events (id, domain, provider, event_id, kind, object_ref,
    subject_id, owner_id, occurred_at, raw_body, status, handled_at, note, created_at,
    updated_at)
SELECT id, 'kyc', provider, event_id, kind, provider_session_id, session_id, contractor_id,
    NULL, raw_body, status, handled_at, note, created_at, updated_at
FROM verification_payloads
"""

_COPY_BACK = """
INSERT INTO verification_payloads (id, provider, event_id, kind, provider_session_id,
    session_id, contractor_id, raw_body, status, handled_at, note, created_at, updated_at)
SELECT id, provider, event_id, kind, object_ref, subject_id, owner_id, raw_body, status,
    handled_at, note, created_at, updated_at
FROM platform_webhook_events WHERE domain = 'kyc'
"""


def upgrade() -> None:
    op.execute(_COPY)
    with op.batch_alter_table('verification_payloads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verification_payloads_status'))
        batch_op.drop_index('ix_verification_payloads_contractor_provider_created')
    op.drop_table('verification_payloads')


def downgrade() -> None:
    op.create_table('verification_payloads',
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('contractor_id', sa.Uuid(), nullable=True),
    sa.Column('session_id', sa.Uuid(), nullable=True),
    sa.Column('provider_session_id', sa.String(length=100), nullable=True),
    sa.Column('raw_body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('handled_at', mindlinks.platform.db.UTCDateTime(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contractor_id'], ['contractor_profiles.id'], name=op.f('fk_verification_payloads_contractor_id_contractor_profiles')),
    sa.ForeignKeyConstraint(['session_id'], ['kyc_sessions.id'], name=op.f('fk_verification_payloads_session_id_kyc_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verification_payloads')),
    sa.UniqueConstraint('provider', 'event_id', name='uq_verification_payloads_provider_event')
    )
    with op.batch_alter_table('verification_payloads', schema=None) as batch_op:
        batch_op.create_index('ix_verification_payloads_contractor_provider_created', ['contractor_id', 'provider', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_verification_payloads_status'), ['status'], unique=False)
    op.execute(_COPY_BACK)
    op.execute("DELETE FROM platform_webhook_events WHERE domain = 'kyc'")
