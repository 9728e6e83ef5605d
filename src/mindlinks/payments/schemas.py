"""Request and response shapes of the payments API (camelCase JSON, amounts as numbers with
the currency's decimals)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from mindlinks.payments.quotes_schemas import QuoteCreate as QuoteCreate  # re-exported
from mindlinks.payments.quotes_schemas import QuoteOut as QuoteOut  # (public shapes)
from mindlinks.platform.api import CamelModel, Page, ResponseModel
from mindlinks.platform.money import JsonNumber

Currency = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$", to_upper=True)]


class EscrowBalance(ResponseModel):
    currency: str
    balance: JsonNumber  # posted credits - posted debits
    pending_payments: JsonNumber  # held for issued invoices (pending debits)
    available_balance: JsonNumber  # balance - pendingPayments


class EscrowTransaction(ResponseModel):
    id: uuid.UUID
    code: str
    kind: str
    direction: Literal["credit", "debit"]
    amount: JsonNumber
    currency: str
    status: str
    reference: str
    created_at: datetime


class Escrow(ResponseModel):
    balances: list[EscrowBalance]
    transactions: Page[EscrowTransaction]


class DepositCreate(CamelModel):
    amount: Decimal = Field(gt=0, max_digits=18)
    currency: Currency
    method: Literal["card", "bank_transfer"]


class BankInstructions(ResponseModel):
    bank_name: str | None = None
    account_holder: str | None = None
    iban: str | None = None
    bic: str | None = None
    reference: str | None = None
    hosted_instructions_url: str | None = None


class DepositOut(ResponseModel):
    id: uuid.UUID
    amount: JsonNumber
    currency: str
    method: str
    status: str
    provider: str
    payment_intent_id: str
    client_secret: str | None = None
    hosted_url: str | None = None
    bank_reference: str | None = None
    bank_instructions: BankInstructions | None = None
    created_at: datetime


class AdjustmentCreate(CamelModel):
    # Signed: positive credits the account, negative debits it.
    amount: Decimal = Field(max_digits=18)
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3,
                                             max_length=500)]


class AdjustmentOut(ResponseModel):
    transfer_id: uuid.UUID
    account_id: uuid.UUID
    amount: JsonNumber
    currency: str
    balance_before: JsonNumber
    balance_after: JsonNumber
    ledger_seq: int


AdjustmentRequestStatus = Literal["pending_approval", "approved", "rejected", "expired"]
# `pending` and `pending_approval` are the same filter (the shown status is the latter).
AdjustmentRequestFilter = Literal["all", "pending", "pending_approval", "approved", "rejected",
                                  "expired"]


class AdjustmentRequestOut(ResponseModel):
    """A large adjustment waiting for (or decided by) a second admin. `status`
    `pending_approval` until another admin approves or someone rejects it, or it expires."""

    id: uuid.UUID
    account_id: uuid.UUID
    amount: JsonNumber
    currency: str
    reason: str
    status: AdjustmentRequestStatus
    requested_by: uuid.UUID
    decided_by: uuid.UUID | None
    decided_at: datetime | None
    transfer_id: uuid.UUID | None
    created_at: datetime
    expires_at: datetime


class WebhookAck(ResponseModel):
    received: bool = True
    duplicate: bool = False
    outcome: str
