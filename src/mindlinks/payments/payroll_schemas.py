"""Shapes of the payroll, wallet, earnings and history API (seed 000 "Payment Service", seed
002 PAYMENT_PAYROLL / _ITEMS): camelCase, amounts as numbers with the currency's decimals."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import Field

from mindlinks.platform.api import CamelModel, ResponseModel
from mindlinks.platform.money import JsonNumber


class PayrollOut(ResponseModel):
    id: uuid.UUID
    period: str
    pay_date: date
    contractor_count: int
    total_amount: JsonNumber
    currency: str
    status: str
    approved_at: datetime | None
    completed_at: datetime | None
    created_at: datetime


class PayrollItemOut(ResponseModel):
    id: uuid.UUID
    contractor_id: uuid.UUID
    contract_id: uuid.UUID
    invoice_id: uuid.UUID
    amount: JsonNumber
    currency: str
    status: str
    failure_reason: str | None
    paid_at: datetime | None


class PayrollDetail(PayrollOut):
    items: list[PayrollItemOut]


class PayrollSettings(CamelModel):
    auto_approve: bool = Field(strict=True)


class FundingOut(ResponseModel):
    invoice_id: uuid.UUID
    invoice_number: str | None
    amount: JsonNumber
    currency: str
    due_date: date
    funding_status: str


class LastWithdrawal(ResponseModel):
    amount: JsonNumber
    date: date
    status: str


class WithdrawalMethod(ResponseModel):
    id: uuid.UUID
    type: str
    bank_name: str
    account_number: str | None
    is_default: bool


class CurrencyBalance(ResponseModel):
    currency: str
    available_balance: JsonNumber
    pending_balance: JsonNumber


class Wallet(ResponseModel):
    available_balance: JsonNumber
    pending_balance: JsonNumber
    currency: str
    last_withdrawal: LastWithdrawal | None
    withdrawal_methods: list[WithdrawalMethod]
    balances: list[CurrencyBalance]


class MonthAmount(ResponseModel):
    month: str
    amount: JsonNumber


class ContractAmount(ResponseModel):
    contract_id: uuid.UUID
    client_name: str
    amount: JsonNumber


class Earnings(ResponseModel):
    total_earned: JsonNumber
    this_month: JsonNumber
    last_month: JsonNumber
    pending_payments: JsonNumber
    available_balance: JsonNumber
    currency: str
    earnings_by_month: list[MonthAmount]
    earnings_by_contract: list[ContractAmount]


Period = Literal["all", "year", "month", "week"]
HistoryStatus = Literal["all", "completed", "pending", "failed"]


class HistoryRow(ResponseModel):
    id: uuid.UUID
    contract_id: uuid.UUID
    client_name: str
    type: str
    amount: JsonNumber
    currency: str
    status: str
    paid_at: datetime | None
    invoice_id: uuid.UUID
    description: str
