"""Company registration, registry verification, profile updates, encrypted tax id, claims."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import jwt
import pytest
from sqlalchemy import text

from mindlinks.clients.providers import RegistryUnavailable
from mindlinks.platform import crypto
from tests.clients.conftest import UNKNOWN_COMPANY, VERIFIED_COMPANY
from tests.factories import bearer

COMPANY_FIELDS = {
    "id", "userId", "legalName", "tradingName", "country", "taxId", "businessType",
    "companyNumber", "address", "website", "logoUrl", "verificationStatus",
    "verificationReason", "verifiedAt", "registryStatus", "registryCheckedAt",
    "businessRegistryData", "invoiceNetTermsDays", "createdAt", "updatedAt",
}


async def test_registry_match_verifies_the_company(client: Any, make_client: Any) -> None:
    account, company = await make_client(VERIFIED_COMPANY)
    assert set(company) == COMPANY_FIELDS
    assert company["verificationStatus"] == "verified"
    assert company["registryStatus"] == "matched"
    assert company["verifiedAt"] is not None
    assert company["userId"] == account.user_id
    data = company["businessRegistryData"]
    assert data["companyNumber"] == "00000001"
    assert data["jurisdiction"] == "gb"
    assert data["registeredAddress"].startswith("1 Example Street")
    assert data["source"] == "sandbox"
    assert company["taxId"] == "****6789"
    assert company["address"]["postalCode"] == "EC1A 1AA"

    me = await client.get("/api/clients/me", headers=account.headers)
    assert me.status_code == 200
    assert me.json() == company


async def test_name_search_without_company_number_matches(make_client: Any) -> None:
    _, company = await make_client({
        **UNKNOWN_COMPANY, "legalName": "EXEMPLE CONSEIL S.A.S.", "country": "FR",
        "address": {**UNKNOWN_COMPANY["address"], "country": "FR"},
    })
    assert company["verificationStatus"] == "verified"
    assert company["businessRegistryData"]["companyNumber"] == "552100554"


async def test_unknown_company_waits_for_review(make_client: Any) -> None:
    _, company = await make_client(UNKNOWN_COMPANY)
    assert company["verificationStatus"] == "pending"
    assert company["registryStatus"] == "not_found"
    assert company["businessRegistryData"] is None
    assert company["verifiedAt"] is None


async def test_dissolved_company_is_not_verified(make_client: Any) -> None:
    _, company = await make_client({**VERIFIED_COMPANY, "legalName": "Northwind Traders Ltd",
                                    "companyNumber": "00000002"})
    assert company["verificationStatus"] == "pending"
    assert company["registryStatus"] == "inactive"
    assert company["businessRegistryData"]["dissolutionDate"] == "2021-01-31"


async def test_number_of_another_company_is_not_a_match(make_client: Any) -> None:
    _, company = await make_client({**VERIFIED_COMPANY, "legalName": "Someone Else Ltd"})
    assert company["verificationStatus"] == "pending"
    assert company["registryStatus"] == "not_found"


async def test_two_companies_of_one_name_are_not_a_match(make_client: Any) -> None:
    body = {k: v for k, v in VERIFIED_COMPANY.items() if k != "companyNumber"}
    _, company = await make_client({**body, "legalName": "Globex Ltd"})
    assert company["registryStatus"] == "not_found"
    assert company["verificationStatus"] == "pending"


async def test_registry_outage_leaves_the_company_pending(app: Any, make_client: Any) -> None:
    class Down:
        name = "down"

        async def get_company(self, jurisdiction: str, number: str) -> None:
            raise RegistryUnavailable("down")

        async def search(self, jurisdiction: str, name: str) -> list[Any]:
            raise RegistryUnavailable("down")

    app.state.business_registry = Down()
    _, company = await make_client(VERIFIED_COMPANY)
    assert company["verificationStatus"] == "pending"
    assert company["registryStatus"] == "unavailable"


async def test_tax_id_is_stored_encrypted(app: Any, verified_client: Any) -> None:
    _, company = verified_client
    async with app.state.db.session() as session:
        raw = (await session.execute(
            text("SELECT tax_id_enc, tax_id_hint FROM client_companies WHERE id = :id"),
            {"id": uuid.UUID(company["id"]) if not app.state.db.is_sqlite
             else uuid.UUID(company["id"]).hex},
        )).one()
        assert "123456789" not in raw[0]
        assert raw[0].startswith("ml1.")
        assert raw[1] == "****6789"
        plain = await crypto.decrypt_value(
            session, raw[0], table="client_companies", column="tax_id_enc",
            row_id=uuid.UUID(company["id"]),
        )
    assert plain == "GB123456789"


async def test_one_company_per_client(client: Any, verified_client: Any) -> None:
    account, _ = verified_client
    again = await client.post("/api/clients/companies", json=UNKNOWN_COMPANY,
                              headers=account.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "company_exists"


async def test_only_clients_register_companies(client: Any, contractor: Any) -> None:
    response = await client.post("/api/clients/companies", json=VERIFIED_COMPANY,
                                 headers=contractor.headers)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden_role"
    me = await client.get("/api/clients/me", headers=contractor.headers)
    assert me.status_code == 403
    anonymous = await client.get("/api/clients/me")
    assert anonymous.status_code == 401


async def test_client_without_company_gets_404(client: Any, make_client: Any) -> None:
    account, _ = await make_client()
    response = await client.get("/api/clients/me", headers=account.headers)
    assert response.status_code == 404
    assert response.json()["code"] == "company_not_found"


async def test_country_must_be_served_and_valid(client: Any, make_client: Any) -> None:
    account, _ = await make_client()
    unsupported = await client.post(
        "/api/clients/companies", headers=account.headers,
        json={**UNKNOWN_COMPANY, "country": "AQ"},
    )
    assert unsupported.status_code == 422
    assert unsupported.json()["code"] == "country_not_supported"
    invalid = await client.post(
        "/api/clients/companies", headers=account.headers,
        json={**UNKNOWN_COMPANY, "country": "ZZ"},
    )
    assert invalid.status_code == 422
    assert invalid.json()["code"] == "validation_error"


async def test_status_cannot_be_set_by_the_client(client: Any, make_client: Any) -> None:
    account, _ = await make_client()
    response = await client.post(
        "/api/clients/companies", headers=account.headers,
        json={**UNKNOWN_COMPANY, "verificationStatus": "verified"},
    )
    assert response.status_code == 422
    put = await client.put("/api/clients/me", headers=account.headers,
                           json={"verificationStatus": "verified"})
    assert put.status_code == 422


async def test_update_keeps_or_resets_verification(client: Any, verified_client: Any) -> None:
    account, _ = verified_client
    renamed = await client.put("/api/clients/me", headers=account.headers,
                               json={"tradingName": "Acme Shop",
                                     "address": {**VERIFIED_COMPANY["address"],
                                                 "line2": "Floor 2"}})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["tradingName"] == "Acme Shop"
    assert renamed.json()["address"]["line2"] == "Floor 2"
    assert renamed.json()["verificationStatus"] == "verified"

    same_tax_id = await client.put("/api/clients/me", headers=account.headers,
                                   json={"taxId": "GB123456789"})
    assert same_tax_id.json()["verificationStatus"] == "verified"

    identity = await client.put("/api/clients/me", headers=account.headers,
                                json={"legalName": "Acme Holdings Ltd"})
    assert identity.status_code == 200
    body = identity.json()
    assert body["legalName"] == "Acme Holdings Ltd"
    assert body["verificationStatus"] == "pending"
    assert body["registryStatus"] == "not_found"
    assert body["businessRegistryData"] is None

    back = await client.put("/api/clients/me", headers=account.headers,
                            json={"legalName": "Acme Widgets Ltd"})
    assert back.json()["verificationStatus"] == "verified"


async def test_access_token_carries_client_id(client: Any, make_client: Any) -> None:
    account, _ = await make_client()
    before = jwt.decode(account.token, options={"verify_signature": False})
    assert before["clientId"] is None
    created = await client.post("/api/clients/companies", json=VERIFIED_COMPANY,
                                headers=account.headers)
    refreshed = await client.post("/api/auth/refresh",
                                  json={"refreshToken": account.data["refreshToken"]})
    assert refreshed.status_code == 200
    claims = jwt.decode(refreshed.json()["accessToken"], options={"verify_signature": False})
    assert claims["clientId"] == created.json()["id"]
    assert claims["contractorId"] is None
    me = await client.get("/api/clients/me", headers=bearer(refreshed.json()["accessToken"]))
    assert me.json()["id"] == created.json()["id"]


@pytest.mark.race
async def test_concurrent_registrations_make_one_company(client: Any, make_client: Any) -> None:
    account, _ = await make_client()
    responses = await asyncio.gather(*[
        client.post("/api/clients/companies", json=UNKNOWN_COMPANY, headers=account.headers)
        for _ in range(3)
    ])
    assert sorted(r.status_code for r in responses) == [201, 409, 409], [
        r.text for r in responses
    ]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"company_exists"}
