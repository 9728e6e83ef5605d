"""contracts: templates (with the default per type x model), contracts, milestones,
signatures, payment schedule

Revision ID: 0009_contracts
Revises: 0001_foundation

Companies and contractor profiles are referenced by id without a database FK (as
client_contractors does): a cross-branch `depends_on` would leave the other heads unrecorded.
"""
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import mindlinks.platform.db

revision: str = '0009_contracts'
down_revision: str | None = '0001_foundation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COMMON_HEAD = """# {{ contract_title }}

This agreement is made between **{{ client_name }}** (the "Client") and
**{{ contractor_name }}** (the "Contractor"), effective {{ start_date }}.
"""

_RELATIONSHIP = {
    "direct": """## Relationship of the parties

The Contractor is an independent contractor, not an employee of the Client. The Contractor is
responsible for their own taxes, social contributions, equipment and working hours.
""",
    "eor": """## Employer of Record

Mind-Links, as Employer of Record, employs the Contractor on the Client's behalf in the
Contractor's country and handles payroll, statutory contributions and local compliance. The
Client directs the day-to-day work.
""",
}

_COMPENSATION = {
    "fixed": """## Compensation

The Client pays the Contractor **{{ rate }} {{ currency }}** per {{ frequency }} payment period.
""",
    "hourly": """## Compensation

The Client pays the Contractor **{{ rate }} {{ currency }} per hour** for approved timesheets,
settled {{ frequency }}.
""",
    "milestone": """## Compensation and milestones

The total fee is **{{ rate }} {{ currency }}**, paid per approved milestone:

{% for m in milestones %}- {{ m.title }}: {{ m.amount }} {{ currency }}{% if m.due_date %}, due {{ m.due_date }}{% endif %}
{% endfor %}""",
}

_TAIL = """
## Services

{{ contract_description }}

## Term

From {{ start_date }} until {{ end_date }}. Either party may terminate with written notice
through the platform; work approved before the effective date is paid.

## Additional terms

{% for term in terms %}- {{ term }}
{% endfor %}
## Confidentiality and intellectual property

