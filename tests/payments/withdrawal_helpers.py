"""Helpers of the withdrawal tests: a contractor who may withdraw (profile country, KYC
verified, a bank account verified by its micro-deposits, money in the wallet), the sandbox
payout store, and the worker / bank steps."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from mindlinks.contractors import service as contractors
from mindlinks.payments import book, payouts, payouts_control
from mindlinks.payments.models import Account as BookAccount
from mindlinks.payments.models import Purpose
from mindlinks.payments.providers import get_provider
from mindlinks.payments.withdrawals_models import Withdrawal
from tests.contractors.conftest import add_us_account, complete_profile, statement_amounts
from tests.factories import Account

PATH = "/api/payments/contractor/me/withdrawals"
KEYS = {"id", "amount", "currency", "fee", "netAmount", "status", "estimatedArrival",
        "withdrawalMethod", "createdAt", "requestedAt", "completedAt", "failureReason",
        "quoteId"}


@dataclass
class Withdrawer:
    who: Account
    contractor_id: uuid.UUID
    method_id: str

    @property
    def headers(self) -> dict[str, str]:
        return self.who.headers


def key() -> str:
    return str(uuid.uuid4())


async def fund(app: Any, contractor_id: uuid.UUID, minor: int, currency: str = "USD",
               reference: str | None = None) -> None:
    """Money into the wallet (as a payroll post would), from the adjustments account."""
    async with app.state.db.session() as session:
        source = await book.account(session, "platform", None, Purpose.ADJUSTMENTS, currency)
        wallet = await book.account(session, "contractor", contractor_id,
                                    Purpose.CONTRACTOR_WALLET, currency)
        await book.transfer(session, debit=source, credit=wallet, amount=minor,
                            code="test_funding", reference=reference or f"fund:{uuid.uuid4()}")


async def ready(app: Any, client: httpx.AsyncClient, who: Account, *, country: str = "EG",
                funds: int | None = 1_000_000, kyc: bool = True,
                verify: bool = True) -> Withdrawer:
    await complete_profile(client, who, country=country)
    account = await add_us_account(client, who, bankName="National Bank of Egypt")
    if verify:
        a, b = statement_amounts(app, account["id"])
        response = await client.post(f"/api/contractors/me/bank-accounts/{account['id']}/verify",
                                     headers=who.headers, json={"amounts": [a, b]})
        assert response.status_code == 200, response.text
    async with app.state.db.session() as session:
        profile = await contractors.profile_by_user(session, uuid.UUID(who.user_id))
        assert profile is not None
        contractor_id = profile.id
        if kyc:
            await contractors.set_kyc_status(session, contractor_id, "verified")
    if funds:
        await fund(app, contractor_id, funds)
    return Withdrawer(who, contractor_id, account["id"])


async def request(client: httpx.AsyncClient, w: Withdrawer, amount: Any = "5000.00",
                  currency: str = "USD", idempotency_key: str | None = None,
                  **extra: Any) -> httpx.Response:
    body = {"amount": amount, "withdrawalMethodId": w.method_id, "currency": currency, **extra}
    return await client.post(PATH, json=body,
                             headers={**w.headers, "Idempotency-Key": idempotency_key or key()})


async def requested(client: httpx.AsyncClient, w: Withdrawer, **kw: Any) -> dict[str, Any]:
    response = await request(client, w, **kw)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def available(app: Any, contractor_id: uuid.UUID, currency: str = "USD") -> int:
    """The wallet's available balance in minor units (straight from the book)."""
    async with app.state.db.session() as session:
        row = await session.scalar(select(BookAccount).where(
            BookAccount.owner_type == "contractor", BookAccount.owner_id == contractor_id,
            BookAccount.purpose == Purpose.CONTRACTOR_WALLET, BookAccount.currency == currency))
        return 0 if row is None else row.credits_posted - row.debits_posted - row.debits_pending


async def row(app: Any, withdrawal_id: str) -> Withdrawal:
    async with app.state.db.session() as session:
        found = await session.get(Withdrawal, uuid.UUID(withdrawal_id))
        assert found is not None
        return found


def sandbox(app: Any) -> payouts.SandboxPayouts:
    provider = (app.state.db.sessionmaker.kw.get("info") or {})[payouts.SESSION_KEY]
    assert isinstance(provider, payouts.SandboxPayouts)
    return provider


async def work(app: Any) -> None:
    """What the worker does: deliver due events (the payout call, notifications)."""
    await app.state.dispatcher.drain()


async def bank(app: Any, withdrawal_id: str, outcome: payouts_control.Outcome) -> list[str]:
    async with app.state.db.session() as session:
        return await payouts_control.act(session, get_provider(app.state),
                                         uuid.UUID(withdrawal_id), outcome)


async def get(client: httpx.AsyncClient, w: Withdrawer, withdrawal_id: str) -> dict[str, Any]:
    response = await client.get(f"{PATH}/{withdrawal_id}", headers=w.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]
