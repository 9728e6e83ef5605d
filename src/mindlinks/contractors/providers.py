"""Micro-deposit bank verification: the sender of the two small deposits.

Sending money belongs to the payments domain (a later issue brings its payout provider); until
then this Protocol is the seam, and `SandboxMicroDepositSender` is the sandbox "bank": it keeps
the deposits it was asked to send on an in-memory statement per account, which is exactly what
a contractor would read on their real bank statement. The platform's API never shows the
amounts: the service stores them only encrypted (`BankAccount.micro_deposits_enc`) and compares
them on `POST .../verify`.

So that a developer can finish onboarding locally, the sandbox also mails each statement to the
development mailbox (the platform mailer: `.eml` files under `var/mail`, or the configured SMTP
server) - the one place outside the bank where the amounts appear, and only in the sandbox.

Deposits are sent after the creating transaction commits (`after_commit`), so a rolled-back
request sends nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from babel.numbers import get_currency_precision

from mindlinks.platform.db import utcnow
from mindlinks.platform.email import Mailer
from mindlinks.platform.errors import DomainError

SANDBOX_STATEMENT_TO = "statements@sandbox-bank.invalid"


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
    bank statement as the account holder would see it; with a `mailer`, it is also mailed to
    the development mailbox (see the module docstring)."""

    mailer: Mailer | None = None
    _statements: dict[uuid.UUID, list[MicroDeposit]] = field(default_factory=dict)

    async def send(self, account_id: uuid.UUID, amounts: tuple[int, int], currency: str) -> None:
        now = utcnow()
        lines = self._statements.setdefault(account_id, [])
        lines.extend(MicroDeposit(account_id, a, currency, now) for a in amounts)
        if self.mailer is not None:
            await self.mailer.send(to=SANDBOX_STATEMENT_TO,
                                   subject=f"Sandbox bank statement for account {account_id}",
                                   text=statement_text(account_id, amounts, currency))

    def statement(self, account_id: uuid.UUID) -> list[MicroDeposit]:
        return list(self._statements.get(account_id, []))

    def latest_amounts(self, account_id: uuid.UUID) -> list[int]:
        """The last two deposits (a re-sent pair replaces the earlier one)."""
        return [d.amount for d in self.statement(account_id)[-2:]]


def statement_text(account_id: uuid.UUID, amounts: tuple[int, int], currency: str) -> str:
    """The sandbox statement: the deposits as a bank shows them, and the minor units the
    verify endpoint takes (`{"amounts": [12, 34]}`)."""
    digits = get_currency_precision(currency)

    def shown(minor: int) -> str:
        return f"{Decimal(minor).scaleb(-digits)} {currency}"

    return (
        "Sandbox bank - no money moved.\n\n"
        f"Account {account_id} received two deposits:\n"
        f"  {shown(amounts[0])}\n  {shown(amounts[1])}\n\n"
        "Verify the account with these amounts in minor units:\n"
        f"  POST /api/contractors/me/bank-accounts/{account_id}/verify\n"
        f'  {{"amounts": [{amounts[0]}, {amounts[1]}]}}\n'
    )
