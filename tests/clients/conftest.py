"""Fixtures of the clients tests: client users with (verified or pending) companies, admins,
invitation links read from the mail the app really wrote, and the launch countries."""

from __future__ import annotations

import itertools
import re
from typing import Any

import httpx
import pytest

from tests.factories import Account, mails, register

# A company the sandbox registry knows (gb / 00000001): registering it verifies it at once.
VERIFIED_COMPANY = {
    "legalName": "Acme Widgets Ltd",
    "tradingName": "Acme",
    "country": "GB",
    "taxId": "GB123456789",
    "businessType": "llc",
    "companyNumber": "00000001",
    "address": {"line1": "1 Example Street", "city": "London", "postalCode": "EC1A 1AA",
                "country": "GB"},
}

_numbers = itertools.count(1)


def verified_company(**over: Any) -> dict[str, Any]:
    """VERIFIED_COMPANY under a registry number of its own: the sandbox's SBX<n> companies are
    all "Acme Widgets Ltd" with officer "Grace Hopper" (the test client's name), and a
    registry number is verified for one account only - a second claim waits for review."""
    return {**VERIFIED_COMPANY, "companyNumber": f"SBX{next(_numbers)}", **over}


# A company no registry knows: it waits for an administrator.
UNKNOWN_COMPANY = {
    "legalName": "Nobody Knows Us Ltd",
    "country": "GB",
    "taxId": "GB987654321",
    "businessType": "llc",
    "address": {"line1": "2 Side Road", "city": "Leeds", "postalCode": "LS1 1AA",
                "country": "GB"},
}



@pytest.fixture
def make_client(client: httpx.AsyncClient) -> Any:
    async def _make(company: dict[str, Any] | None = None, *, name: str = "Grace Hopper"
                    ) -> tuple[Account, dict[str, Any] | None]:
        account = Account(await register(client, "client", name=name))
        created = None
        if company is not None:
            response = await client.post("/api/clients/companies", json=company,
                                         headers=account.headers)
            assert response.status_code == 201, response.text
            created = response.json()
        return account, created

    return _make


@pytest.fixture
async def verified_client(make_client: Any) -> tuple[Account, dict[str, Any]]:
    account, company = await make_client(verified_company())
    assert company["verificationStatus"] == "verified"
    return account, company  # type: ignore[no-any-return]


@pytest.fixture
async def pending_client(make_client: Any) -> tuple[Account, dict[str, Any]]:
    account, company = await make_client(UNKNOWN_COMPANY)
    assert company["verificationStatus"] == "pending"
    return account, company  # type: ignore[no-any-return]


@pytest.fixture
def invitation_links(app: Any) -> Any:
    """`await invitation_links(email)`: the invitation tokens mailed to `email`, oldest first."""

    async def _links(email: str) -> list[str]:
        await app.state.runtime.mailer.drain()
        base = re.escape(app.state.settings.resolved_public_url)
        tokens = []
        for message in mails(app.state.settings.mail_dir, to=email):
            body = message.get_body(preferencelist=("plain",)).get_content()
            tokens += re.findall(base + r"/invitations/([A-Za-z0-9_-]+)", body)
        return tokens

    return _links


@pytest.fixture
def invite(client: httpx.AsyncClient, invitation_links: Any) -> Any:
    """`await invite(account, email)` -> (invitation JSON, token from the mail)."""

    async def _invite(account: Account, email: str, **extra: Any) -> tuple[dict[str, Any], str]:
        response = await client.post("/api/clients/me/invitations",
                                     json={"email": email, **extra}, headers=account.headers)
        assert response.status_code == 201, response.text
        links = await invitation_links(email)
        assert links, "no invitation mail was written"
        return response.json(), links[-1]

    return _invite
