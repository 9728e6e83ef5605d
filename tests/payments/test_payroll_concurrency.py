"""Payroll races on PostgreSQL (SQLite serialises writers, so these could not fail there:
skipped): 50 runs of the same client and pay date at once pay each invoice exactly once -
one run row, one post per invoice, one `payment.received` per item, the wallet credited once."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mindlinks.payments import payroll
from mindlinks.payments.models import Transfer, TransferKind
from mindlinks.payments.payroll_models import Payroll, PayrollItem
from mindlinks.platform.events import OutboxEvent
from tests.contracts.conftest import flow, make_party, party  # noqa: F401 - fixtures
from tests.invoices.conftest import active_fixed  # noqa: F401 - fixtures
from tests.payments.payroll_helpers import CONTRACTOR, deliver, fund, get, issue

pytestmark = pytest.mark.usefixtures("db_backend")


@pytest.fixture(autouse=True)
def _postgresql_only(db_backend: str) -> None:
    if db_backend != "postgresql":
        pytest.skip("SQLite serialises writers: a race cannot happen there")


async def test_fifty_concurrent_runs_pay_each_invoice_once(
    app: Any, client: httpx.AsyncClient, party: Any, pay: Any,  # noqa: F811
    active_fixed: Any,  # noqa: F811
):
    await active_fixed(party)  # 5000.00 USD a month
    await fund(pay, party.client, "30000.00")
    assert await issue(app, date(2026, 6, 1)) == 5  # due 02-01 .. 06-01
    db = app.state.db
    reports = await asyncio.gather(*[payroll.run(db, date(2026, 6, 30)) for _ in range(50)])
    await deliver(app)
    assert sum(r["paid"] for r in reports) == 5

    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Payroll)) == 1
        statuses = (await s.scalars(select(PayrollItem.status))).all()
        assert sorted(statuses) == ["paid"] * 5
        posts = await s.scalar(select(func.count()).select_from(Transfer).where(
            Transfer.kind == TransferKind.POST))
        assert posts == 5
        received = await s.scalar(select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.name == "payment.received"))
        assert received == 5
    wallet = await get(client, party.contractor, f"{CONTRACTOR}/wallet")
    assert (wallet["availableBalance"], wallet["pendingBalance"]) == (25000.0, 0.0)
    assert (await pay.escrow(party.client))["balances"][0]["availableBalance"] == 5000.0
