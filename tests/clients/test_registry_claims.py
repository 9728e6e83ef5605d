"""Registry impersonation: a registry number is auto-verified for one account only, and only
when the registry ties the account to the company (a verified e-mail at a registered domain,
or the account's name among the current officers). Everything else waits for an admin."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
import respx
from sqlalchemy import update

from mindlinks.auth.models import User
from mindlinks.clients import service
from tests.clients.conftest import Account, verified_company
from tests.clients.test_registry_providers import BASE, barclays_with_officers, registry
from tests.factories import register

pytestmark = pytest.mark.usefixtures("db_backend")


async def _company(client: httpx.AsyncClient, account: Account, body: dict[str, Any]
                   ) -> dict[str, Any]:
    response = await client.post("/api/clients/companies", json=body, headers=account.headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def _account(client: httpx.AsyncClient, *, name: str = "Grace Hopper",
                   email: str | None = None) -> Account:
    return Account(await register(client, "client", name=name, email=email))


async def _inbox(client: httpx.AsyncClient, account: Account) -> list[dict[str, Any]]:
    response = await client.get("/api/notifications/me", headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


async def test_second_claim_waits_for_review_and_the_first_owner_is_told(
    app: Any, client: httpx.AsyncClient
) -> None:
    body = verified_company()
    owner, impostor, third = [await _account(client) for _ in range(3)]
    first = await _company(client, owner, body)
    assert first["verificationStatus"] == "verified"

    second = await _company(client, impostor, body)
    assert second["verificationStatus"] == "pending"
    assert second["registryStatus"] == "matched"
    assert second["verificationReason"] == service.CLAIMED_REASON
    # The number typed differently is still the same registry entry.
    number = body["companyNumber"]
    spaced = await _company(client, third, {**body, "companyNumber": f"sbx-{number[3:]}"})
    assert spaced["verificationStatus"] == "pending"

    await app.state.dispatcher.drain()
    told = [n for n in await _inbox(client, owner) if n["type"] == "company_claim_contested"]
    assert len(told) == 2, told  # once per later claim; only the first claimant is told
    assert not [n for n in await _inbox(client, impostor)
                if n["type"] == "company_claim_contested"]
    # The owner stays verified.
    me = (await client.get("/api/clients/me", headers=owner.headers)).json()
    assert me["verificationStatus"] == "verified"


async def test_a_claim_the_registry_cannot_tie_to_the_account_waits(
    client: httpx.AsyncClient,
) -> None:
    """First claim, but neither an officer's name nor a verified e-mail at the company's
    domain: the sandbox's Acme Widgets Ltd is not handed to anyone who types its number."""
    mallory = await _account(client, name="Mallory Impostor")
    company = await _company(client, mallory, verified_company())
    assert company["verificationStatus"] == "pending"
    assert company["registryStatus"] == "matched"
    assert company["verificationReason"] == service.UNPROVEN_REASON


async def test_a_verified_email_at_the_registered_domain_verifies(
    app: Any, client: httpx.AsyncClient
) -> None:
    async def account_at_domain(verified: bool) -> Account:
        email = f"ceo-{uuid.uuid4().hex[:8]}@acme-widgets-ltd.example"
        account = await _account(client, name="Someone Else", email=email)
        async with app.state.db.session() as session:
            await session.execute(update(User).where(User.email == email)
                                  .values(email_verified=verified))
        return account

    unverified = await _company(client, await account_at_domain(False), verified_company())
    assert unverified["verificationStatus"] == "pending"
    assert unverified["verificationReason"] == service.UNPROVEN_REASON
    verified = await _company(client, await account_at_domain(True), verified_company())
    assert verified["verificationStatus"] == "verified", verified


@pytest.mark.parametrize(("name", "status"), [("Grace Hopper", "verified"),
                                              ("Alan Turing", "pending")])
async def test_opencorporates_officers_tie_the_account(
    app: Any, client: httpx.AsyncClient, name: str, status: str
) -> None:
    app.state.business_registry = registry()
    account = await _account(client, name=name)
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{BASE}/companies/gb/00102498").mock(
            return_value=httpx.Response(200, json=barclays_with_officers()))
        company = await _company(client, account, verified_company(
            legalName="Barclays Bank PLC", companyNumber="00102498"))
    assert company["registryStatus"] == "matched"
    assert company["verificationStatus"] == status


async def test_simultaneous_claims_verify_at_most_one(
    db_backend: str, client: httpx.AsyncClient
) -> None:
    if db_backend != "postgresql":
        pytest.skip("SQLite serialises every writer; the race needs PostgreSQL")
    body = verified_company()
    accounts = [await _account(client) for _ in range(4)]
    responses = await asyncio.gather(*[
        client.post("/api/clients/companies", json=body, headers=a.headers) for a in accounts
    ])
    assert [r.status_code for r in responses] == [201] * 4, [r.text for r in responses]
    statuses = sorted(r.json()["verificationStatus"] for r in responses)
    assert statuses == ["pending", "pending", "pending", "verified"]
