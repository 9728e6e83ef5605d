"""Fixtures of the invoices tests: the contracts tests' parties and flow (a client company with
a linked, KYC-verified contractor), active contracts of each type, and helpers that run the
invoices jobs on the app's database for a given day."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from mindlinks.invoices import jobs
from tests.contracts.conftest import (  # noqa: F401 - fixtures reused by name
    Party,
    contract_body,
    fixed_template,
    flow,
    make_party,
    party,
)

SEED_KEYS = {"id", "invoiceNumber", "contractId", "clientName", "amount", "currency", "status",
             "issueDate", "dueDate", "paidDate", "pdfUrl"}
CONTRACTOR = "/api/payments/contractor/me/invoices"
CLIENT = "/api/payments/client/me/invoices"


async def template(client: httpx.AsyncClient, owner: Party, type_: str) -> dict[str, Any]:
    response = await client.get("/api/contract-templates", params={"type": type_,
                                                                  "model": "direct"},
                                headers=owner.client.headers)
    return response.json()["data"][0]  # type: ignore[no-any-return]


@pytest.fixture
def active_fixed(client: httpx.AsyncClient, flow: Any) -> Any:  # noqa: F811
    """An active fixed contract: 5000.00 USD monthly from 2026-01-01 to 2026-06-30 (schedule
    rows due 02-01, 03-01, 04-01, 05-01, 06-01, 06-30)."""

    async def _make(owner: Party, **over: Any) -> dict[str, Any]:
        tpl = await template(client, owner, "fixed")
        return await flow.active(owner, tpl["id"], **over)  # type: ignore[no-any-return]

    return _make


async def issue_due(app: Any, day: date) -> int:
    return await jobs.issue_due(app.state.db, day)


async def mark_overdue(app: Any, day: date) -> int:
    marked = await jobs.mark_overdue(app.state.db, day)
    await app.state.dispatcher.drain()
    await app.state.notifier.drain()
    return marked
