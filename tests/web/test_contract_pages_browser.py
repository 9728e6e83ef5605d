"""The contract journey in a real browser (Playwright driving Debian's Chromium against
uvicorn): the client creates a contract from a template, previews it, creates the draft and
sends it; both parties draw their signature on the canvas and sign; the journal check loads
into the page. Every page passes axe-core (light and dark) and is screenshotted at 1280 px
and 375 px; none scrolls sideways at 360 px."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.test_browser import Shots, chromium, playwright_api, served, shots
from tests.web.test_money_browser import _fits_360, _sign_in

__all__ = ["chromium", "served", "shots"]
pytestmark = pytest.mark.usefixtures("db_backend")


async def _draw(page: Any) -> None:
    """A zigzag stroke across the pad, as a mouse would draw it."""
    pad = page.locator(".sig-pad canvas")
    await pad.scroll_into_view_if_needed()  # the mouse reaches only what is on screen
    box = await pad.bounding_box()
    assert box, "the signature pad is not shown"
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    await page.mouse.move(x + w * 0.05, y + h * 0.7)
    await page.mouse.down()
    for i in range(1, 12):
        await page.mouse.move(x + w * (0.05 + i * 0.08), y + h * (0.3 if i % 2 else 0.7),
                              steps=4)
    await page.mouse.up()
    drawn = await page.locator("input[name=signature]").input_value()
    assert drawn.startswith("data:image/png;base64,"), drawn[:40]


async def test_client_creates_sends_and_both_parties_draw_and_sign(
    served: tuple[str, Any], chromium: Any, shots: Shots, party: Any,
):
    base, _app = served
    expect = playwright_api.expect
    client_ctx = await chromium.new_context(base_url=base)
    contractor_ctx = await chromium.new_context(base_url=base)
    for context in (client_ctx, contractor_ctx):
        context.set_default_timeout(10_000)

    owner = await _sign_in(client_ctx, party.client.email)
    await owner.get_by_role("link", name="Contracts", exact=True).click()
    await expect(owner.get_by_role("heading", name="Contracts")).to_be_visible()
    await expect(owner.get_by_text("No contracts.")).to_be_visible()
    await shots.take(owner, "contracts-empty")
    await owner.get_by_role("link", name="New contract").click()
    await expect(owner.get_by_role("heading", name="New contract")).to_be_visible()
    await owner.get_by_label("Contractor", exact=True).select_option(label="Ada Lovelace")
    await owner.get_by_label("Template", exact=True).select_option(
        label="Fixed-price agreement (direct contractor) (fixed · direct)")
    await owner.get_by_label("Title", exact=True).fill("Web Development Project")
    await owner.get_by_label("Description", exact=True).fill("Full-stack web development")
    await owner.get_by_label("Rate", exact=True).fill("5000")
    await owner.get_by_label("Start date").fill("2026-01-01")
    await owner.get_by_label("End date (optional)").fill("2026-06-30")
    await owner.get_by_label("Terms (one per line)").fill("Deliverables: a web shop")
    await shots.take(owner, "contract-new")
    await _fits_360(owner)
    await owner.get_by_role("button", name="Preview").click()
    await expect(owner.get_by_role("heading", name="Preview")).to_be_visible()
    await expect(owner.locator(".preview")).to_contain_text("Ada Lovelace")
    await expect(owner.locator(".preview")).to_contain_text("5,000.00 USD")
    await shots.take(owner, "contract-preview")
    await _fits_360(owner)
    await owner.get_by_role("button", name="Create the draft").click()
    await expect(owner.get_by_text("Draft created.")).to_be_visible()
    await shots.take(owner, "contract-draft")
    await owner.get_by_role("button", name="Send to the contractor").click()
    await expect(owner.get_by_text("Sent to the contractor for signature.")).to_be_visible()
    await expect(owner.get_by_role("link", name="Download the contract (PDF)")).to_be_visible()
    pdf = await owner.request.get(
        await owner.get_by_role("link", name="Download the contract (PDF)").get_attribute("href"))
    assert pdf.status == 200 and (await pdf.body()).startswith(b"%PDF")
    # Signing with neither a drawing nor a name: the page says so (a refused form is shown).
    await owner.get_by_role("button", name="Sign", exact=True).click()
    await expect(owner.get_by_text("Draw your signature or type your full name.")).to_be_visible()
    await _draw(owner)
    await shots.take(owner, "contract-sign")
    await _fits_360(owner)
    await owner.get_by_role("button", name="Sign", exact=True).click()
    await expect(owner.get_by_text("Signed. The contract becomes active")).to_be_visible()
    # The journal check, loaded into the page by htmx.
    await expect(owner.get_by_text("proof included")).to_have_count(1)
    await shots.take(owner, "contract-client-signed")

    worker = await _sign_in(contractor_ctx, party.contractor.email)
    await worker.get_by_role("link", name="Contracts", exact=True).click()
    await expect(worker.get_by_role("cell", name="Acme Widgets Ltd")).to_be_visible()
    await shots.take(worker, "contracts-contractor")
    await _fits_360(worker)
    await worker.get_by_role("link", name="Web Development Project").click()
    await expect(worker.get_by_role("heading", name="Sign the contract")).to_be_visible()
    await _draw(worker)
    await worker.get_by_role("button", name="Sign", exact=True).click()
    await expect(worker.get_by_text("Signed by both parties: the contract is active.")
                 ).to_be_visible()
    await expect(worker.get_by_text("proof included")).to_have_count(2)
    await expect(worker.get_by_text("the platform's signature is valid")).to_be_visible()
    await shots.take(worker, "contract-active")
    await _fits_360(worker)
    await worker.goto(worker.url.split("?")[0] + "/verify")
    await expect(worker.get_by_role("heading", name="Journal verification")).to_be_visible()
    await shots.take(worker, "contract-verify")
    await _fits_360(worker)
    # In Arabic (right to left): the list and the signed contract.
    await worker.get_by_role("button", name="العربية").click()
    await expect(worker.locator("html[dir=rtl]")).to_have_count(1)
    await worker.goto("/contracts")
    await expect(worker.get_by_role("heading", name="العقود")).to_be_visible()
    await shots.take(worker, "contracts-contractor-ar")
    await _fits_360(worker)
    await worker.get_by_role("link", name="Web Development Project").click()
    await expect(worker.get_by_text("توقيع المنصة صالح")).to_be_visible()
    await shots.take(worker, "contract-active-ar")
    await _fits_360(worker)
    await client_ctx.close()
    await contractor_ctx.close()


async def test_without_javascript_the_typed_name_signs(
    served: tuple[str, Any], chromium: Any, shots: Shots, party: Any, flow: Any,
    fixed_template: dict[str, Any],
):
    sent = await flow.sent(party, fixed_template["id"], title="Shop rebuild")
    expect = playwright_api.expect
    context = await chromium.new_context(base_url=served[0], java_script_enabled=False)
    context.set_default_timeout(10_000)
    worker = await _sign_in(context, party.contractor.email)
    await worker.goto(f"/contracts/{sent['id']}")
    await expect(worker.locator(".sig-pad")).to_be_hidden()  # no pad without its script
    await worker.get_by_label("Your full name").fill("Ada Lovelace")
    await shots.take(worker, "contract-sign-no-js")
    await worker.get_by_role("button", name="Sign", exact=True).click()
    await expect(worker.get_by_text("Signed. The contract becomes active")).to_be_visible()
    await worker.get_by_role("link", name="Check the signatures in the journal").click()
    await expect(worker.get_by_text("proof included")).to_have_count(1)
    await shots.take(worker, "contract-verify-no-js")
    await context.close()
