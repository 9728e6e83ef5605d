"""Timesheets through the API: the seed's shapes and example, drafts, edits, the client's
review, amendments, and the events and journal entries they produce."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import httpx
import pytest

from mindlinks.platform.db import utcnow
from tests.timesheets.conftest import (
    SEED_ENTRIES,
    SEED_WEEK,
    events,
    journal,
    this_week,
    week_of,
)

pytestmark = pytest.mark.usefixtures("db_backend")

SEED_SUBMIT_KEYS = {"id", "contractId", "weekEnding", "hoursWorked", "hourlyRate", "totalAmount",
                    "currency", "status", "submittedAt"}
SEED_LIST_KEYS = {"id", "contractId", "clientName", "weekEnding", "hoursWorked", "hourlyRate",
                  "totalAmount", "currency", "status", "approvedAt", "notes", "entries"}


async def test_seed_example_submits_37_5_hours_for_1875(
    app: Any, client: httpx.AsyncClient, party: Any, active_hourly: dict[str, Any], sheets: Any
):
    created = await sheets.submitted(party.contractor, active_hourly["id"])
    assert set(created) >= SEED_SUBMIT_KEYS
    assert created["status"] == "pending" and created["weekEnding"] == SEED_WEEK
    assert created["hoursWorked"] == 37.5 and created["hourlyRate"] == 50
    assert created["totalAmount"] == 1875.00 and created["currency"] == "USD"
    assert created["submittedAt"] is not None and created["amendsId"] is None

    listed = await client.get("/api/timesheets/contractor/me", headers=party.contractor.headers)
    assert listed.status_code == 200
    body = listed.json()
    assert body["meta"] == {"total": 1, "page": 1, "limit": 20, "totalPages": 1}
    item = body["data"][0]
    assert set(item) >= SEED_LIST_KEYS
    assert item["clientName"] == "Acme Widgets Ltd" and item["notes"] == (
        "Completed sprint 5 deliverables")
    assert item["entries"][1] == {"date": "2024-12-03", "hours": 7.5,
                                  "description": "Database optimization"}

    [event] = await events(app, "timesheet.submitted")
    assert event["timesheetId"] == created["id"] and event["contractId"] == active_hourly["id"]
    assert event["clientUserId"] == party.client.user_id
    assert event["contractorId"] == party.contractor_id
    assert (event["hours"], event["amount"], event["amountMinor"]) == ("37.50", "1875.00", 187500)
    assert (event["periodStart"], event["periodEnd"]) == ("2024-12-01", SEED_WEEK)

    await app.state.dispatcher.drain()
    inbox = (await client.get("/api/notifications/me", headers=party.client.headers)).json()
    assert [n["type"] for n in inbox["data"]].count("timesheet_submitted") == 1


async def test_list_filters_by_status_contract_and_week(
    client: httpx.AsyncClient, party: Any, active_hourly: dict[str, Any], sheets: Any
):
    first = await sheets.submitted(party.contractor, active_hourly["id"])
    await sheets.submitted(party.contractor, active_hourly["id"], week="2024-12-14",
                           entries=week_of(date(2024, 12, 14)))
    await sheets.act(party.client, first["id"], "approve")
    h = party.contractor.headers

    async def ids(**params: Any) -> list[str]:
        r = await client.get("/api/timesheets/contractor/me", params=params, headers=h)
        assert r.status_code == 200, r.text
        return [t["weekEnding"] for t in r.json()["data"]]

    assert await ids() == ["2024-12-14", SEED_WEEK]  # newest week first
    assert await ids(status="approved") == [SEED_WEEK]
    assert await ids(status="pending") == ["2024-12-14"]
    assert await ids(startDate="2024-12-08") == ["2024-12-14"]
    assert await ids(endDate="2024-12-08") == [SEED_WEEK]
    assert await ids(contractId=active_hourly["id"], status="all") == ["2024-12-14", SEED_WEEK]
    assert await ids(contractId="00000000-0000-4000-8000-000000000000") == []
    bad = await client.get("/api/timesheets/contractor/me", params={"status": "nope"}, headers=h)
    assert bad.status_code == 422
    queue = await client.get("/api/timesheets/client/me", params={"status": "pending"},
                             headers=party.client.headers)
    assert [t["weekEnding"] for t in queue.json()["data"]] == ["2024-12-14"]
    assert queue.json()["data"][0]["contractorName"] == "Ada Lovelace"


async def test_draft_is_private_until_submitted(
    app: Any, client: httpx.AsyncClient, party: Any, active_hourly: dict[str, Any], sheets: Any
):
    draft = await sheets.submitted(party.contractor, active_hourly["id"], status="draft")
    assert draft["status"] == "draft" and draft["submittedAt"] is None
    assert await events(app, "timesheet.submitted") == []
    assert (await sheets.get(party.client, draft["id"])).status_code == 404
    client_list = await client.get("/api/timesheets/client/me", headers=party.client.headers)
    assert client_list.json()["data"] == []
    assert (await sheets.act(party.client, draft["id"], "approve")).status_code == 404

    edited = await client.put(f"/api/timesheets/{draft['id']}", headers=party.contractor.headers,
                              json={"entries": SEED_ENTRIES[:2], "notes": "half"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["status"] == "draft" and edited.json()["hoursWorked"] == 15.5
    assert edited.json()["totalAmount"] == 775

    submitted = await sheets.act(party.contractor, draft["id"], "submit")
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "pending"
    assert len(await events(app, "timesheet.submitted")) == 1
    again = await sheets.act(party.contractor, draft["id"], "submit")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    assert (await sheets.get(party.client, draft["id"])).status_code == 200


async def test_pending_edit_then_reject_then_edit_resubmits(
    app: Any, client: httpx.AsyncClient, party: Any, active_hourly: dict[str, Any], sheets: Any
):
    sheet = await sheets.submitted(party.contractor, active_hourly["id"])
    edit = await client.put(f"/api/timesheets/{sheet['id']}", headers=party.contractor.headers,
                            json={"notes": "Updated notes"})
    assert edit.status_code == 200 and edit.json()["status"] == "pending"
    assert edit.json()["notes"] == "Updated notes" and edit.json()["hoursWorked"] == 37.5

    blank = await sheets.act(party.client, sheet["id"], "reject", {"reason": "   "})
    assert blank.status_code == 422 and blank.json()["code"] == "reason_required"
    missing = await sheets.act(party.client, sheet["id"], "reject", {})
    assert missing.status_code == 422
    rejected = await sheets.act(party.client, sheet["id"], "reject",
                                {"reason": "Wednesday was a holiday"})
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["rejectionReason"] == "Wednesday was a holiday"
    [event] = await events(app, "timesheet.rejected")
    assert event["reason"] == "Wednesday was a holiday"
    assert event["userId"] == party.contractor.user_id

    await app.state.dispatcher.drain()
    inbox = (await client.get("/api/notifications/me", headers=party.contractor.headers)).json()
    [note] = [n for n in inbox["data"] if n["type"] == "timesheet_rejected"]
    assert "Wednesday was a holiday" in note["message"]

    fixed = await client.put(f"/api/timesheets/{sheet['id']}", headers=party.contractor.headers,
                             json={"entries": [e for e in SEED_ENTRIES
                                               if e["date"] != "2024-12-04"]})
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["status"] == "pending" and fixed.json()["hoursWorked"] == 29.5
    assert fixed.json()["rejectionReason"] is None
    submitted = await events(app, "timesheet.submitted")
    assert [e["resubmitted"] for e in submitted] == [False, True]


async def test_approval_is_locked_journaled_and_announced(
    app: Any, client: httpx.AsyncClient, party: Any, active_hourly: dict[str, Any], sheets: Any
):
    late = await sheets.submitted(party.contractor, active_hourly["id"])  # 2024: long overdue
    week = this_week()
    punctual = await sheets.submitted(party.contractor, active_hourly["id"], week=week.isoformat(),
                                      entries=[{"date": utcnow().date().isoformat(), "hours": 1,
                                                "description": "on time"}])
    for sheet in (late, punctual):
        response = await sheets.act(party.client, sheet["id"], "approve")
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "approved"
        assert response.json()["approvedBy"] == party.client.user_id
    approved = await events(app, "timesheet.approved")
    assert [(e["timesheetId"], e["onTime"]) for e in approved] == [
        (late["id"], False), (punctual["id"], True)]
    assert approved[0]["contractorId"] == party.contractor_id
    assert approved[0]["userId"] == party.contractor.user_id
    assert (approved[0]["amount"], approved[0]["amountMinor"]) == ("1875.00", 187500)

    entries = await journal(app)
    assert [e.entity_id for e in entries] == [late["id"], punctual["id"]]
    payload = json.loads(entries[0].payload)
    assert payload["amountMinor"] == 187500 and payload["minutes"] == "2250"
    assert payload["hoursHundredths"] == 3750 and len(payload["entriesHash"]) == 64
    assert "Backend" not in entries[0].payload  # descriptions stay out of the journal

    # approved is locked forever: no edit, no second decision
    for action, body in (("approve", None), ("reject", {"reason": "x"}), ("submit", None)):
        response = await sheets.act(party.client if action != "submit" else party.contractor,
                                    late["id"], action, body)
        assert response.status_code == 409 and response.json()["code"] == "invalid_transition"
    edit = await client.put(f"/api/timesheets/{late['id']}", headers=party.contractor.headers,
                            json={"notes": "changed"})
    assert edit.status_code == 409 and edit.json()["code"] == "invalid_transition"
    after = (await sheets.get(party.contractor, late["id"])).json()
    assert after["notes"] == "Completed sprint 5 deliverables" and after["status"] == "approved"
    assert len(await journal(app)) == 2 and len(await events(app, "timesheet.approved")) == 2

    await app.state.dispatcher.drain()
    achievements = await client.get("/api/contractors/me/achievements",
                                    headers=party.contractor.headers)
    got = {a["key"]: a for a in achievements.json()}
    assert got["timesheets_approved_25"]["progress"] == 2
    assert got["timesheets_on_time_10"]["progress"] == 1
    await app.state.dispatcher.drain()
    inbox = (await client.get("/api/notifications/me", headers=party.contractor.headers)).json()
    assert [n["type"] for n in inbox["data"]].count("timesheet_approved") == 2


async def test_amendment_is_its_own_timesheet(
    app: Any, client: httpx.AsyncClient, party: Any, active_hourly: dict[str, Any], sheets: Any
):
    original = await sheets.submitted(party.contractor, active_hourly["id"])
    early = await sheets.post(party.contractor, active_hourly["id"], amendsId=original["id"],
                              entries=[{"date": "2024-12-06", "hours": 2, "description": "x"}])
    assert early.status_code == 422 and early.json()["code"] == "invalid_amendment"
    await sheets.act(party.client, original["id"], "approve")

    second = await sheets.post(party.contractor, active_hourly["id"])
    assert second.status_code == 409 and second.json()["code"] == "timesheet_exists"
    wrong_week = await sheets.post(party.contractor, active_hourly["id"], week="2024-12-14",
                                   amendsId=original["id"],
                                   entries=[{"date": "2024-12-13", "hours": 2,
                                             "description": "x"}])
    assert wrong_week.status_code == 422 and wrong_week.json()["code"] == "invalid_amendment"
    too_much = await sheets.post(party.contractor, active_hourly["id"], amendsId=original["id"],
                                 entries=[{"date": "2024-12-06", "hours": 18.5,
                                           "description": "x"}])
    assert too_much.status_code == 422 and too_much.json()["code"] == "too_many_hours"

    amendment = await sheets.submitted(party.contractor, active_hourly["id"], amendsId=original["id"],
                                       entries=[{"date": "2024-12-06", "hours": 2.25,
                                                 "description": "forgot the release"}])
    assert amendment["amendsId"] == original["id"] and amendment["status"] == "pending"
    assert amendment["totalAmount"] == 112.5
    approved = await sheets.act(party.client, amendment["id"], "approve")
    assert approved.status_code == 200
    assert approved.json()["onTime"] is False  # a correction is never "on time"
    assert len(await journal(app)) == 2
