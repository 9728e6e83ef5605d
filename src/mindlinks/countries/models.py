"""Seed table `admin-country-rules`, keyed by ISO 3166-1 alpha-2 code."""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from mindlinks.platform.db import Base, TimestampMixin


class CountryRule(TimestampMixin, Base):
    __tablename__ = "country_rules"

    country_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    country_name: Mapped[str] = mapped_column(String(100))
    # The country's ISO 4217 currency: what contractors there are paid out in.
    currency: Mapped[str] = mapped_column(String(3))
    is_active: Mapped[bool] = mapped_column(default=True, index=True)
    # Withdrawal fee and minimum are money: minor units of `fee_currency` (the wallet currency).
    fee_currency: Mapped[str] = mapped_column(String(3), default="USD")
    withdrawal_fee_flat: Mapped[int] = mapped_column(BigInteger, default=0)
    # Basis points (1 % = 100): a rate as an integer, never a float.
    withdrawal_fee_bps: Mapped[int] = mapped_column(default=0)
    min_withdrawal: Mapped[int] = mapped_column(BigInteger, default=0)
    payout_days: Mapped[int] = mapped_column(default=2)
    required_tax_form: Mapped[str] = mapped_column(String(10), default="W-8BEN")
    updated_by: Mapped[uuid.UUID | None]
