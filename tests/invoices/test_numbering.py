"""Invoice numbers `INV-{YYYY}-{NNN}`: per contractor and calendar year, taken at issue from a
counter row locked until the issuing transaction ends - 50 invoices issued at the same moment
for one contractor get 1..50 with no gap and no duplicate; a rolled-back issue gives its number
back; drafts have none; a cancelled invoice keeps its own."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from mindlinks.invoices import service
from mindlinks.invoices.models import Invoice, InvoiceLine

pytestmark = pytest.mark.usefixtures("db_backend")

CONCURRENT = 50


async def _drafts(app: Any, party: Any, count: int, issue_date: date) -> list[uuid.UUID]:
    ids = []
    async with app.state.db.session() as session:
        for i in range(count):
            invoice = Invoice(
                id=uuid.uuid4(), source_key=f"test:{uuid.uuid4()}", contract_id=uuid.uuid4(),
                contractor_id=uuid.UUID(party.contractor_id),
                contractor_user_id=uuid.UUID(party.contractor.user_id),
                client_id=uuid.UUID(party.company_id),
                client_user_id=uuid.UUID(party.client.user_id),
                client_name="Acme Widgets Ltd", contractor_name="Ada Lovelace",
                contract_title="Support", amount_minor=10_000 + i, currency="EUR",
                status="draft", net_terms_days=14, issue_date=issue_date,
            )
            session.add(invoice)
            await session.flush()
            session.add(InvoiceLine(id=uuid.uuid4(), invoice_id=invoice.id, position=0,
                                    description="Support", quantity_hundredths=100,
                                    unit_price_minor=10_000 + i, amount_minor=10_000 + i))
            ids.append(invoice.id)
    return ids


async def _issue(app: Any, invoice_id: uuid.UUID) -> str:
    async with app.state.db.session() as session:
        invoice = await service.issue(session, invoice_id)
        assert invoice.invoice_number is not None
        return invoice.invoice_number


async def test_concurrent_issues_number_one_to_fifty(app: Any, party: Any):
    ids = await _drafts(app, party, CONCURRENT, date(2026, 5, 4))
    async with app.state.db.session() as session:
        drafts = (await session.scalars(select(Invoice.invoice_number))).all()
    assert drafts == [None] * CONCURRENT  # never numbered at draft

    numbers = await asyncio.gather(*(_issue(app, i) for i in ids))
    assert sorted(numbers) == [f"INV-2026-{n:03d}" for n in range(1, CONCURRENT + 1)]


async def test_a_rolled_back_issue_returns_its_number_and_years_restart(app: Any, party: Any):
    first, second = await _drafts(app, party, 2, date(2026, 12, 31))
    with pytest.raises(RuntimeError):
        async with app.state.db.session() as session:
            invoice = await service.issue(session, first)
            assert invoice.invoice_number == "INV-2026-001"
            raise RuntimeError("the request failed after numbering")
    async with app.state.db.session() as session:
        assert (await session.get(Invoice, first)).status == "draft"  # type: ignore[union-attr]
    assert await _issue(app, second) == "INV-2026-001"
    assert await _issue(app, first) == "INV-2026-002"
    [new_year] = await _drafts(app, party, 1, date(2027, 1, 1))
    assert await _issue(app, new_year) == "INV-2027-001"
