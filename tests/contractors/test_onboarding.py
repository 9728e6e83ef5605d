"""Onboarding progress derived from real data, KYC status from the KYC domain, and
achievements moved by events (including later domains' `contract.signed` and
`timesheet.approved`, emitted here by the test)."""

from __future__ import annotations

import base64
import json
import uuid

from mindlinks.contractors import service
from tests.contractors.conftest import (
    add_us_account,
    complete_profile,
    emit_event,
    statement_amounts,
)
from tests.platform.samples import MINIMAL_PDF

ONB = "/api/contractors/me/onboarding"


async def _id(client, who) -> uuid.UUID:
    return uuid.UUID((await client.get("/api/contractors/me", headers=who.headers)).json()["id"])


async def _achievements(client, who) -> dict[str, dict]:
    r = await client.get("/api/contractors/me/achievements", headers=who.headers)
    assert r.status_code == 200
    return {a["key"]: a for a in r.json()}


async def test_fresh_contractor_onboarding(client, contractor):
    body = (await client.get(ONB, headers=contractor.headers)).json()
    assert set(body) == {"currentStep", "completedSteps", "steps", "completed"}
    assert [s["key"] for s in body["steps"]] == ["profile", "identity", "bank_account",
                                                 "tax_form", "first_contract"]
    assert body["currentStep"] == "profile" and body["completedSteps"] == []
    assert body["completed"] is False
    profile_step = body["steps"][0]
    assert profile_step["status"] == "in_progress"  # name given at registration
    assert "phone is required" in profile_step["validationErrors"]
    assert set(profile_step) == {"key", "title", "status", "validationErrors"}


async def test_onboarding_follows_the_data_to_completion(client, app, contractor, admin):
    cid = await _id(client, contractor)
    await complete_profile(client, contractor)
    body = (await client.get(ONB, headers=contractor.headers)).json()
    assert body["completedSteps"] == ["profile"] and body["currentStep"] == "identity"

    async with app.state.db.session() as session:
        await service.set_kyc_status(session, cid, "verified")
    account = await add_us_account(client, contractor)
    mid = (await client.get(ONB, headers=contractor.headers)).json()
    assert mid["steps"][2]["status"] == "in_progress"
    assert mid["steps"][2]["validationErrors"] == [
        "bank account awaiting micro-deposit verification"]
    await client.post(f"/api/contractors/me/bank-accounts/{account['id']}/verify",
                      headers=contractor.headers,
                      json={"amounts": statement_amounts(app, account["id"])})
    tax = (await client.post("/api/contractors/me/tax-info", headers=contractor.headers,
                             data={"taxId": "123456789", "taxCountry": "US"},
                             files={"taxForm": ("w9.pdf", MINIMAL_PDF, "application/pdf")})
           ).json()
    pending = (await client.get(ONB, headers=contractor.headers)).json()
    assert pending["steps"][3]["validationErrors"] == ["tax form is awaiting review"]
    await client.post(f"/api/admin/tax-info/{tax['id']}/review", headers=admin.headers,
                      json={"decision": "approved"})
    before = (await client.get(ONB, headers=contractor.headers)).json()
    assert before["completedSteps"] == ["profile", "identity", "bank_account", "tax_form"]
    assert before["currentStep"] == "first_contract"

    await emit_event(app, "contract.signed", {"contractId": str(uuid.uuid4()),
                                              "contractorId": str(cid)})
    done = (await client.get(ONB, headers=contractor.headers)).json()
    assert done["completed"] is True and done["currentStep"] is None
    profile = (await client.get("/api/contractors/me", headers=contractor.headers)).json()
    assert profile["onboardingCompleted"] is True and profile["onboardingStatus"] == "completed"
    assert profile["kycStatus"] == "verified"

    await app.state.dispatcher.drain()
    unlocked = {k for k, a in (await _achievements(client, contractor)).items()
                if a["unlockedAt"]}
    assert {"profile_complete", "identity_verified", "bank_account_verified",
            "tax_form_approved", "first_contract_signed", "onboarding_complete"} <= unlocked


