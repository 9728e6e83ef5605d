"""clients: the registry entry a company matched (one account per registry number)

Revision ID: 0011_client_registry_key
Revises: 0010_client_invoice_terms
"""
import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from mindlinks.platform.db import JSONType

revision: str = '0011_client_registry_key'
down_revision: str | None = '0010_client_invoice_terms'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('client_companies') as batch:
        batch.add_column(sa.Column('registry_key', sa.String(length=120), nullable=True))
        batch.create_index(batch.f('ix_client_companies_registry_key'), ['registry_key'],
                           unique=False)
    # Companies matched before this revision keep their claim on the registry entry.
    companies = sa.table('client_companies', sa.column('id', sa.Uuid()),
                         sa.column('registry_status', sa.String()),
                         sa.column('business_registry_data', JSONType),
                         sa.column('registry_key', sa.String()))
    bind = op.get_bind()
    rows = bind.execute(sa.select(companies.c.id, companies.c.business_registry_data)
                        .where(companies.c.registry_status == 'matched')).all()
    for company_id, data in rows:
        if not isinstance(data, dict) or not data.get('companyNumber'):
            continue
        number = re.sub(r'[^0-9A-Za-z]', '', str(data['companyNumber'])).upper()
        key = f"{str(data.get('jurisdiction') or '').lower()}:{number}"[:120]
        bind.execute(sa.update(companies).where(companies.c.id == company_id)
                     .values(registry_key=key))


def downgrade() -> None:
    with op.batch_alter_table('client_companies') as batch:
        batch.drop_index(batch.f('ix_client_companies_registry_key'))
        batch.drop_column('registry_key')
