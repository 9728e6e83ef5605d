"""Licences and insurance: CRUD, uniqueness, isolation, and the daily expiry job."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import update

from mindlinks.contractors import jobs
from mindlinks.contractors.models import InsurancePolicy, License, TaxInfo
from tests.contractors.conftest import events_named
from tests.platform.samples import MINIMAL_PDF

LIC = "/api/contractors/me/licenses"
INS = "/api/contractors/me/insurance-policies"
FUTURE = (date.today() + timedelta(days=365)).isoformat()


async def test_license_crud_and_uniqueness(client, contractor):
    body = {"state": "CA", "licenseNumber": "C10-123456", "licenseType": "electrical",
            "expirationDate": FUTURE}
    created = await client.post(LIC, headers=contractor.headers, json=body)
    assert created.status_code == 201, created.text
    lic = created.json()
    assert lic["status"] == "unverified" and lic["expirationDate"] == FUTURE
    dup = await client.post(LIC, headers=contractor.headers, json=body)
    assert dup.status_code == 409 and dup.json()["code"] == "license_exists"
    other_state = await client.post(LIC, headers=contractor.headers, json={**body, "state": "NV"})
    assert other_state.status_code == 201
    clash = await client.put(f"{LIC}/{other_state.json()['id']}", headers=contractor.headers,
                             json={"state": "CA"})
    assert clash.status_code == 409
    updated = await client.put(f"{LIC}/{lic['id']}", headers=contractor.headers,
                               json={"licenseType": "general"})
    assert updated.status_code == 200 and updated.json()["licenseType"] == "general"
    past = await client.post(LIC, headers=contractor.headers,
                             json={**body, "licenseNumber": "X", "expirationDate": "2001-01-01"})
    assert past.status_code == 422 and past.json()["code"] == "already_expired"
    assert len((await client.get(LIC, headers=contractor.headers)).json()) == 2
    assert (await client.delete(f"{LIC}/{lic['id']}", headers=contractor.headers)
            ).status_code == 204
    assert (await client.get(f"{LIC}/{lic['id']}", headers=contractor.headers)
            ).status_code == 404


async def test_insurance_crud(client, contractor):
    created = await client.post(INS, headers=contractor.headers, json={
        "policyNumber": "GL-1", "coverageTypes": ["gl", "wc"], "expirationDate": FUTURE,
        "additionalInsured": True})
    assert created.status_code == 201, created.text
    pol = created.json()
    assert pol["verificationStatus"] == "pending" and pol["coverageTypes"] == ["gl", "wc"]
    assert pol["provider"] == "manual" and pol["additionalInsured"] is True
    for bad in ({"coverageTypes": ["fire"]}, {"coverageTypes": []},
                {"coverageTypes": ["gl", "gl"]}):
        r = await client.post(INS, headers=contractor.headers,
                              json={"policyNumber": "X", "expirationDate": FUTURE, **bad})
        assert r.status_code == 422, bad
    upd = await client.put(f"{INS}/{pol['id']}", headers=contractor.headers,
                           json={"coverageTypes": ["umbrella"]})
    assert upd.status_code == 200 and upd.json()["coverageTypes"] == ["umbrella"]
    assert (await client.delete(f"{INS}/{pol['id']}", headers=contractor.headers)
            ).status_code == 204
    assert (await client.get(INS, headers=contractor.headers)).json() == []


async def test_another_contractors_credentials_are_not_found(client, contractor, other):
    lic = (await client.post(LIC, headers=contractor.headers,
                             json={"state": "CA", "licenseNumber": "1"})).json()
    pol = (await client.post(INS, headers=contractor.headers, json={
        "policyNumber": "P", "coverageTypes": ["auto"], "expirationDate": FUTURE})).json()
    for path in (f"{LIC}/{lic['id']}", f"{INS}/{pol['id']}"):
        assert (await client.get(path, headers=other.headers)).status_code == 404
        assert (await client.put(path, headers=other.headers, json={})).status_code == 404
        assert (await client.delete(path, headers=other.headers)).status_code == 404
    assert (await client.get(LIC, headers=other.headers)).json() == []
    assert len((await client.get(LIC, headers=contractor.headers)).json()) == 1


async def test_daily_job_expires_once_and_emits_events(client, app, contractor):
    lic = (await client.post(LIC, headers=contractor.headers, json={
        "state": "CA", "licenseNumber": "1", "expirationDate": FUTURE})).json()
    keep = (await client.post(LIC, headers=contractor.headers, json={
        "state": "CA", "licenseNumber": "2", "expirationDate": FUTURE})).json()
    pol = (await client.post(INS, headers=contractor.headers, json={
        "policyNumber": "P", "coverageTypes": ["gl"], "expirationDate": FUTURE})).json()
    tax = (await client.post("/api/contractors/me/tax-info", headers=contractor.headers,
                             data={"taxId": "A1234567", "taxCountry": "EG"},
                             files={"taxForm": ("f.pdf", MINIMAL_PDF, "application/pdf")})).json()
    yesterday = date.today() - timedelta(days=1)
    async with app.state.db.session() as session:
        await session.execute(update(License).where(License.id == _uuid(lic["id"]))
                              .values(expiration_date=yesterday))
        await session.execute(update(InsurancePolicy).where(InsurancePolicy.id == _uuid(pol["id"]))
                              .values(expiration_date=yesterday))
        await session.execute(update(TaxInfo).where(TaxInfo.id == _uuid(tax["id"]))
                              .values(expires_at=datetime.now(UTC) - timedelta(days=2)))

    first = await jobs.expire_credentials(app.state.db)
    assert (first.licenses, first.policies, first.tax_forms) == (1, 1, 1)
    second = await jobs.expire_credentials(app.state.db)
    assert (second.licenses, second.policies, second.tax_forms) == (0, 0, 0)

    statuses = {x["id"]: x["status"] for x in
                (await client.get(LIC, headers=contractor.headers)).json()}
    assert statuses == {lic["id"]: "expired", keep["id"]: "unverified"}
    policy = (await client.get(f"{INS}/{pol['id']}", headers=contractor.headers)).json()
    assert policy["verificationStatus"] == "expired"
    assert (await client.get("/api/contractors/me/tax-info", headers=contractor.headers)
            ).json()["status"] == "expired"
    assert len(await events_named(app, "contractor.license.expired")) == 1
    assert len(await events_named(app, "contractor.insurance.expired")) == 1
    assert len(await events_named(app, "contractor.tax_info.expired")) == 1


def _uuid(value: str):  # type: ignore[no-untyped-def]
    import uuid

    return uuid.UUID(value)


async def test_admin_reviews_licences_and_policies(client, app, contractor, admin, client_user):
    lic = (await client.post(LIC, headers=contractor.headers, json={
        "state": "CA", "licenseNumber": "9", "expirationDate": FUTURE})).json()
    pol = (await client.post(INS, headers=contractor.headers, json={
        "policyNumber": "P", "coverageTypes": ["gl"], "expirationDate": FUTURE})).json()
    lic_path = f"/api/admin/licenses/{lic['id']}/review"
    pol_path = f"/api/admin/insurance-policies/{pol['id']}/review"
    for headers in (contractor.headers, client_user):
        assert (await client.post(lic_path, headers=headers,
                                  json={"decision": "verified"})).status_code == 403
        assert (await client.post(pol_path, headers=headers,
                                  json={"decision": "verified"})).status_code == 403
    ok = await client.post(lic_path, headers=admin.headers, json={"decision": "verified"})
    assert ok.status_code == 200 and ok.json()["status"] == "verified" and ok.json()["verifiedAt"]
    bad = await client.post(pol_path, headers=admin.headers, json={"decision": "expired"})
    assert bad.status_code == 422
    failed = await client.post(pol_path, headers=admin.headers, json={"decision": "failed"})
    assert failed.json()["verificationStatus"] == "failed" and failed.json()["lastCheckedAt"]
    # Editing a verified licence puts it back to unverified.
    edited = await client.put(f"{LIC}/{lic['id']}", headers=contractor.headers,
                              json={"licenseNumber": "10"})
    assert edited.json()["status"] == "unverified" and edited.json()["verifiedAt"] is None
    # Expired credentials cannot be verified.
    async with app.state.db.session() as session:
        await session.execute(update(License).where(License.id == _uuid(lic["id"]))
                              .values(expiration_date=date.today() - timedelta(days=3)))
    await jobs.expire_credentials(app.state.db)
    late = await client.post(lic_path, headers=admin.headers, json={"decision": "verified"})
    assert late.status_code == 409 and late.json()["code"] == "invalid_transition"
    missing = await client.post("/api/admin/licenses/00000000-0000-0000-0000-000000000000/review",
                                headers=admin.headers, json={"decision": "verified"})
    assert missing.status_code == 404
