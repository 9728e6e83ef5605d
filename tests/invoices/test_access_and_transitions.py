"""Who sees an invoice (its contractor and its client; anyone else gets 404), its download
link, and its transitions: paid once, cancelled with a reason and reissued, never changed
after it was paid or cancelled (409 `invalid_transition`, nothing changes)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from mindlinks.invoices import service
from mindlinks.ledger.models import LedgerEntry
from mindlinks.platform.errors import InvalidTransition
from mindlinks.platform.events import OutboxEvent
from tests.invoices.conftest import CLIENT, CONTRACTOR, issue_due

pytestmark = pytest.mark.usefixtures("db_backend")


async def _count(app: Any, model: Any, *where: Any) -> int:
    async with app.state.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where))
                   or 0)


@pytest.fixture
async def issued(app: Any, client: httpx.AsyncClient, party: Any, active_fixed: Any
                 ) -> list[dict[str, Any]]:
    await active_fixed(party)
    assert await issue_due(app, date(2026, 3, 1)) == 2
    rows = (await client.get(CONTRACTOR, headers=party.contractor.headers)).json()["data"]
    return sorted(rows, key=lambda r: r["invoiceNumber"])


async def test_another_partys_invoice_is_404(
    client: httpx.AsyncClient, party: Any, make_party: Any, issued: list[dict[str, Any]]
):
    other = await make_party(legal_name="Other Co", contractor_name="Someone Else")
    invoice_id = issued[0]["id"]
    for path, headers in [(CONTRACTOR, other.contractor.headers),
                          (CLIENT, other.client.headers)]:
        for suffix in ("", "/download"):
            response = await client.get(f"{path}/{invoice_id}{suffix}", headers=headers)
            assert response.status_code == 404, response.text
            assert response.json()["code"] == "invoice_not_found"
        listed = await client.get(path, headers=headers)
        assert listed.json()["meta"]["total"] == 0
    unknown = await client.get(f"{CONTRACTOR}/{uuid.uuid4()}", headers=party.contractor.headers)
    assert unknown.status_code == 404
    # Each party uses its own side's routes.
    wrong_side = await client.get(f"{CLIENT}/{invoice_id}", headers=party.contractor.headers)
    assert wrong_side.status_code == 403


async def test_download_link_serves_the_journalled_pdf(
    app: Any, client: httpx.AsyncClient, party: Any, issued: list[dict[str, Any]]
):
    invoice_id = issued[0]["id"]
    for path, headers in [(CONTRACTOR, party.contractor.headers), (CLIENT, party.client.headers)]:
        response = await client.get(f"{path}/{invoice_id}/download", headers=headers)
        assert response.status_code == 200, response.text
        assert set(response.json()) == {"downloadUrl", "expiresAt"}
    url = urlsplit(response.json()["downloadUrl"])
    pdf = await client.get(f"{url.path}?{url.query}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    async with app.state.db.session() as session:
        entry = (await session.scalars(select(LedgerEntry).where(
            LedgerEntry.entity_id == invoice_id, LedgerEntry.entry_type == "invoice_issue"
        ))).one()
    payload = json.loads(entry.payload)
    assert payload["pdfSha256"] == hashlib.sha256(pdf.content).hexdigest()
    assert payload["invoiceNumber"] == "INV-2026-001"
    assert payload["amountMinor"] == 500000 and payload["currency"] == "USD"
    tampered = await client.get(f"{url.path}?{url.query.replace('exp=', 'exp=1')}")
    assert tampered.status_code in (403, 404)


async def test_bad_filters_are_422(client: httpx.AsyncClient, party: Any):
    for params in ({"status": "unpaid"}, {"limit": 101}, {"page": 0}):
        response = await client.get(CONTRACTOR, params=params, headers=party.contractor.headers)
        assert response.status_code == 422, params


async def test_mark_paid_once_and_the_paid_filter(
    app: Any, client: httpx.AsyncClient, party: Any, issued: list[dict[str, Any]]
):
    invoice_id = uuid.UUID(issued[0]["id"])
    paid_at = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    for _ in range(2):  # a retried release pays nothing twice
        async with app.state.db.session() as session:
            invoice = await service.mark_paid(session, invoice_id, paid_at)
            assert invoice.status == "paid"
    assert await _count(app, LedgerEntry, LedgerEntry.entry_type == "invoice_payment") == 1
    assert await _count(app, OutboxEvent, OutboxEvent.name == "invoice.paid") == 1
    paid = (await client.get(CONTRACTOR, params={"status": "paid"},
                             headers=party.contractor.headers)).json()["data"]
    assert [(r["id"], r["paidDate"], r["status"]) for r in paid] == [
        (str(invoice_id), "2026-03-10", "paid")]
    # Both issued invoices are long past due today: the other one is overdue, not pending.
    overdue = (await client.get(CONTRACTOR, params={"status": "overdue"},
                                headers=party.contractor.headers)).json()["data"]
    assert [r["id"] for r in overdue] == [issued[1]["id"]]
    assert (await client.get(CONTRACTOR, params={"status": "pending"},
                             headers=party.contractor.headers)).json()["data"] == []


async def test_paid_and_cancelled_invoices_never_change(
    app: Any, client: httpx.AsyncClient, party: Any, admin: Any,
    issued: list[dict[str, Any]],
):
    paid_id, open_id = issued[0]["id"], issued[1]["id"]
    async with app.state.db.session() as session:
        await service.mark_paid(session, uuid.UUID(paid_id), datetime(2026, 3, 2, tzinfo=UTC))
    cancel = "/api/payments/invoices/{}/cancel"
    refused = await client.post(cancel.format(paid_id), json={"reason": "wrong"},
                                headers=admin.headers)
    assert refused.status_code == 409 and refused.json()["code"] == "invalid_transition"

    for body in ({}, {"reason": ""}, {"reason": "x" * 1001}, {"reason": "x", "reissue": "yes"}):
        assert (await client.post(cancel.format(open_id), json=body,
                                  headers=admin.headers)).status_code == 422, body
    not_admin = await client.post(cancel.format(open_id), json={"reason": "wrong"},
                                  headers=party.client.headers)
    assert not_admin.status_code == 403

    done = await client.post(cancel.format(open_id), headers=admin.headers,
                             json={"reason": "Wrong period", "reissue": True})
    assert done.status_code == 200, done.text
    cancelled = done.json()
    assert cancelled["status"] == "cancelled" and cancelled["cancelReason"] == "Wrong period"
    assert cancelled["invoiceNumber"] == "INV-2026-002"  # keeps its number
    replacement = (await client.get(f"{CONTRACTOR}/{cancelled['replacedById']}",
                                    headers=party.contractor.headers)).json()
    assert replacement["replacesId"] == open_id
    assert replacement["invoiceNumber"] == "INV-2026-003"
    assert replacement["amount"] == cancelled["amount"]
    assert replacement["lineItems"][0]["scheduleId"] == cancelled["lineItems"][0]["scheduleId"]

    again = await client.post(cancel.format(open_id), json={"reason": "again"},
                              headers=admin.headers)
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    with pytest.raises(InvalidTransition):
        async with app.state.db.session() as session:
            await service.mark_paid(session, uuid.UUID(open_id), datetime.now(UTC))
    after = (await client.get(f"{CONTRACTOR}/{open_id}", headers=party.contractor.headers)).json()
    assert after == {**cancelled, "pdfUrl": after["pdfUrl"]}
    assert await _count(app, LedgerEntry, LedgerEntry.entry_type == "invoice_cancellation") == 1
    assert await _count(app, OutboxEvent, OutboxEvent.name == "invoice.cancelled") == 1