async def test_kyc_status_via_set_kyc_status_only(client, app, contractor):
    """The KYC domain writes the status (`set_kyc_status`); the `contractor.kyc.completed`
    event does not - so a late event of an older session cannot overwrite a newer one."""
    cid = await _id(client, contractor)
    async with app.state.db.session() as session:
        await service.set_kyc_status(session, cid, "pending")
    steps = (await client.get(ONB, headers=contractor.headers)).json()["steps"]
    assert steps[1]["status"] == "in_progress"
    await emit_event(app, "contractor.kyc.completed", {"contractorId": str(cid),
                                                       "kycStatus": "rejected"})
    unchanged = (await client.get("/api/contractors/me", headers=contractor.headers)).json()
    assert unchanged["kycStatus"] == "pending"
    async with app.state.db.session() as session:
        await service.set_kyc_status(session, cid, "verified")
    profile = (await client.get("/api/contractors/me", headers=contractor.headers)).json()
    assert profile["kycStatus"] == "verified"
    # The next token carries the new status.
    refreshed = await client.post("/api/auth/refresh",
                                  json={"refreshToken": contractor.data["refreshToken"]})
    assert refreshed.status_code == 200, refreshed.text
    payload = refreshed.json()["accessToken"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["kycStatus"] == "verified" and claims["contractorId"] == str(cid)


async def test_catalogue_and_timesheet_achievements_count_each_timesheet_once(
    client, app, contractor
):
    cid = await _id(client, contractor)
    catalogue = await _achievements(client, contractor)
    assert {a["category"] for a in catalogue.values()} == {"completion", "quality", "speed",
                                                           "referral"}
    assert catalogue["first_contract_signed"]["title"] == "First contract signed"
    assert catalogue["timesheets_on_time_10"]["title"] == "10 timesheets approved on time"
    assert catalogue["timesheets_on_time_10"]["maxProgress"] == 10
    assert all(a["progress"] == 0 and a["unlockedAt"] is None for a in catalogue.values())

    sheet = str(uuid.uuid4())
    for _ in range(2):  # the same timesheet twice counts once
        await emit_event(app, "timesheet.approved",
                         {"timesheetId": sheet, "contractorId": str(cid), "onTime": True})
    late = str(uuid.uuid4())
    await emit_event(app, "timesheet.approved",
                     {"timesheetId": late, "contractorId": str(cid), "onTime": False})
    got = await _achievements(client, contractor)
    assert got["timesheets_on_time_10"]["progress"] == 1
    assert got["timesheets_approved_25"]["progress"] == 2

    for _ in range(12):
        await emit_event(app, "timesheet.approved", {
            "timesheetId": str(uuid.uuid4()), "contractorId": str(cid),
            "submittedAt": "2026-01-02T10:00:00+00:00", "dueAt": "2026-01-03T00:00:00+00:00"})
    got = await _achievements(client, contractor)
    assert got["timesheets_on_time_10"]["progress"] == 10  # capped at its maximum
    assert got["timesheets_on_time_10"]["unlockedAt"] is not None
    assert got["timesheets_approved_25"]["unlockedAt"] is None


async def test_achievements_are_per_contractor(client, app, contractor, other):
    cid = await _id(client, contractor)
    await emit_event(app, "contract.signed", {"contractId": str(uuid.uuid4()),
                                              "contractorId": str(cid)})
    assert (await _achievements(client, contractor))["first_contract_signed"]["unlockedAt"]
    assert (await _achievements(client, other))["first_contract_signed"]["unlockedAt"] is None
    other_steps = (await client.get(ONB, headers=other.headers)).json()["steps"]
    assert other_steps[4]["status"] == "not_started"


async def test_client_view_of_contractors_is_limited(client, app, contractor):
    cid = await _id(client, contractor)
    await complete_profile(client, contractor)
    await add_us_account(client, contractor)
    async with app.state.db.session() as session:
        summaries = await service.contractor_summaries(session, [cid, uuid.uuid4()])
    assert len(summaries) == 1
    view = summaries[0].model_dump(by_alias=True)
    assert set(view) == {"id", "name", "country", "kycStatus", "onboardingStatus"}
    assert view["country"] == "US" and view["onboardingStatus"] == "in_progress"
