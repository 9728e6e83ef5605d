"""Helpers of the statement tests: post movements into a contractor's wallet at a chosen time
(the book and the journal read the same clock), and fetch statements."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import httpx
import pytest

from mindlinks.contractors import service as contractors
from mindlinks.payments import book
from mindlinks.payments.models import Purpose

CONTRACTOR = "/api/payments/contractor/me/statements"
CLIENT = "/api/payments/client/me/statements"


@contextmanager
def clock(monkeypatch: pytest.MonkeyPatch, at: datetime) -> Iterator[None]:
    """The book, the journal and statements all see `at` as now."""
    with monkeypatch.context() as m:
        for module in ("mindlinks.payments.book", "mindlinks.ledger.service",
                       "mindlinks.payments.statements"):
            m.setattr(f"{module}.utcnow", lambda: at)
        yield


async def contractor_id(app: Any, user_id: uuid.UUID | None) -> uuid.UUID:
    assert user_id is not None
    async with app.state.db.session() as s:
        profile = await contractors.profile_by_user(s, user_id)
        assert profile is not None
        return profile.id


async def move(app: Any, owner_id: uuid.UUID, amount: int, *, credit: bool = True,
               currency: str = "USD", code: str = "test_movement") -> uuid.UUID:
    """A posted transfer between the contractor's wallet and the platform's adjustments
    account (credit: into the wallet)."""
    async with app.state.db.session() as s:
        wallet = await book.account(s, "contractor", owner_id, Purpose.CONTRACTOR_WALLET,
                                    currency)
        other = await book.account(s, "platform", None, Purpose.ADJUSTMENTS, currency)
        debit, credit_to = (other, wallet) if credit else (wallet, other)
        row = await book.transfer(s, debit=debit, credit=credit_to, amount=amount, code=code,
                                  reference=f"test:{uuid.uuid4()}")
        return row.id


async def statement(client: httpx.AsyncClient, who: Any, month: str, path: str = CONTRACTOR,
                    **params: Any) -> httpx.Response:
    return await client.get(path, headers=who.headers, params={"month": month, **params})


async def digest(client: httpx.AsyncClient, who: Any, seq: int | None = None) -> dict[str, Any]:
    response = await client.get("/api/ledger/digest", headers=who.headers,
                                params={} if seq is None else {"seq": seq})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]
