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


async def test_payroll_payouts_and_withdrawals_racing_on_one_wallet(
    app: Any, client: httpx.AsyncClient, party: Any, pay: Any,  # noqa: F811
    active_fixed: Any,  # noqa: F811
):
    """Mixed contention (RELIABILITY 4): on one contractor's wallet at once - payroll runs
    posting five invoices into it (from the client's escrow, which deposits credit meanwhile),
    new withdrawals holding from it, earlier withdrawals cancelled, and earlier payouts paid
    (hold posted, payout and fee legs to clearing and fee revenue). No 5xx, no deadlock; afterwards the whole book is consistent (every currency sums
    to zero, cached sums = replay of the transfers, nothing guarded below zero) and the wallet
    holds exactly what came in minus what went out or is held."""
    from tests.payments.book_checks import assert_book_consistent
    from tests.payments.withdrawal_helpers import PATH, bank, ready, request, requested, work

    await active_fixed(party)  # 5000.00 USD a month
    await fund(pay, party.client, "30000.00")
    assert await issue(app, date(2026, 6, 1)) == 5
    # Egypt's rule: 0.50 % fee, so a paid payout has a fee leg.
    w = await ready(app, client, party.contractor, country="EG", funds=300_000)  # 3000.00
    sent = [(await requested(client, w, amount="100.00"))["id"] for _ in range(10)]
    await work(app)  # handed to the provider: processing
    waiting = [(await requested(client, w, amount="100.00"))["id"] for _ in range(5)]
    deposits = [await pay.deposited(party.client, amount="100.00") for _ in range(3)]

    async def cancel(withdrawal_id: str) -> httpx.Response:
        return await client.post(f"{PATH}/{withdrawal_id}/cancel", headers=w.headers)

    async def paid(withdrawal_id: str) -> list[str]:
        return await bank(app, withdrawal_id, "complete")

    jobs: list[Any] = [request(client, w, amount="100.00") for _ in range(30)]
    jobs += [cancel(i) for i in waiting] + [paid(i) for i in sent]
    jobs += [payroll.run(app.state.db, date(2026, 6, 30)) for _ in range(5)]
    jobs += [pay.webhook(pay.event(d)) for d in deposits]
    answers = await asyncio.gather(*jobs)
    responses = [a for a in answers if isinstance(a, httpx.Response)]
    assert all(r.status_code < 500 for r in responses), [r.text for r in responses
                                                         if r.status_code >= 500]
    made = [r for r in answers[:30] if r.status_code == 201]
    assert all(r.json()["code"] == "insufficient_funds" for r in answers[:30]
               if r.status_code != 201)
    assert all(r.status_code == 200 for r in answers[30:35])  # every cancel went through
    assert answers[35:45] == [["payout.paid: handled"]] * 10
    assert sum(r["paid"] for r in answers[45:50]) == 5  # each invoice paid once
    assert [r.json()["outcome"] for r in answers[50:]] == ["handled"] * 3

    async with app.state.db.session() as s:
        await assert_book_consistent(s)
        assert sorted((await s.scalars(select(PayrollItem.status))).all()) == ["paid"] * 5
    assert len(made) >= 15  # the 1500.00 available before any payroll post
    # 3000.00 funded + 5 x 5000.00 paid - 10 x 100.00 paid out - 100.00 per new withdrawal held.
    wallet = await get(client, party.contractor, f"{CONTRACTOR}/wallet")
    assert round(wallet["availableBalance"] * 100) == (
        300_000 + 2_500_000 - 100_000 - 10_000 * len(made))
    # 30000.00 + 3 x 100.00 deposited - 5 x 5000.00 paid out of the escrow.
    assert (await pay.escrow(party.client))["balances"][0]["availableBalance"] == 5300.0
