"""contractors: a licence or insurance policy may carry a document (the scan of the licence,
the certificate of insurance), stored as a `contractor_documents` row

Revision ID: 0017_credential_documents
Revises: 0016_fx_withdrawals (depends on 0006_contractors)
Create Date: 2026-11-29 13:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017_credential_documents'
down_revision: str | tuple[str, ...] | None = '0016_fx_withdrawals'
branch_labels: str | Sequence[str] | None = None
# The tables are the contractors branch's (0006), which 0016's line does not include.
depends_on: str | Sequence[str] | None = '0006_contractors'

# Named as the models name them: the convention's name would pass PostgreSQL's 63 characters.
TABLES = {'contractor_licenses': 'fk_contractor_licenses_document',
          'contractor_insurance_policies': 'fk_contractor_insurance_policies_document'}


def upgrade() -> None:
    for table, fk in TABLES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('document_id', sa.Uuid(), nullable=True))
            # The document row outlives a replaced or deleted credential (the contractor's
            # documents list keeps it); a document removed for retention leaves no dangling id.
            batch_op.create_foreign_key(fk, 'contractor_documents', ['document_id'], ['id'],
                                        ondelete='SET NULL')


def downgrade() -> None:
    for table, fk in TABLES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(fk, type_='foreignkey')
            batch_op.drop_column('document_id')
