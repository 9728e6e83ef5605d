"""Shapes of the withdrawals API (seed 000 "Wallet & Withdrawals"): camelCase, amounts as numbers
with the currency's decimals."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field

from mindlinks.payments.schemas import Currency
from mindlinks.platform.api import CamelModel, ResponseModel
from mindlinks.platform.money import JsonNumber

MethodType = Literal["bank_transfer", "paypal", "wise"]
# The seed's filter values, plus the states it does not list (`processing` also shows
# `pending`: both are "on the way" to the contractor; see docs/payments.md).
WithdrawalFilter = Literal["all", "completed", "processing", "failed", "pending", "cancelled",
                           "reversed"]


class WithdrawalCreate(CamelModel):
    amount: Decimal = Field(gt=0, max_digits=18)
    withdrawal_method_id: uuid.UUID
    currency: Currency
    # Not in the seed's request: the method's kind (seed table `withdrawalMethod.type`);
    # paypal and wise are refused (422 method_unavailable) until a provider for them exists.
    method_type: MethodType = "bank_transfer"
    quote_id: uuid.UUID | None = None  # an FX quote (issue 14 §2)


class WithdrawalMethodOut(ResponseModel):
    type: str
    bank_name: str
    account_number: str | None


class WithdrawalOut(ResponseModel):
    id: uuid.UUID
    amount: JsonNumber
    currency: str
    fee: JsonNumber
    net_amount: JsonNumber
    status: str
    estimated_arrival: date
    withdrawal_method: WithdrawalMethodOut
    created_at: datetime
    requested_at: datetime
    completed_at: datetime | None
    failure_reason: str | None
    quote_id: uuid.UUID | None
