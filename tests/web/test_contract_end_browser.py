"""Cancel and terminate in a real browser (Playwright driving Debian's Chromium against
uvicorn): the client's home checklist, then the client cancels a sent contract and terminates an active one through the
contract page's buttons and their confirmation forms; the contractor's page offers neither.
Every page passes axe-core (light and dark), in English and in Arabic, and none scrolls
sideways at 360 px."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.test_browser import Shots, chromium, playwright_api, served, shots
from tests.web.test_money_browser import _fits_360, _sign_in

__all__ = ["chromium", "served", "shots"]
pytestmark = pytest.mark.usefixtures("db_backend")


async def test_client_cancels_a_sent_contract_and_terminates_an_active_one(
    served: tuple[str, Any], chromium: Any, shots: Shots, party: Any, flow: Any,
    fixed_template: dict[str, Any],
):
    sent = await flow.sent(party, fixed_template["id"], title="Shop rebuild")
    active = await flow.active(party, fixed_template["id"], title="Support retainer")
    expect = playwright_api.expect
    context = await chromium.new_context(base_url=served[0])
    context.set_default_timeout(10_000)

    worker = await _sign_in(context, party.contractor.email)
    await worker.goto(f"/contracts/{active['id']}")
    await expect(worker.get_by_role("heading", name="Support retainer")).to_be_visible()
    await expect(worker.get_by_role("link", name="Terminate the contract")).to_have_count(0)
    await worker.get_by_role("button", name="Sign out").click()

    owner = await _sign_in(context, party.client.email)
    # The client's home: "Getting started" links each step to its page.
    await owner.goto("/")
    await expect(owner.get_by_role("heading", name="Getting started")).to_be_visible()
    await owner.get_by_role("link", name="Get your company verified").click()
    await expect(owner.get_by_role("heading", name="Company documents")).to_be_visible()
    await owner.goto("/")
    await shots.take(owner, "client-home-checklist")
    await _fits_360(owner)
    # Cancel the sent contract: the button, the confirmation form, the result.
    await owner.goto(f"/contracts/{sent['id']}")
    await expect(owner.get_by_role("link", name="Terminate the contract")).to_have_count(0)
    await owner.get_by_role("link", name="Cancel the contract").click()
    await expect(owner.get_by_role("heading", name="Cancel the contract")).to_be_visible()
    await shots.take(owner, "contract-cancel")
    await _fits_360(owner)
    await owner.get_by_role("button", name="Yes, cancel the contract").click()
    # The reason is required: the browser keeps the form (nothing sent).
    await expect(owner.get_by_role("heading", name="Cancel the contract")).to_be_visible()
    await owner.get_by_label("Reason").fill("The project was called off")
    await owner.get_by_role("button", name="Yes, cancel the contract").click()
    await expect(owner.get_by_text("The contract is cancelled.")).to_be_visible()
    await expect(owner.get_by_text("The project was called off")).to_be_visible()
    await expect(owner.get_by_role("link", name="Cancel the contract")).to_have_count(0)
    await shots.take(owner, "contract-cancelled")
    await _fits_360(owner)

    # Terminate the active one, first with a date before its start (refused, shown).
    await owner.goto(f"/contracts/{active['id']}")
    await expect(owner.get_by_role("link", name="Cancel the contract")).to_have_count(0)
    await owner.get_by_role("link", name="Terminate the contract").click()
    await owner.get_by_label("Effective date").fill("2025-12-31")
    await owner.get_by_label("Reason").fill("Budget cut")
    await owner.get_by_role("button", name="Yes, terminate the contract").click()
    await expect(owner.get_by_text("cannot be before the contract's startDate")).to_be_visible()
    await shots.take(owner, "contract-terminate-refused")
    await owner.get_by_label("Effective date").fill("2026-03-31")
    await owner.get_by_role("button", name="Yes, terminate the contract").click()
    await expect(owner.get_by_text("The contract is terminated.")).to_be_visible()
    await expect(owner.locator(".badge-terminated").first).to_be_visible()
    await shots.take(owner, "contract-terminated")
    await _fits_360(owner)

    # In Arabic (right to left): the confirmation page and the ended contract.
    await owner.get_by_role("button", name="العربية").click()
    await expect(owner.locator("html[dir=rtl]")).to_have_count(1)
    more = await flow.sent(party, fixed_template["id"], title="Logo design")
    await owner.goto(f"/contracts/{more['id']}")
    await owner.get_by_role("link", name="إلغاء العقد").click()
    await expect(owner.get_by_role("heading", name="إلغاء العقد")).to_be_visible()
    await shots.take(owner, "contract-cancel-ar")
    await _fits_360(owner)
    await owner.get_by_label("السبب").fill("لم يعد المشروع قائمًا")
    await owner.get_by_role("button", name="نعم، ألغِ العقد").click()
    await expect(owner.get_by_text("أُلغي العقد.")).to_be_visible()
    await shots.take(owner, "contract-cancelled-ar")
    await context.close()
