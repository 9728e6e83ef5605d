"""Micro-deposit bank verification: the sender of the two small deposits.

Sending money belongs to the payments domain (a later issue brings its payout provider); until
then this Protocol is the seam, and `SandboxMicroDepositSender` is the sandbox "bank": it keeps
the deposits it was asked to send on an in-memory statement per account, which is exactly what
a contractor would read on their real bank statement. The platform's API never shows the
amounts: the service stores them only encrypted (`BankAccount.micro_deposits_enc`) and compares
them on `POST .../verify`.

Deposits are sent after the creating transaction commits (`after_commit`), so a rolled-back
request sends nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from mindlinks.platform.db import utcnow
from mindlinks.platform.errors import DomainError


class MicroDepositsUnavailable(DomainError):
    """No sender configured (production before the payments domain brings a real one)."""

    status, code, title = 503, "micro_deposits_unavailable", "Bank verification unavailable"


@dataclass(frozen=True)
class MicroDeposit:
    account_id: uuid.UUID
    amount: int  # minor units
    currency: str
    sent_at: datetime


class MicroDepositSender(Protocol):
    async def send(self, account_id: uuid.UUID, amounts: tuple[int, int], currency: str) -> None:
        """Credit the account with `amounts` (minor units of `currency`)."""
        ...


@dataclass
class SandboxMicroDepositSender:
    """Records deposits instead of moving money: `statement(account_id)` is the account's
    bank statement as the account holder would see it."""

    _statements: dict[uuid.UUID, list[MicroDeposit]] = field(default_factory=dict)

    async def send(self, account_id: uuid.UUID, amounts: tuple[int, int], currency: str) -> None:
        now = utcnow()
        lines = self._statements.setdefault(account_id, [])
        lines.extend(MicroDeposit(account_id, a, currency, now) for a in amounts)

    def statement(self, account_id: uuid.UUID) -> list[MicroDeposit]:
        return list(self._statements.get(account_id, []))

    def latest_amounts(self, account_id: uuid.UUID) -> list[int]:
        """The last two deposits (a re-sent pair replaces the earlier one)."""
        return [d.amount for d in self.statement(account_id)[-2:]]
