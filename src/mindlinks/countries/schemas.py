"""Country rule requests and responses. Money is shown as a JSON number with the currency's
decimals (`2.50`) and stored as integer minor units; the fee rate is a percentage (`1.25`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field, StrictBool, StrictInt, field_validator

from mindlinks.platform.api import CamelModel, ResponseModel
from mindlinks.platform.money import JsonNumber

TaxForm = Literal["W-9", "W-8BEN", "W-8BEN-E"]

_CODE = Field(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2")


class Country(ResponseModel):
    """What anyone may read: an active country and how its contractors are paid."""

    country_code: str
    country_name: str
    currency: str
    required_tax_form: str


class CountryRule(ResponseModel):
    country_code: str
    country_name: str
    currency: str
    is_active: bool
    fee_currency: str
    withdrawal_fee_flat: JsonNumber
    withdrawal_fee_percent: JsonNumber
    min_withdrawal: JsonNumber
    payout_days: int
    required_tax_form: str
    updated_by: str | None = None
    created_at: datetime
    updated_at: datetime


class _RuleFields(CamelModel):
    @field_validator("currency", "fee_currency", check_fields=False)
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value else value


class CountryRuleCreate(_RuleFields):
    country_code: str = _CODE
    country_name: str | None = Field(default=None, max_length=100)
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")
    is_active: StrictBool = True
    fee_currency: str = Field(default="USD", pattern=r"^[A-Za-z]{3}$")
    withdrawal_fee_flat: Decimal = Field(default=Decimal(0), ge=0, max_digits=18)
    withdrawal_fee_percent: Decimal = Field(default=Decimal(0), ge=0, le=100, max_digits=18)
    min_withdrawal: Decimal = Field(default=Decimal(0), ge=0, max_digits=18)
    payout_days: StrictInt = Field(default=2, ge=0, le=60)
    required_tax_form: TaxForm | None = None


class CountryRuleUpdate(_RuleFields):
    """Every field optional: only what is sent changes."""

    country_name: str | None = Field(default=None, min_length=1, max_length=100)
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")
    is_active: StrictBool | None = None
    fee_currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")
    withdrawal_fee_flat: Decimal | None = Field(default=None, ge=0, max_digits=18)
    withdrawal_fee_percent: Decimal | None = Field(default=None, ge=0, le=100, max_digits=18)
    min_withdrawal: Decimal | None = Field(default=None, ge=0, max_digits=18)
    payout_days: StrictInt | None = Field(default=None, ge=0, le=60)
    required_tax_form: TaxForm | None = None
