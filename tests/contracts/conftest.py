"""Fixtures of the contracts tests: a client company with a linked, KYC-verified contractor
(made through the API and the owning domains' services), a second unrelated client and
contractor, an admin, and helpers to create, send and sign contracts."""

from __future__ import annotations

import base64
import io
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw

from mindlinks.clients import service as clients
from mindlinks.contractors import service as contractors
from tests.clients.conftest import verified_company
from tests.factories import Account, register


def signature_png(text: str = "sig") -> str:
    image = Image.new("RGBA", (240, 80), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(10, 60), (80, 20), (150, 60), (230, 15)], fill=(0, 0, 80, 255),
                               width=3)
    ImageDraw.Draw(image).text((10, 5), text, fill=(0, 0, 0, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


@dataclass
class Party:
    client: Account
    company_id: str
    contractor: Account
    contractor_id: str


@pytest.fixture
def make_party(app: Any, client: httpx.AsyncClient) -> Any:
    async def _make(*, kyc: str | None = "verified", legal_name: str = "Acme Widgets Ltd",
                    contractor_name: str = "Ada Lovelace") -> Party:
        owner = Account(await register(client, "client", name="Grace Hopper"))
        company_body = verified_company(legalName=legal_name)
        response = await client.post("/api/clients/companies", json=company_body,
                                      headers=owner.headers)
        assert response.status_code == 201, response.text
        company_id = response.json()["id"]
        worker = Account(await register(client, "contractor", name=contractor_name))
        async with app.state.db.session() as session:
            profile = await contractors.profile_by_user(session, uuid.UUID(worker.user_id))
            assert profile is not None
            company = await clients.get_company(session, uuid.UUID(company_id))
            assert company is not None
            await clients.link_contractor(session, company, contractor_id=profile.id,
                                          contractor_user_id=profile.user_id, invitation_id=None)
            if kyc:
                await contractors.set_kyc_status(session, profile.id, kyc)
            contractor_id = str(profile.id)
        return Party(owner, company_id, worker, contractor_id)

    return _make


@pytest.fixture
async def party(make_party: Any) -> Party:
    return await make_party()  # type: ignore[no-any-return]


@pytest.fixture
async def fixed_template(client: httpx.AsyncClient, party: Party) -> dict[str, Any]:
    response = await client.get("/api/contract-templates", params={"type": "fixed",
                                                                  "model": "direct"},
                                headers=party.client.headers)
    assert response.status_code == 200, response.text
    return response.json()["data"][0]  # type: ignore[no-any-return]


def contract_body(party: Party, template_id: str, **over: Any) -> dict[str, Any]:
    body = {
        "contractorId": party.contractor_id, "templateId": template_id,
        "title": "Web Development Project", "description": "Full-stack web development",
        "type": "fixed", "rate": 5000, "currency": "USD", "frequency": "monthly",
        "startDate": "2026-01-01", "endDate": "2026-06-30",
        "terms": ["Deliverables: a web shop", "Termination: 14 days' notice"],
    }
    body.update(over)
    return body


@pytest.fixture
def flow(client: httpx.AsyncClient) -> Any:
    """Helpers driving the API: create / send / sign."""

    class Flow:
        async def create(self, party: Party, template_id: str, **over: Any) -> dict[str, Any]:
            response = await client.post("/api/contracts", json=contract_body(
                party, template_id, **over), headers=party.client.headers)
            assert response.status_code == 201, response.text
            return response.json()  # type: ignore[no-any-return]

        async def sent(self, party: Party, template_id: str, **over: Any) -> dict[str, Any]:
            created = await self.create(party, template_id, **over)
            response = await client.post(f"/api/contracts/{created['id']}/send",
                                         headers=party.client.headers)
            assert response.status_code == 200, response.text
            return response.json()  # type: ignore[no-any-return]

        async def sign(self, account: Account, contract_id: str,
                       **extra: Any) -> httpx.Response:
            return await client.post(f"/api/contracts/{contract_id}/sign",
                                     json={"signature": signature_png(), **extra},
                                     headers={**account.headers, "User-Agent": "pytest-browser"})

        async def active(self, party: Party, template_id: str, **over: Any) -> dict[str, Any]:
            sent = await self.sent(party, template_id, **over)
            assert (await self.sign(party.client, sent["id"])).status_code == 200
            response = await self.sign(party.contractor, sent["id"])
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "active"
            return sent

    return Flow()
