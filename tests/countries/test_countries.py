"""Country rules: seeded launch countries with ISO 4217 currencies, the public list, admin
CRUD and its role checks, and the rules' effect on contractor profiles."""

from __future__ import annotations

from babel.numbers import get_territory_currencies

from tests.factories import bearer, register

LAUNCH = ["US", "GB", "DE", "FR", "NL", "ES", "IT", "IE", "PT", "PL", "EG", "AE", "SA", "IN", "PK", "NG", "KE", "ZA", "BR", "MX", "AR", "CO", "PH", "ID", "VN", "UA", "TR", "CA", "AU"]


async def test_public_list_has_every_launch_country_with_its_iso_currency(client):
    response = await client.get("/api/countries")  # no token: public
    assert response.status_code == 200
    rows = {r["countryCode"]: r for r in response.json()}
    assert set(LAUNCH) <= set(rows)
    for code in LAUNCH:
        assert rows[code]["currency"] == get_territory_currencies(code, tender=True,
                                                                  non_tender=False)[0]
    assert rows["EG"] == {"countryCode": "EG", "countryName": "Egypt", "currency": "EGP",
                          "requiredTaxForm": "W-8BEN"}
    assert rows["US"]["requiredTaxForm"] == "W-9"


async def test_admin_reads_full_rule_with_money_as_numbers(client, admin):
    response = await client.get("/api/admin/country-rules/gb", headers=admin.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["countryCode"] == "GB" and body["isActive"] is True
    assert body["withdrawalFeeFlat"] == 2.0 and body["feeCurrency"] == "USD"
    assert body["withdrawalFeePercent"] == 0.5 and body["minWithdrawal"] == 20.0
    assert body["payoutDays"] == 2
    page = (await client.get("/api/admin/country-rules?limit=100", headers=admin.headers)).json()
    assert page["meta"]["total"] >= len(LAUNCH)


async def test_admin_creates_updates_deactivates_and_deletes(client, admin):
    created = await client.post("/api/admin/country-rules", headers=admin.headers, json={
        "countryCode": "jp", "withdrawalFeeFlat": 1.5, "withdrawalFeePercent": 0.75,
        "minWithdrawal": 25, "payoutDays": 4})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["countryCode"], body["countryName"], body["currency"]) == ("JP", "Japan", "JPY")
    assert body["withdrawalFeeFlat"] == 1.5 and body["withdrawalFeePercent"] == 0.75
    assert body["requiredTaxForm"] == "W-8BEN"

    again = await client.post("/api/admin/country-rules", headers=admin.headers,
                              json={"countryCode": "JP"})
    assert again.status_code == 409 and again.json()["code"] == "country_rule_exists"

    too_precise = await client.put("/api/admin/country-rules/JP", headers=admin.headers,
                                   json={"withdrawalFeeFlat": 1.005})
    assert too_precise.status_code == 422 and too_precise.json()["code"] == "too_many_decimals"

    off = await client.put("/api/admin/country-rules/JP", headers=admin.headers, json={"isActive": False})
    assert off.status_code == 200 and off.json()["isActive"] is False
    public = {r["countryCode"] for r in (await client.get("/api/countries")).json()}
    assert "JP" not in public

    assert (await client.delete("/api/admin/country-rules/JP", headers=admin.headers)).status_code == 204
    gone = await client.get("/api/admin/country-rules/JP", headers=admin.headers)
    assert gone.status_code == 404 and gone.json()["code"] == "country_rule_not_found"


async def test_unknown_country_or_currency_is_refused(client, admin):
    bad_country = await client.post("/api/admin/country-rules", headers=admin.headers,
                                    json={"countryCode": "XX"})
    assert bad_country.status_code == 422 and bad_country.json()["code"] == "unknown_country"
    bad_currency = await client.post("/api/admin/country-rules", headers=admin.headers,
                                     json={"countryCode": "JP", "currency": "ZZZ"})
    assert bad_currency.status_code == 422 and bad_currency.json()["code"] == "unknown_currency"


async def test_admin_endpoints_refuse_other_roles(client):
    contractor = bearer((await register(client, "contractor"))["accessToken"])
    company = bearer((await register(client, "client"))["accessToken"])
    for headers in (contractor, company):
        assert (await client.get("/api/admin/country-rules", headers=headers)).status_code == 403
        r = await client.post("/api/admin/country-rules", headers=headers,
                              json={"countryCode": "JP"})
        assert r.status_code == 403
        r = await client.put("/api/admin/country-rules/US", headers=headers,
                             json={"isActive": False})
        assert r.status_code == 403
        assert (await client.delete("/api/admin/country-rules/US",
                                    headers=headers)).status_code == 403
    assert (await client.get("/api/admin/country-rules")).status_code == 401


async def test_a_deactivated_country_cannot_be_chosen_for_a_profile(client, admin):
    contractor = bearer((await register(client, "contractor"))["accessToken"])
    ok = await client.put("/api/contractors/me", headers=contractor, json={"country": "eg"})
    assert ok.status_code == 200 and ok.json()["country"] == "EG"
    await client.put("/api/admin/country-rules/EG", headers=admin.headers, json={"isActive": False})
    refused = await client.put("/api/contractors/me", headers=contractor, json={"country": "EG"})
    assert refused.status_code == 422 and refused.json()["code"] == "country_not_supported"
