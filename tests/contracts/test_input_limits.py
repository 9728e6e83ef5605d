"""Contract inputs that used to get through: a loose `isDefault`, an end date in year 9999
(the schedule overflowed at signing and the contract stayed `client_signed`), endless terms,
and NUL characters inside the terms list."""

from __future__ import annotations

from typing import Any

import httpx

from tests.contracts.conftest import Party, contract_body
from tests.factories import Account


async def test_is_default_must_be_a_boolean(
    client: httpx.AsyncClient, admin: Account, party: Party
) -> None:
    base = {"name": "Loose", "type": "fixed", "model": "direct",
            "templateContent": "# {{ contract_title }}"}
    for loose in (0, 1, "no", "yes", "true", None):
        response = await client.post("/api/admin/contract-templates", headers=admin.headers,
                                     json={**base, "isDefault": loose})
        assert response.status_code == 422, (loose, response.text)
        assert response.json()["errors"][0]["field"] == "isDefault"
    listed = await client.get("/api/admin/contract-templates", params={"limit": 100},
                              headers=admin.headers)
    assert "Loose" not in {t["name"] for t in listed.json()["data"]}
    ok = await client.post("/api/admin/contract-templates", headers=admin.headers,
                           json={**base, "isDefault": False})
    assert ok.status_code == 201, ok.text
    update = await client.put(f"/api/admin/contract-templates/{ok.json()['id']}",
                              headers=admin.headers, json={"isDefault": 0})
    assert update.status_code == 422


async def test_a_contract_ends_within_ten_years_of_its_start(
    client: httpx.AsyncClient, party: Party, fixed_template: dict[str, Any], flow: Any
) -> None:
    async def create(**over: Any) -> httpx.Response:
        return await client.post("/api/contracts", headers=party.client.headers,
                                 json=contract_body(party, fixed_template["id"], **over))

    far = await create(startDate="2026-01-01", endDate="9999-12-31")
    assert far.status_code == 422, far.text
    too_long = await create(startDate="2026-01-01", endDate="2036-01-02")
    assert too_long.status_code == 422
    assert too_long.json()["code"] == "contract_too_long"
    late_start = await create(startDate="9999-12-01", endDate=None)
    assert late_start.status_code == 422
    listed = await client.get("/api/contracts/client/me", headers=party.client.headers)
    assert listed.json()["meta"]["total"] == 0

    # Exactly ten years is allowed, and signing it builds its whole schedule.
    contract = await flow.active(party, fixed_template["id"], startDate="2026-01-01",
                                 endDate="2036-01-01")
    shown = (await client.get(f"/api/contracts/{contract['id']}",
                              headers=party.client.headers)).json()
    assert shown["status"] == "active"
    assert shown["nextPaymentDate"] is not None

    draft = await flow.create(party, fixed_template["id"])
    moved = await client.put(f"/api/contracts/{draft['id']}", headers=party.client.headers,
                             json={"endDate": "2040-01-01"})
    assert moved.status_code == 422
    assert moved.json()["code"] == "contract_too_long"


async def test_terms_are_bounded_and_free_of_nul(
    client: httpx.AsyncClient, party: Party, fixed_template: dict[str, Any]
) -> None:
    async def create(terms: Any) -> httpx.Response:
        return await client.post("/api/contracts", headers=party.client.headers,
                                 json=contract_body(party, fixed_template["id"], terms=terms))

    long_term = await create(["x" * 2001])
    assert long_term.status_code == 422
    assert long_term.json()["errors"][0]["field"] == "terms.0"
    too_many = await create(["clause"] * 51)
    assert too_many.status_code == 422
    nul = await create(["fine", "bad\x00clause"])
    assert nul.status_code == 422, nul.text
    assert nul.json()["code"] == "invalid_characters"
    listed = await client.get("/api/contracts/client/me", headers=party.client.headers)
    assert listed.json()["meta"]["total"] == 0
    assert (await create(["x" * 2000] * 50)).status_code == 201
