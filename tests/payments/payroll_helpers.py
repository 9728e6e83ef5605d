"""Helpers of the payroll tests: run the invoices and payroll jobs for a given day and deliver
their events (the dispatcher and the notifier are drained, as the worker would)."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from mindlinks.invoices import jobs as invoice_jobs
from mindlinks.payments import payroll

CLIENT = "/api/payments/client/me"
CONTRACTOR = "/api/payments/contractor/me"
WALLET_KEYS = {"availableBalance", "pendingBalance", "currency", "lastWithdrawal",
               "withdrawalMethods", "balances"}
EARNINGS_KEYS = {"totalEarned", "thisMonth", "lastMonth", "pendingPayments", "availableBalance",
                 "currency", "earningsByMonth", "earningsByContract"}
HISTORY_KEYS = {"id", "contractId", "clientName", "type", "amount", "currency", "status",
                "paidAt", "invoiceId", "description"}


async def deliver(app: Any) -> None:
    await app.state.dispatcher.drain()
    await app.state.notifier.drain()


async def issue(app: Any, day: date) -> int:
    issued = await invoice_jobs.issue_due(app.state.db, day)
    await deliver(app)  # `invoice.issued` -> the hold
    return issued


async def run_payroll(app: Any, day: date) -> dict[str, int]:
    report = await payroll.run(app.state.db, day)
    await deliver(app)  # `payment.received` -> the notification
    return report


async def fund(pay: Any, who: Any, amount: str) -> None:
    deposit = await pay.deposited(who, amount=amount)
    response = await pay.webhook(pay.event(deposit))
    assert response.status_code == 200, response.text


async def get(client: httpx.AsyncClient, who: Any, path: str, **params: Any) -> Any:
    response = await client.get(path, headers=who.headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def notification_types(client: httpx.AsyncClient, who: Any) -> list[str]:
    body = await get(client, who, "/api/notifications/me")
    return [n["type"] for n in body["data"]]
