"""The balance adjustment requests screen in a real browser: one admin asks through the API for
an adjustment above the approval threshold; a second admin signs in with the TOTP step, finds
it in the console's navigation, approves it, sees the notice and the request approved, and the
client's escrow balance moved once. Screenshots at 1280 px and 375 px with the axe-core check
(`Shots.take`), in English and Arabic."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mindlinks.payments.models import Account as BookAccount
from mindlinks.payments.models import Purpose
from tests.clients.conftest import UNKNOWN_COMPANY
from tests.factories import (
    Account,
    admin_tokens,
    bearer,
    create_admin,
    register,
)
from tests.web.test_browser import (
    Shots,
    admin_sign_in,
    chromium,
    playwright_api,
    served,
    shots,
)

__all__ = ["chromium", "served", "shots"]
pytestmark = pytest.mark.usefixtures("db_backend")


async def _available(api: httpx.AsyncClient, owner: Account) -> float:
    escrow = await api.get("/api/payments/client/me/escrow", headers=owner.headers)
    assert escrow.status_code == 200, escrow.text
    return next((r["availableBalance"] for r in escrow.json()["balances"]
                 if r["currency"] == "USD"), 0.0)


async def _funded(api: httpx.AsyncClient, app: Any) -> tuple[Account, str]:
    """A client company with 5,000.00 USD in escrow (paid on the sandbox's page): the owner
    and the escrow account's id."""
    owner = Account(await register(api, "client", name="Escrow Owner"))
    company = await api.post("/api/clients/companies", json=UNKNOWN_COMPANY,
                             headers=owner.headers)
    assert company.status_code == 201, company.text
    deposit = await api.post("/api/payments/client/me/deposits", headers={
        **owner.headers, "Idempotency-Key": str(uuid.uuid4())}, json={
        "amount": "5000.00", "currency": "USD", "method": "card"})
    assert deposit.status_code == 201, deposit.text
    paid = await api.post(
        f"/api/payments/sandbox/intents/{deposit.json()['paymentIntentId']}/succeed",
        params={"token": deposit.json()["hostedUrl"].split("token=")[1]})
    assert paid.status_code < 400, paid.text
    for _ in range(50):  # the sandbox's signed webhook lands the deposit
        if await _available(api, owner) == 5000.0:
            break
        await asyncio.sleep(0.1)
    assert await _available(api, owner) == 5000.0
    async with app.state.db.session() as session:
        escrow = await session.scalar(select(BookAccount).where(
            BookAccount.purpose == Purpose.CLIENT_ESCROW))
    assert escrow is not None
    return owner, str(escrow.id)


async def test_a_second_admin_approves_an_adjustment_in_the_browser(
    served: tuple[str, Any], chromium: Any, shots: Shots
):
    base, app = served
    expect = playwright_api.expect
    async with httpx.AsyncClient(base_url=base) as api:
        owner, escrow_id = await _funded(api, app)
        maker = bearer((await admin_tokens(app, api))["accessToken"])
        made = await api.post(f"/api/admin/payments/accounts/{escrow_id}/adjustments",
                              json={"amount": "2500.00", "reason": "Refund of a double fee"},
                              headers={**maker, "Idempotency-Key": str(uuid.uuid4())})
        assert made.status_code == 202, made.text
        request_id = made.json()["id"]

        email, secret = await create_admin(app)
        context = await chromium.new_context(base_url=base)
        context.set_default_timeout(10_000)
        page = await context.new_page()
        await admin_sign_in(page, email, secret)
        await expect(page.get_by_role("heading", name="Administration")).to_be_visible()

        await page.locator(".subnav").get_by_role("link", name="Balance adjustments").click()
        await expect(page.get_by_role("heading", name="Balance adjustments")).to_be_visible()
        item = page.locator(f"#request-{request_id}")
        await expect(item.get_by_text("Refund of a double fee")).to_be_visible()
        await expect(item.locator(".badge-pending-approval")).to_be_visible()
        await shots.take(page, "admin-adjustments")
        await item.get_by_role("button", name="Approve").click()
        await expect(page.get_by_text("Adjustment approved: the balance moved.")).to_be_visible()
        await expect(page.locator(f"#request-{request_id}")).to_have_count(0)
        assert await _available(api, owner) == 7500.0

        await page.get_by_label("Status").select_option("approved")
        await page.get_by_role("button", name="Filter").click()
        await expect(item.locator(".badge-approved")).to_be_visible()
        await shots.take(page, "admin-adjustments-approved")
        await page.goto("/admin/adjustments?status=all&lang=ar")
        await expect(page.locator("html")).to_have_attribute("dir", "rtl")
        await shots.take(page, "admin-adjustments-ar")
        await context.close()
        assert await _available(api, owner) == 7500.0  # once
