"""Tables of fee and FX quotes (`payment_withdrawal_quotes`) and of the rates an admin sets
(`payment_fx_rates`). See docs/payments.md "Fee and FX quotes".

Rates are integers scaled by 10**RATE_DECIMALS (units of the currency per 1 EUR), never floats:
both databases store a BIGINT exactly, while SQLite would keep a NUMERIC as a float.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mindlinks.platform.db import Base, IdMixin, TimestampMixin

RATE_DECIMALS = 10
RATE_SCALE = 10**RATE_DECIMALS


class FxRate(IdMixin, TimestampMixin, Base):
    """A rate set by an admin: all rates of the sandbox provider, and, under the ECB provider,
    the rate of a currency the ECB does not publish (e.g. EGP). `updated_at` is its as-of."""

    __tablename__ = "payment_fx_rates"
    __table_args__ = (CheckConstraint("per_eur_scaled > 0", name="rate_positive"),)

    currency: Mapped[str] = mapped_column(String(3), unique=True)
    per_eur_scaled: Mapped[int] = mapped_column(BigInteger)
    set_by: Mapped[uuid.UUID | None]


class WithdrawalQuote(IdMixin, TimestampMixin, Base):
    """An itemised price of one withdrawal, its rate locked until `expires_at`, usable once.

    Amounts are minor units: `amount` and the three fees of `currency` (what leaves the
    wallet), `target_amount` of `target_currency` (what the bank receives). Immutable except
    `used_at`/`withdrawal_id`, set once by `quotes.take_quote` with a conditional UPDATE."""

    __tablename__ = "payment_withdrawal_quotes"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("fee_flat >= 0 AND fee_percent >= 0 AND fee_fx >= 0",
                        name="fees_not_negative"),
        CheckConstraint("target_amount > 0", name="target_positive"),
        CheckConstraint("rate_scaled > 0", name="rate_positive"),
        Index("ix_payment_withdrawal_quotes_contractor", "contractor_id", "expires_at"),
    )

    contractor_id: Mapped[uuid.UUID]
    withdrawal_method_id: Mapped[uuid.UUID]
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    fee_flat: Mapped[int] = mapped_column(BigInteger)
    fee_percent: Mapped[int] = mapped_column(BigInteger)
    fee_fx: Mapped[int] = mapped_column(BigInteger)
    spread_bps: Mapped[int] = mapped_column(Integer)
    # Target units per source unit, scaled by RATE_SCALE (1 * RATE_SCALE without conversion).
    rate_scaled: Mapped[int] = mapped_column(BigInteger)
    target_amount: Mapped[int] = mapped_column(BigInteger)
    target_currency: Mapped[str] = mapped_column(String(3))
    rate_source: Mapped[str] = mapped_column(String(20))
    rates_as_of: Mapped[datetime]
    estimated_arrival: Mapped[date]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    withdrawal_id: Mapped[uuid.UUID | None]
