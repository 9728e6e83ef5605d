"""The signed-in pages through HTTP: home, profile, KYC and a contract, with the API's access
rules (another user's contract is a 404 page); and the invitation link's landing page."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import PASSWORD, register, unique_email
from tests.web.conftest import csrf_of, web_login

pytestmark = pytest.mark.usefixtures("db_backend")


async def test_contract_page_shows_the_contract_to_its_parties_only(
    app: Any, browser: httpx.AsyncClient, make_party: Any, flow: Any,
    fixed_template: dict[str, Any], party: Any,
):
    contract = await flow.sent(party, fixed_template["id"], title="Shop rebuild")
    await web_login(browser, party.contractor.email, PASSWORD)
    page = await browser.get(f"/contracts/{contract['id']}")
    assert page.status_code == 200
    assert "Shop rebuild" in page.text and "Acme Widgets Ltd" in page.text
    assert "$5,000.00" in page.text and "pending" in page.text  # Babel, the page language
    home = await browser.get("/")
    assert f'href="/contracts/{contract["id"]}"' in home.text and "Contracts <small>(1)" in home.text

    stranger = await make_party(legal_name="Other Co", contractor_name="Eve")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as other:
        await web_login(other, stranger.contractor.email, PASSWORD)
        foreign = await other.get(f"/contracts/{contract['id']}")
        missing = await other.get("/contracts/3f2c1a9e-8d4b-4c2a-9f1e-5b6d7c8e9f01")
        garbage = await other.get("/contracts/not-a-uuid")
        assert foreign.status_code == missing.status_code == garbage.status_code == 404
        assert "Shop rebuild" not in foreign.text and "Not found" in foreign.text
        assert "Shop rebuild" not in (await other.get("/")).text


async def test_profile_and_kyc_pages_show_the_contractors_state(
    browser: httpx.AsyncClient, party: Any,
):
    await web_login(browser, party.contractor.email, PASSWORD)
    profile = await browser.get("/profile")
    assert profile.status_code == 200 and party.contractor.email in profile.text
    assert "Onboarding" in profile.text and "badge-verified" in profile.text  # KYC verified
    kyc = await browser.get("/kyc")
    assert kyc.status_code == 200 and "Identity verification" in kyc.text
    assert "not started" in kyc.text  # no session was ever opened for this contractor


async def test_client_home_and_kyc_page(browser: httpx.AsyncClient, client: httpx.AsyncClient):
    account = await register(client, "client", name="Grace Client")
    await web_login(browser, account["user"]["email"], PASSWORD)
    home = await browser.get("/dashboard")
    assert home.status_code == 200 and "Grace Client" in home.text
    assert "No contracts yet" in home.text
    kyc = await browser.get("/kyc")
    assert "applies to contractor accounts" in kyc.text


async def test_invitation_link_lands_and_accepting_creates_a_signed_in_contractor(
    browser: httpx.AsyncClient, verified_client: Any, invite: Any,
):
    account, _company = verified_client
    email = unique_email("invitee")
    _invitation, token = await invite(account, email, name="Ivy Invitee")
    landing = await browser.get(f"/invitations/{token}")
    assert landing.status_code == 200 and email in landing.text
    assert "Accept the invitation" in landing.text
    accepted = await browser.post(f"/invitations/{token}", data={
        "csrf_token": csrf_of(landing), "password": PASSWORD, "name": "Ivy Invitee"})
    assert accepted.status_code == 303, accepted.text
    home = await browser.get("/")
    assert home.status_code == 200 and "Ivy Invitee" in home.text
    used = await browser.get(f"/invitations/{token}")
    assert used.status_code == 410 and "Accept the invitation" not in used.text


async def test_unknown_invitation_is_a_page_not_json(browser: httpx.AsyncClient):
    response = await browser.get("/invitations/not-a-real-token")
    assert response.status_code == 404 and response.headers["content-type"].startswith(
        "text/html")
