"""countries: country rules (seed 002 ADMIN_COUNTRY_RULES), seeded for the launch countries

Revision ID: 0005_countries
Revises: 0001_foundation
"""
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import mindlinks.platform.db

revision: str = '0005_countries'
down_revision: str | None = '0001_foundation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (code, English name (CLDR), ISO 4217 currency (CLDR territory currency), withdrawal fee flat
# and minimum in USD cents, fee in basis points, payout days, required US tax form).
# Currencies and names were taken from babel's CLDR data; tests/countries checks them again.
COUNTRIES = [
    ('US', 'United States', 'USD', 0, 0, 1000, 1, 'W-9'),
    ('GB', 'United Kingdom', 'GBP', 200, 50, 2000, 2, 'W-8BEN'),
    ('DE', 'Germany', 'EUR', 200, 50, 2000, 2, 'W-8BEN'),
    ('FR', 'France', 'EUR', 200, 50, 2000, 2, 'W-8BEN'),
    ('NL', 'Netherlands', 'EUR', 200, 50, 2000, 2, 'W-8BEN'),
    ('ES', 'Spain', 'EUR', 200, 50, 2000, 2, 'W-8BEN'),
    ('IT', 'Italy', 'EUR', 200, 50, 2000, 2, 'W-8BEN'),
    ('IE', 'Ireland', 'EUR', 200, 50, 2000, 2, 'W-8BEN'),
    ('PT', 'Portugal', 'EUR', 200, 50, 2000, 2, 'W-8BEN'),
    ('PL', 'Poland', 'PLN', 200, 50, 2000, 2, 'W-8BEN'),
    ('EG', 'Egypt', 'EGP', 300, 100, 2000, 3, 'W-8BEN'),
    ('AE', 'United Arab Emirates', 'AED', 300, 100, 2000, 3, 'W-8BEN'),
    ('SA', 'Saudi Arabia', 'SAR', 300, 100, 2000, 3, 'W-8BEN'),
    ('IN', 'India', 'INR', 300, 100, 2000, 3, 'W-8BEN'),
    ('PK', 'Pakistan', 'PKR', 300, 100, 2000, 3, 'W-8BEN'),
    ('NG', 'Nigeria', 'NGN', 300, 100, 2000, 3, 'W-8BEN'),
    ('KE', 'Kenya', 'KES', 300, 100, 2000, 3, 'W-8BEN'),
    ('ZA', 'South Africa', 'ZAR', 300, 100, 2000, 3, 'W-8BEN'),
    ('BR', 'Brazil', 'BRL', 300, 100, 2000, 3, 'W-8BEN'),
    ('MX', 'Mexico', 'MXN', 300, 100, 2000, 3, 'W-8BEN'),
    ('AR', 'Argentina', 'ARS', 300, 100, 2000, 3, 'W-8BEN'),
    ('CO', 'Colombia', 'COP', 300, 100, 2000, 3, 'W-8BEN'),
    ('PH', 'Philippines', 'PHP', 300, 100, 2000, 3, 'W-8BEN'),
    ('ID', 'Indonesia', 'IDR', 300, 100, 2000, 3, 'W-8BEN'),
    ('VN', 'Vietnam', 'VND', 300, 100, 2000, 3, 'W-8BEN'),
    ('UA', 'Ukraine', 'UAH', 300, 100, 2000, 3, 'W-8BEN'),
    ('TR', 'Türkiye', 'TRY', 300, 100, 2000, 3, 'W-8BEN'),
    ('CA', 'Canada', 'CAD', 200, 50, 2000, 2, 'W-8BEN'),
    ('AU', 'Australia', 'AUD', 200, 50, 2000, 2, 'W-8BEN'),
]


def upgrade() -> None:
    op.create_table('country_rules',
    sa.Column('country_code', sa.String(length=2), nullable=False),
    sa.Column('country_name', sa.String(length=100), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('fee_currency', sa.String(length=3), nullable=False),
    sa.Column('withdrawal_fee_flat', sa.BigInteger(), nullable=False),
    sa.Column('withdrawal_fee_bps', sa.Integer(), nullable=False),
    sa.Column('min_withdrawal', sa.BigInteger(), nullable=False),
    sa.Column('payout_days', sa.Integer(), nullable=False),
    sa.Column('required_tax_form', sa.String(length=10), nullable=False),
    sa.Column('updated_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', mindlinks.platform.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('country_code', name=op.f('pk_country_rules'))
    )
    with op.batch_alter_table('country_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_country_rules_is_active'), ['is_active'], unique=False)

    table = sa.table(
        'country_rules',
        sa.column('country_code', sa.String), sa.column('country_name', sa.String),
        sa.column('currency', sa.String), sa.column('is_active', sa.Boolean),
        sa.column('fee_currency', sa.String), sa.column('withdrawal_fee_flat', sa.BigInteger),
        sa.column('withdrawal_fee_bps', sa.Integer), sa.column('min_withdrawal', sa.BigInteger),
        sa.column('payout_days', sa.Integer), sa.column('required_tax_form', sa.String),
        sa.column('created_at', mindlinks.platform.db.UTCDateTime()),
        sa.column('updated_at', mindlinks.platform.db.UTCDateTime()),
    )
    now = datetime.now(UTC)
    op.bulk_insert(table, [
        {'country_code': code, 'country_name': name, 'currency': currency, 'is_active': True,
         'fee_currency': 'USD', 'withdrawal_fee_flat': fee, 'withdrawal_fee_bps': bps,
         'min_withdrawal': minimum, 'payout_days': days, 'required_tax_form': form,
         'created_at': now, 'updated_at': now}
        for code, name, currency, fee, bps, minimum, days, form in COUNTRIES
    ])


def downgrade() -> None:
    with op.batch_alter_table('country_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_country_rules_is_active'))

    op.drop_table('country_rules')
