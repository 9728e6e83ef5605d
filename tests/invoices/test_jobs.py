"""The daily jobs: run twice in a row, or once after days of downtime, they leave the same
invoices, step records and mails as running on time once.

- `invoices.issue-due` issues a missed period's invoice dated on its due date, so a run after an
  outage gives the same numbers and dates as daily runs;
- `invoices.mark-overdue` marks a past-due invoice `overdue` and reminds the client exactly once,
  recorded per invoice (`marked_overdue`, `client_reminded`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mindlinks.invoices.models import Invoice, InvoiceStepRecord
from mindlinks.platform.events import OutboxEvent
from tests.factories import mails
from tests.invoices.conftest import CONTRACTOR, issue_due, mark_overdue

pytestmark = pytest.mark.usefixtures("db_backend")


async def _rows(client: httpx.AsyncClient, party: Any) -> list[tuple[Any, ...]]:
    data = (await client.get(CONTRACTOR, headers=party.contractor.headers)).json()["data"]
    return sorted((r["invoiceNumber"], r["issueDate"], r["dueDate"], r["amount"]) for r in data)


async def _steps(app: Any) -> list[tuple[str, str]]:
    async with app.state.db.session() as session:
        rows = (await session.execute(
            select(Invoice.invoice_number, InvoiceStepRecord.step)
            .join(Invoice, Invoice.id == InvoiceStepRecord.invoice_id)
        )).all()
    return sorted((str(n), s) for n, s in rows)


async def test_issue_after_an_outage_equals_issuing_on_time(
    app: Any, client: httpx.AsyncClient, make_party: Any, active_fixed: Any
):
    on_time = await make_party()
    await active_fixed(on_time)
    for day in (date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)):
        assert await issue_due(app, day) == 1
        assert await issue_due(app, day) == 0  # twice in a row: nothing more

    late = await make_party(legal_name="Late Co")
    await active_fixed(late)
    assert await issue_due(app, date(2026, 4, 6)) == 3  # down since before 02-01
    assert await issue_due(app, date(2026, 4, 6)) == 0
    expected = [("INV-2026-001", "2026-02-01", "2026-02-15", 5000.0),
                ("INV-2026-002", "2026-03-01", "2026-03-15", 5000.0),
                ("INV-2026-003", "2026-04-01", "2026-04-15", 5000.0)]
    assert await _rows(client, on_time) == expected
    assert await _rows(client, late) == expected


async def test_overdue_marks_and_reminds_once_even_after_five_days_down(
    app: Any, client: httpx.AsyncClient, party: Any, active_fixed: Any, settings: Any
):
    await active_fixed(party)
    assert await issue_due(app, date(2026, 3, 1)) == 2  # due 02-15 and 03-15
    assert await mark_overdue(app, date(2026, 2, 15)) == 0  # due today is not overdue yet
    assert await mark_overdue(app, date(2026, 2, 16)) == 1
    assert await mark_overdue(app, date(2026, 2, 16)) == 0  # twice in a row
    assert await mark_overdue(app, date(2026, 2, 17)) == 0  # the next day: still once
    reminders = [m for m in mails(settings.mail_dir, party.client.email)
                 if "overdue" in str(m["Subject"])]
    assert [str(m["Subject"]) for m in reminders] == ["Invoice INV-2026-001 is overdue"]
    assert await _steps(app) == [("INV-2026-001", "client_reminded"),
                                 ("INV-2026-001", "marked_overdue")]

    # Down from 03-16 to 03-20: the first run after it catches up, once.
    assert await mark_overdue(app, date(2026, 3, 21)) == 1
    assert await mark_overdue(app, date(2026, 3, 21)) == 0
    reminders = [m for m in mails(settings.mail_dir, party.client.email)
                 if "overdue" in str(m["Subject"])]
    assert sorted(str(m["Subject"]) for m in reminders) == [
        "Invoice INV-2026-001 is overdue", "Invoice INV-2026-002 is overdue"]
    assert await _steps(app) == [("INV-2026-001", "client_reminded"),
                                 ("INV-2026-001", "marked_overdue"),
                                 ("INV-2026-002", "client_reminded"),
                                 ("INV-2026-002", "marked_overdue")]
    async with app.state.db.session() as session:
        events = await session.scalar(select(func.count()).select_from(OutboxEvent)
                                      .where(OutboxEvent.name == "invoice.overdue"))
        statuses = (await session.scalars(select(Invoice.status))).all()
    assert events == 2 and sorted(statuses) == ["overdue", "overdue"]
    # The contractor is not the one reminded.
    assert not [m for m in mails(settings.mail_dir, party.contractor.email)
                if "overdue" in str(m["Subject"])]
