"""Admin review (`/api/admin/kyc/...`) and the session state machine: every transition, the
invalid ones (409), audit lines, document review, the queue's paging."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mindlinks.kyc.service import TRANSITIONS
from mindlinks.platform.audit import AuditLog
from tests.kyc.conftest import (
    Account,
    count,
    future,
    png,
    profile_kyc,
    sandbox_decide,
    start,
    status_of,
    submit_page,
)
from tests.platform.samples import MINIMAL_PDF


async def decide(client: httpx.AsyncClient, admin: Account, sid: str, decision: str,
                 reason: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"decision": decision}
    if reason is not None:
        body["reason"] = reason
    return await client.post(f"/api/admin/kyc/sessions/{sid}/decision", json=body,
                             headers=admin.headers)


def test_the_transition_table() -> None:
    assert TRANSITIONS["pending"] == {"processing", "verified", "rejected",
                                      "resubmission_requested", "expired"}
    assert TRANSITIONS["processing"] == {"verified", "rejected", "resubmission_requested",
                                         "expired"}
    assert "pending" in TRANSITIONS["resubmission_requested"]
    for final in ("verified", "rejected", "expired"):
        assert TRANSITIONS[final] == frozenset()


async def test_admin_routes_need_an_admin(
    client: httpx.AsyncClient, contractor: Account
) -> None:
    assert (await client.get("/api/admin/kyc/sessions")).status_code == 401
    response = await client.get("/api/admin/kyc/sessions", headers=contractor.headers)
    assert response.status_code == 403


async def test_admin_approves_a_pending_session(
    app: Any, client: httpx.AsyncClient, contractor: Account, admin: Account
) -> None:
    started = await start(client, contractor)
    response = await decide(client, admin, started["sessionId"], "approved")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "verified" and body["decidedBy"] and body["completedAt"]
    assert body["verificationResult"]["source"] == "admin"
    await app.state.dispatcher.drain()
    assert await profile_kyc(client, contractor) == "verified"
    audit = await count(app, AuditLog, AuditLog.action == "kyc.session.verified",
                        AuditLog.entity_id == started["sessionId"])
    assert audit == 1
    # A second decision on a final session is an invalid transition.
    for decision in ("approved", "declined", "resubmission_requested"):
        again = await decide(client, admin, started["sessionId"], decision, "late")
        assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


async def test_resubmission_then_new_documents_then_decline(
    app: Any, client: httpx.AsyncClient, contractor: Account, admin: Account
) -> None:
    started = await start(client, contractor)
    sid = started["sessionId"]
    response = await decide(client, admin, sid, "resubmission_requested", "Photo too dark")
    assert response.json()["status"] == "resubmission_requested"
    status = await status_of(client, contractor)
    assert status["status"] == "pending" and status["rejectionReason"] == "Photo too dark"
    upload = await client.post("/api/kyc/contractor/me/documents", headers=contractor.headers,
                               data={"documentType": "passport"},
                               files={"file": ("p.png", png(), "image/png")})
    assert upload.status_code == 201
    detail = await client.get(f"/api/admin/kyc/sessions/{sid}", headers=admin.headers)
    assert detail.json()["status"] == "pending"
    declined = await decide(client, admin, sid, "declined", "Document forged")
    assert declined.json()["status"] == "rejected"
    await app.state.dispatcher.drain()
    status = await status_of(client, contractor)
    assert status["status"] == "rejected" and status["rejectionReason"] == "Document forged"
    assert await profile_kyc(client, contractor) == "rejected"
    actions = {"kyc.session.pending", "kyc.session.resubmission_requested",
               "kyc.session.rejected"}
    for action in actions:
        assert await count(app, AuditLog, AuditLog.action == action,
                           AuditLog.entity_id == sid) >= 1, action


async def test_processing_after_the_page_then_admin_decides(
    app: Any, client: httpx.AsyncClient, contractor: Account, admin: Account
) -> None:
    started = await start(client, contractor)
    # The sandbox page moves the session through `processing` before its decision.
    await submit_page(client, started, id_image=png(), expiry=future())
    assert await count(app, AuditLog, AuditLog.action == "kyc.session.processing",
                       AuditLog.entity_id == started["sessionId"]) == 1
    detail = (await client.get(f"/api/admin/kyc/sessions/{started['sessionId']}",
                               headers=admin.headers)).json()
    assert detail["status"] == "resubmission_requested" and detail["submittedAt"]


async def test_session_detail_has_signed_document_urls(
    client: httpx.AsyncClient, contractor: Account, admin: Account
) -> None:
    started = await start(client, contractor)
    await client.post("/api/kyc/contractor/me/documents", headers=contractor.headers,
                      data={"documentType": "proof_of_address"},
                      files={"file": ("bill.pdf", MINIMAL_PDF, "application/pdf")})
    detail = await client.get(f"/api/admin/kyc/sessions/{started['sessionId']}", headers=admin.headers)
    assert detail.status_code == 200, detail.text
    docs = detail.json()["documents"]
    assert len(docs) == 1 and docs[0]["type"] == "proof_of_address"
    assert docs[0]["downloadUrl"] and docs[0]["expiresAt"] and len(docs[0]["sha256"]) == 64
    file = await client.get(docs[0]["downloadUrl"])
    assert file.status_code == 200 and file.content == MINIMAL_PDF
    tampered = await client.get(docs[0]["downloadUrl"].replace("sig=", "sig=0"))
    assert tampered.status_code == 403


async def test_document_review(
    app: Any, client: httpx.AsyncClient, contractor: Account, admin: Account
) -> None:
    await start(client, contractor)
    upload = (await client.post("/api/kyc/contractor/me/documents", headers=contractor.headers,
                                data={"documentType": "proof_of_address"},
                                files={"file": ("b.pdf", MINIMAL_PDF, "application/pdf")})
              ).json()
    url = f"/api/admin/kyc/documents/{upload['id']}/review"
    response = await client.post(url, json={"status": "rejected", "reason": "Older than 3 months"},
                                 headers=admin.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "rejected" and body["reviewedBy"] and body["reviewedAt"]
    assert body["rejectionReason"] == "Older than 3 months"
    again = await client.post(url, json={"status": "verified"}, headers=admin.headers)
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    docs = (await client.get("/api/kyc/contractor/me/documents",
                             headers=contractor.headers)).json()["data"]
    assert docs[0]["status"] == "rejected"
    missing = await client.post("/api/admin/kyc/documents/00000000-0000-0000-0000-000000000000"
                                "/review", json={"status": "verified"}, headers=admin.headers)
    assert missing.status_code == 404
    bad = await client.post(url, json={"status": "approved"}, headers=admin.headers)
    assert bad.status_code == 422


async def test_enhanced_needs_proof_of_address(
    app: Any, client: httpx.AsyncClient, contractor: Account, admin: Account
) -> None:
    started = await start(client, contractor, verificationLevel="enhanced")
    refused = await decide(client, admin, started["sessionId"], "approved")
    assert refused.status_code == 409
    assert refused.json()["code"] == "proof_of_address_required"
    # A provider approval leaves it waiting in processing.
    await sandbox_decide(client, started, "approved")
    detail = await client.get(f"/api/admin/kyc/sessions/{started['sessionId']}", headers=admin.headers)
    assert detail.json()["status"] == "processing"
    await client.post("/api/kyc/contractor/me/documents", headers=contractor.headers,
                      data={"documentType": "proof_of_address"},
                      files={"file": ("bill.pdf", MINIMAL_PDF, "application/pdf")})
    approved = await decide(client, admin, started["sessionId"], "approved")
    assert approved.status_code == 200 and approved.json()["status"] == "verified"


async def test_review_queue_paging_and_filter(
    client: httpx.AsyncClient, make_contractor: Any, admin: Account
) -> None:
    started = []
    for i in range(5):
        who = await make_contractor(f"Person {i}")
        started.append(await start(client, who))
    await sandbox_decide(client, started[0], "approved")
    ids = [s["sessionId"] for s in started]
    page1 = await client.get("/api/admin/kyc/sessions?status=pending&limit=2&page=1",
                             headers=admin.headers)
    assert page1.status_code == 200, page1.text
    body = page1.json()
    assert body["meta"] == {"total": 4, "page": 1, "limit": 2, "totalPages": 2}
    page2 = (await client.get("/api/admin/kyc/sessions?status=pending&limit=2&page=2",
                              headers=admin.headers)).json()
    seen = [s["id"] for s in body["data"]] + [s["id"] for s in page2["data"]]
    assert seen == ids[1:]  # oldest first, each once
    verified = (await client.get("/api/admin/kyc/sessions?status=verified",
                                 headers=admin.headers)).json()
    assert [s["id"] for s in verified["data"]] == [ids[0]]
    everything = (await client.get("/api/admin/kyc/sessions", headers=admin.headers)).json()
    assert everything["meta"]["total"] == 5
    unknown = "00000000-0000-0000-0000-000000000000"
    assert (await client.get(f"/api/admin/kyc/sessions/{unknown}", headers=admin.headers)
            ).status_code == 404
    missing = await decide(client, admin, unknown, "approved")
    assert missing.status_code == 404 and missing.json()["code"] == "kyc_session_not_found"
    bad = await client.get("/api/admin/kyc/sessions?status=approved", headers=admin.headers)
    assert bad.status_code == 422
    assert (await client.get("/api/admin/kyc/sessions?limit=101", headers=admin.headers)
            ).status_code == 422


@pytest.mark.parametrize("reason", [None, "x" * 501])
async def test_decision_body_validation(
    client: httpx.AsyncClient, contractor: Account, admin: Account,
    reason: str | None,
) -> None:
    started = await start(client, contractor)
    body: dict[str, Any] = {"decision": "maybe" if reason is None else "declined"}
    if reason is not None:
        body["reason"] = reason
    response = await client.post(f"/api/admin/kyc/sessions/{started['sessionId']}/decision",
                                 json=body, headers=admin.headers)
    assert response.status_code == 422
