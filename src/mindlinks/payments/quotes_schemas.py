"""Shapes of the fee and FX quote API and of the admin's FX rates (camelCase; amounts as numbers
with their currency's decimals; rates as numbers with at most 10 decimals)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import Field, StringConstraints

from mindlinks.platform.api import CamelModel, ResponseModel
from mindlinks.platform.money import JsonNumber

Currency = Annotated[str, StringConstraints(min_length=3, max_length=3, pattern=r"^[A-Za-z]{3}$",
                                             to_upper=True)]
RateValue = Annotated[Decimal, Field(gt=0, le=10_000_000, max_digits=18, decimal_places=10)]


class QuoteCreate(CamelModel):
    amount: Decimal = Field(gt=0, max_digits=18)
    currency: Currency
    withdrawal_method_id: uuid.UUID
    target_currency: Currency | None = None


class QuoteFee(ResponseModel):
    flat: JsonNumber  # the country rule's flat fee, in `currency`
    percent: JsonNumber  # the rule's percentage of `amount`
    fx: JsonNumber  # the FX spread kept by the platform (0 without conversion)


class QuoteOut(ResponseModel):
    quote_id: uuid.UUID
    amount: JsonNumber
    currency: str
    fee: QuoteFee
    rate: JsonNumber  # mid rate, target units per 1 `currency` unit (1 without conversion)
    target_amount: JsonNumber
    target_currency: str
    estimated_arrival: date
    expires_at: datetime
    # Beyond the shape: what the rate and the spread are, so the quote can be checked.
    spread_bps: int
    rate_source: str
    rates_as_of: datetime
    used: bool


class FxRatesSet(CamelModel):
    # Units of each currency per 1 EUR, as the ECB quotes them.
    rates: dict[Currency, RateValue] = Field(min_length=1, max_length=50)


class FxRateOut(ResponseModel):
    currency: str
    per_eur: JsonNumber
    as_of: datetime
    source: str


class FxRatesOut(ResponseModel):
    provider: str
    base: str
    spread_bps: int
    max_rate_age_hours: int
    rates: list[FxRateOut]