Work product created under this agreement belongs to the Client once paid for. Each party keeps
the other's confidential information confidential during the term and afterwards.
"""

_VARIABLES = ["client_name", "contractor_name", "contract_title", "contract_description",
              "rate", "currency", "frequency", "start_date", "end_date", "terms"]
_NAMES = {"fixed": "Fixed-price", "hourly": "Hourly", "milestone": "Milestone"}
_MODELS = {"direct": "direct contractor", "eor": "Employer of Record"}


def _default_templates() -> list[dict[str, object]]:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for type_ in ("fixed", "hourly", "milestone"):
        for model in ("direct", "eor"):
            content = _COMMON_HEAD + "\n" + _RELATIONSHIP[model] + "\n" + _COMPENSATION[type_] + _TAIL
            variables = _VARIABLES + (["milestones"] if type_ == "milestone" else [])
            rows.append({
                "id": uuid.uuid5(uuid.NAMESPACE_URL, f"mindlinks:contract-template:{type_}:{model}"),
                "name": f"{_NAMES[type_]} agreement ({_MODELS[model]})",
                "type": type_, "model": model, "template_content": content,
                "variables": variables, "is_default": True, "created_at": now, "updated_at": now,
            })
    return rows


def upgrade() -> None:
    op.create_table('contract_templates',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('model', sa.String(length=20), nullable=False),
    sa.Column('template_content', sa.Text(), nullable=False),
    sa.Column('variables', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_templates'))
    )
    with op.batch_alter_table('contract_templates', schema=None) as batch_op:
        batch_op.create_index('ix_contract_templates_type_model', ['type', 'model'], unique=False)

    op.create_table('contracts',
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('client_user_id', sa.Uuid(), nullable=False),
    sa.Column('contractor_id', sa.Uuid(), nullable=False),
    sa.Column('contractor_user_id', sa.Uuid(), nullable=False),
    sa.Column('template_id', sa.Uuid(), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('model', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('rate_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('frequency', sa.String(length=20), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('terms', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('document_key', sa.String(length=512), nullable=True),
    sa.Column('document_sha256', sa.String(length=64), nullable=True),
    sa.Column('signed_document_key', sa.String(length=512), nullable=True),
    sa.Column('signed_document_sha256', sa.String(length=64), nullable=True),
    sa.Column('sent_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('client_signed_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('contractor_signed_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('activated_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.String(length=1000), nullable=True),
    sa.Column('terminated_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('termination_effective_date', sa.Date(), nullable=True),
    sa.Column('termination_reason', sa.String(length=1000), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_user_id'], ['auth_users.id'], name=op.f('fk_contracts_client_user_id_auth_users')),
    sa.ForeignKeyConstraint(['contractor_user_id'], ['auth_users.id'], name=op.f('fk_contracts_contractor_user_id_auth_users')),
    sa.ForeignKeyConstraint(['template_id'], ['contract_templates.id'], name=op.f('fk_contracts_template_id_contract_templates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contracts'))
    )
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contracts_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contracts_contractor_id'), ['contractor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contracts_status'), ['status'], unique=False)

    op.create_table('contract_milestones',
    sa.Column('contract_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('submission_note', sa.Text(), nullable=True),
    sa.Column('attachments', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('submitted_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('approved_by', sa.Uuid(), nullable=True),
    sa.Column('approved_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rejection_reason', sa.String(length=1000), nullable=True),
    sa.Column('rejected_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approved_by'], ['auth_users.id'], name=op.f('fk_contract_milestones_approved_by_auth_users')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_contract_milestones_contract_id_contracts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_milestones'))
    )
    with op.batch_alter_table('contract_milestones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_milestones_contract_id'), ['contract_id'], unique=False)

    op.create_table('contract_payment_schedule',
    sa.Column('contract_id', sa.Uuid(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_contract_payment_schedule_contract_id_contracts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_payment_schedule')),
    sa.UniqueConstraint('contract_id', 'due_date', name=op.f('uq_contract_payment_schedule_contract_id'))
    )
    with op.batch_alter_table('contract_payment_schedule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_payment_schedule_contract_id'), ['contract_id'], unique=False)

    op.create_table('contract_signatures',
    sa.Column('contract_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('signer_user_id', sa.Uuid(), nullable=False),
    sa.Column('signed_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('document_sha256', sa.String(length=64), nullable=False),
    sa.Column('image_key', sa.String(length=512), nullable=False),
    sa.Column('image_sha256', sa.String(length=64), nullable=False),
    sa.Column('ip_hash', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=512), nullable=True),
    sa.Column('journal_seq', sa.BigInteger(), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_contract_signatures_contract_id_contracts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signer_user_id'], ['auth_users.id'], name=op.f('fk_contract_signatures_signer_user_id_auth_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_signatures')),
    sa.UniqueConstraint('contract_id', 'role', name=op.f('uq_contract_signatures_contract_id'))
    )
    with op.batch_alter_table('contract_signatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_signatures_contract_id'), ['contract_id'], unique=False)

    templates = sa.table(
        'contract_templates',
        sa.column('id', sa.Uuid()), sa.column('name', sa.String()), sa.column('type', sa.String()),
        sa.column('model', sa.String()), sa.column('template_content', sa.Text()),
        sa.column('variables', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')),
        sa.column('is_default', sa.Boolean()),
        sa.column('created_at', mindlinks.platform.db.UTCDateTime()),
        sa.column('updated_at', mindlinks.platform.db.UTCDateTime()),
    )
    op.bulk_insert(templates, _default_templates())


def downgrade() -> None:
    with op.batch_alter_table('contract_signatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_signatures_contract_id'))

    op.drop_table('contract_signatures')
    with op.batch_alter_table('contract_payment_schedule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_payment_schedule_contract_id'))

    op.drop_table('contract_payment_schedule')
    with op.batch_alter_table('contract_milestones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_milestones_contract_id'))

    op.drop_table('contract_milestones')
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contracts_status'))
        batch_op.drop_index(batch_op.f('ix_contracts_contractor_id'))
        batch_op.drop_index(batch_op.f('ix_contracts_client_id'))

    op.drop_table('contracts')
    with op.batch_alter_table('contract_templates', schema=None) as batch_op:
        batch_op.drop_index('ix_contract_templates_type_model')

    op.drop_table('contract_templates')
