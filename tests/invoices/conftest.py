"""Fixtures of the invoices tests: the contracts tests' parties and flow (a client company with
a linked, KYC-verified contractor), active contracts of each type, and helpers that run the
invoices jobs on the app's database for a given day."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from mindlinks.invoices import jobs
from tests.builders import active_contract
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


@pytest.fixture
def active_fixed(app: Any) -> Any:
    """An active fixed contract: 5000.00 USD monthly from 2026-01-01 to 2026-06-30 (schedule
    rows due 02-01, 03-01, 04-01, 05-01, 06-01, 06-30), built by `tests.builders` (as the
    signing flow leaves it, without rendering its PDFs)."""

    async def _make(owner: Party, **over: Any) -> dict[str, Any]:
        return await active_contract(app, owner, **over)

    return _make


async def issue_due(app: Any, day: date) -> int:
    return await jobs.issue_due(app.state.db, day)


async def mark_overdue(app: Any, day: date) -> int:
    marked = await jobs.mark_overdue(app.state.db, day)
    await app.state.dispatcher.drain()
    await app.state.notifier.drain()
    return marked
