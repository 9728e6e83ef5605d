"""A client sees only its own contractors, and of them only name, country, kycStatus and
onboarding status (seed 000 access rules) - never bank or tax data."""

from __future__ import annotations

from typing import Any

from tests.clients.conftest import VERIFIED_COMPANY
from tests.factories import PASSWORD, bearer, unique_email

CONTRACTOR_FIELDS = {"id", "name", "country", "kycStatus", "onboardingStatus", "linkedAt"}

OTHER_COMPANY = {
    **VERIFIED_COMPANY, "legalName": "Acme Corporation", "country": "US",
    "companyNumber": "1234567",
    "address": {"line1": "1209 Orange Street", "city": "Wilmington", "state": "DE",
                "country": "US"},
}


async def _onboard(client: Any, account: Any, invite: Any, name: str) -> dict[str, Any]:
    _, token = await invite(account, unique_email("dev"))
    accepted = await client.post(f"/api/invitations/{token}/accept",
                                 json={"password": PASSWORD, "name": name})
    assert accepted.status_code == 201, accepted.text
    return accepted.json()  # type: ignore[no-any-return]


async def test_client_sees_limited_fields_of_its_contractors(
    client: Any, verified_client: Any, invite: Any
) -> None:
    account, _ = verified_client
    joined = await _onboard(client, account, invite, "Ada Lovelace")
    headers = bearer(joined["accessToken"])
    # The contractor fills in private data a client must never see.
    profile = await client.put("/api/contractors/me", headers=headers,
                               json={"country": "GB", "phone": "+442071838750"})
    assert profile.status_code == 200, profile.text
    bank = await client.put(
        "/api/contractors/me/bank-details", headers=headers,
        json={"accountHolderName": "Ada Lovelace", "bankName": "Barclays", "currency": "GBP",
              "iban": "GB82WEST12345698765432", "swiftCode": "BARCGB22", "country": "GB"},
    )
    assert bank.status_code in (200, 201), bank.text

    listed = await client.get("/api/clients/me/contractors", headers=account.headers)
    assert listed.status_code == 200
    [row] = listed.json()["data"]
    assert set(row) == CONTRACTOR_FIELDS
    assert row["id"] == joined["contractorId"]
    assert row["name"] == "Ada Lovelace"
    assert row["country"] == "GB"
    assert row["kycStatus"] == "not_started"
    assert isinstance(row["onboardingStatus"], str)
    text = listed.text
    for secret in ("GB82WEST12345698765432", "+442071838750", "Barclays", "iban", "bank"):
        assert secret not in text

    one = await client.get(f"/api/clients/me/contractors/{joined['contractorId']}",
                           headers=account.headers)
    assert one.status_code == 200
    assert one.json() == row


async def test_another_clients_contractor_is_404(
    client: Any, verified_client: Any, invite: Any, make_client: Any
) -> None:
    account, _ = verified_client
    joined = await _onboard(client, account, invite, "Ada Lovelace")
    other, _ = await make_client(OTHER_COMPANY)
    response = await client.get(f"/api/clients/me/contractors/{joined['contractorId']}",
                                headers=other.headers)
    assert response.status_code == 404
    assert response.json()["code"] == "contractor_not_found"
    listed = await client.get("/api/clients/me/contractors", headers=other.headers)
    assert listed.json() == {"data": [], "meta": {"total": 0, "page": 1, "limit": 20,
                                                  "totalPages": 0}}


async def test_unlinked_contractor_is_404(client: Any, verified_client: Any,
                                          contractor: Any) -> None:
    account, _ = verified_client
    me = await client.get("/api/contractors/me", headers=contractor.headers)
    response = await client.get(f"/api/clients/me/contractors/{me.json()['id']}",
                                headers=account.headers)
    assert response.status_code == 404


async def test_contractors_cannot_list_client_contractors(client: Any,
                                                          contractor: Any) -> None:
    response = await client.get("/api/clients/me/contractors", headers=contractor.headers)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden_role"


async def test_one_contractor_works_for_two_clients(
    client: Any, verified_client: Any, invite: Any, make_client: Any
) -> None:
    first, _ = verified_client
    joined = await _onboard(client, first, invite, "Ada Lovelace")
    second, _ = await make_client(OTHER_COMPANY)
    me = await client.get("/api/contractors/me", headers=bearer(joined["accessToken"]))
    email = me.json()["email"]
    _, token = await invite(second, email)
    accepted = await client.post(f"/api/invitations/{token}/accept",
                                 headers=bearer(joined["accessToken"]))
    assert accepted.status_code == 200
    for account in (first, second):
        listed = await client.get("/api/clients/me/contractors", headers=account.headers)
        assert [c["id"] for c in listed.json()["data"]] == [joined["contractorId"]]
