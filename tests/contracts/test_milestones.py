"""Milestones (seed 002 §4): submit, approve (emits milestone.approved), reject, resubmit."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mindlinks.platform.events import OutboxEvent

pytestmark = pytest.mark.usefixtures("db_backend")


@pytest.fixture
async def milestone_contract(client: httpx.AsyncClient, party: Any, flow: Any) -> dict[str, Any]:
    tpl = (await client.get("/api/contract-templates", params={"type": "milestone",
                                                               "model": "direct"},
                            headers=party.client.headers)).json()["data"][0]
    milestones = [{"title": "Design", "amount": 1200.5, "dueDate": "2026-02-01"},
                  {"title": "Build", "amount": 1799.5, "description": "The shop"}]
    sent = await flow.sent(party, tpl["id"], type="milestone", rate=3000,
                           milestones=milestones)
    return sent


async def test_milestones_before_activation_cannot_move(
    client: httpx.AsyncClient, party: Any, milestone_contract: dict[str, Any]
):
    cid, mid = milestone_contract["id"], milestone_contract["milestones"][0]["id"]
    response = await client.post(f"/api/contracts/{cid}/milestones/{mid}/submit",
                                 json={"note": "done"}, headers=party.contractor.headers)
    assert response.status_code == 409 and response.json()["code"] == "invalid_transition"


async def test_submit_reject_resubmit_approve(
    app: Any, client: httpx.AsyncClient, party: Any, milestone_contract: dict[str, Any],
    flow: Any,
):
    cid = milestone_contract["id"]
    assert (await flow.sign(party.client, cid)).status_code == 200
    assert (await flow.sign(party.contractor, cid)).json()["status"] == "active"
    mid = milestone_contract["milestones"][0]["id"]
    base = f"/api/contracts/{cid}/milestones/{mid}"
    c, w = party.client.headers, party.contractor.headers

    early = await client.post(f"{base}/approve", headers=c)
    assert early.status_code == 409 and early.json()["code"] == "invalid_transition"
    by_client = await client.post(f"{base}/submit", json={}, headers=c)
    assert by_client.status_code == 403

    submitted = await client.post(f"{base}/submit", headers=w,
                                  json={"note": "Mock-ups attached", "attachments": ["f1"]})
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted"
    assert submitted.json()["submissionNote"] == "Mock-ups attached"
    by_contractor = await client.post(f"{base}/approve", headers=w)
    assert by_contractor.status_code == 403

    no_reason = await client.post(f"{base}/reject", json={}, headers=c)
    assert no_reason.status_code == 422
    rejected = await client.post(f"{base}/reject", json={"reason": "Wrong colours"},
                                 headers=c)
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert rejected.json()["rejectionReason"] == "Wrong colours"

    resubmitted = await client.post(f"{base}/submit", json={"note": "Fixed"}, headers=w)
    assert resubmitted.status_code == 200 and resubmitted.json()["status"] == "submitted"
    approved = await client.post(f"{base}/approve", headers=c)
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["status"] == "approved" and body["approvedBy"] == party.client.user_id
    assert body["amount"] == 1200.5

    twice = await client.post(f"{base}/approve", headers=c)
    assert twice.status_code == 409 and twice.json()["code"] == "invalid_transition"
    resubmit_approved = await client.post(f"{base}/submit", json={}, headers=w)
    assert resubmit_approved.status_code == 409

    async with app.state.db.session() as session:
        events = (await session.execute(select(OutboxEvent.payload).where(
            OutboxEvent.name == "milestone.approved"))).scalars().all()
    assert len(events) == 1
    assert events[0]["milestoneId"] == mid and events[0]["contractId"] == cid
    assert events[0]["amount"] == "1200.50" and events[0]["currency"] == "USD"
    assert events[0]["contractorId"] == party.contractor_id

    detail = (await client.get(f"/api/contracts/{cid}", headers=w)).json()
    assert [m["status"] for m in detail["milestones"]] == ["approved", "pending"]


async def test_another_partys_milestone_is_404(
    client: httpx.AsyncClient, party: Any, make_party: Any, milestone_contract: dict[str, Any]
):
    other = await make_party(legal_name="Other Corp Ltd", contractor_name="Alan Turing")
    cid, mid = milestone_contract["id"], milestone_contract["milestones"][0]["id"]
    response = await client.post(f"/api/contracts/{cid}/milestones/{mid}/submit", json={},
                                 headers=other.contractor.headers)
    assert response.status_code == 404
    unknown = await client.post(
        f"/api/contracts/{cid}/milestones/00000000-0000-0000-0000-000000000000/submit",
        json={}, headers=party.contractor.headers)
    assert unknown.status_code == 404 and unknown.json()["code"] == "milestone_not_found"
