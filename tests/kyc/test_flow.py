"""The contractor's verification end to end: start, the sandbox page, decisions, the profile's
`kycStatus` following `contractor.kyc.completed`, and the seed response shapes."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx

from mindlinks.kyc.models import KycDocument
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


async def test_status_before_anything(client: httpx.AsyncClient, contractor: Account) -> None:
    assert await status_of(client, contractor) == {
        "status": "not_started", "sessionId": None, "verificationResult": None,
        "rejectionReason": None}


async def test_start_shape_and_idempotent_while_pending(
    client: httpx.AsyncClient, contractor: Account
) -> None:
    started = await start(client, contractor)
    assert set(started) == {"sessionId", "veriffSessionUrl", "expiresAt"}
    assert f"/kyc/sandbox/{started['sessionId']}?token=" in started["veriffSessionUrl"]
    assert await start(client, contractor) == started  # the open session, not a second one
    status = await status_of(client, contractor)
    assert status["status"] == "pending" and status["sessionId"] == started["sessionId"]
    assert await profile_kyc(client, contractor) == "pending"


async def test_happy_path_through_the_sandbox_page(
    app: Any, client: httpx.AsyncClient, contractor: Account
) -> None:
    started = await start(client, contractor)
    response = await submit_page(client, started, id_image=png(), selfie=png(), expiry=future())
    assert response.status_code == 200, response.text
    assert "approved" in response.text
    await app.state.dispatcher.drain()
    status = await status_of(client, contractor)
    assert status["status"] == "verified"
    assert status["sessionId"] == started["sessionId"]
    assert status["rejectionReason"] is None
    result = status["verificationResult"]
    assert result["status"] == "approved" and result["verifiedAt"]
    assert sorted(result["documents"], key=lambda d: d["type"]) == [
        {"type": "passport", "status": "verified"}, {"type": "selfie", "status": "verified"}]
    assert await profile_kyc(client, contractor) == "verified"
    docs = (await client.get("/api/kyc/contractor/me/documents",
                             headers=contractor.headers)).json()["data"]
    assert {d["type"] for d in docs} == {"passport", "selfie"}
    assert set(docs[0]) == {"id", "type", "status", "uploadedAt"}
    # Once verified, starting again is an invalid transition.
    again = await client.post("/api/kyc/contractor/me/start", headers=contractor.headers)
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


async def test_happy_path_through_the_decision_endpoint(
    app: Any, client: httpx.AsyncClient, contractor: Account
) -> None:
    started = await start(client, contractor)
    response = await sandbox_decide(client, started, "approved")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "verified"
    # The profile follows in the same transaction (not through event delivery).
    assert await profile_kyc(client, contractor) == "verified"
    await app.state.dispatcher.drain()
    # The notifications domain queued the contractor's message.
    inbox = await client.get("/api/notifications/me", headers=contractor.headers)
    assert inbox.status_code == 200, inbox.text
    kyc_notes = [n for n in inbox.json()["data"] if n["type"] == "kyc_completed"]
    assert len(kyc_notes) == 1 and "verified" in kyc_notes[0]["message"], inbox.text
    # The next token refresh carries the new claim.
    refreshed = await client.post("/api/auth/refresh",
                                  json={"refreshToken": contractor.data["refreshToken"]})
    assert refreshed.status_code == 200, refreshed.text
    claims = app.state.tokens.verify(refreshed.json()["accessToken"])
    assert claims["kycStatus"] == "verified"


async def test_sandbox_page_missing_selfie_asks_for_resubmission_then_new_documents_reopen(
    app: Any, client: httpx.AsyncClient, contractor: Account
) -> None:
    started = await start(client, contractor)
    response = await submit_page(client, started, id_image=png(), expiry=future())
    assert response.status_code == 200 and "resubmission_requested" in response.text
    status = await status_of(client, contractor)
    assert status["status"] == "pending"
    assert status["rejectionReason"] == "Selfie missing or unreadable"
    assert status["verificationResult"]["status"] == "resubmission_requested"
    # A new document reopens the session (resubmission_requested -> pending) ...
    upload = await client.post("/api/kyc/contractor/me/documents", headers=contractor.headers,
                               data={"documentType": "selfie"},
                               files={"file": ("me.png", png(), "image/png")})
    assert upload.status_code == 201, upload.text
    assert set(upload.json()) == {"id", "type", "status", "uploadedAt"}
    assert upload.json()["status"] == "pending"
    # ... and the page can be submitted again, this time complete.
    response = await submit_page(client, started, id_image=png(), selfie=png(), expiry=future())
    assert "approved" in response.text, response.text
    await app.state.dispatcher.drain()
    assert (await status_of(client, contractor))["status"] == "verified"


async def test_sandbox_page_expired_document_is_declined(
    app: Any, client: httpx.AsyncClient, contractor: Account
) -> None:
    started = await start(client, contractor)
    response = await submit_page(client, started, id_image=png(), selfie=png(),
                                 expiry=date.today() - timedelta(days=1))
    assert "declined" in response.text
    await app.state.dispatcher.drain()
    status = await status_of(client, contractor)
    assert status["status"] == "rejected"
    assert status["rejectionReason"] == "ID document expired"
    assert await profile_kyc(client, contractor) == "rejected"
    # After a rejection a new session may be started.
    again = await start(client, contractor)
    assert again["sessionId"] != started["sessionId"]
    assert (await status_of(client, contractor))["status"] == "pending"


async def test_sandbox_page_unreadable_id_image_is_not_approved(
    app: Any, client: httpx.AsyncClient, contractor: Account
) -> None:
    started = await start(client, contractor)
    response = await submit_page(client, started, id_image=b"not an image at all",
                                 selfie=png(), expiry=future())
    assert "resubmission_requested" in response.text
    assert (await status_of(client, contractor))["status"] == "pending"


async def test_sandbox_page_needs_its_token(
    client: httpx.AsyncClient, contractor: Account
) -> None:
    started = await start(client, contractor)
    bare = f"/kyc/sandbox/{started['sessionId']}"
    assert (await client.get(bare)).status_code == 404
    assert (await client.get(bare + "?token=" + "0" * 64)).status_code == 404
    posted = await client.post(bare, data={"token": "0" * 64, "expiryDate": ""},
                               files={"selfie": ("me.png", png(), "image/png")})
    assert posted.status_code == 404
    assert (await status_of(client, contractor))["status"] == "pending"


async def test_documents_upload_validation_and_ownership(
    app: Any, client: httpx.AsyncClient, contractor: Account, other: Account
) -> None:
    # No open session: nothing to attach to.
    early = await client.post("/api/kyc/contractor/me/documents", headers=contractor.headers,
                              data={"documentType": "passport"},
                              files={"file": ("p.pdf", MINIMAL_PDF, "application/pdf")})
    assert early.status_code == 409 and early.json()["code"] == "kyc_session_required"
    await start(client, contractor)
    ok = await client.post("/api/kyc/contractor/me/documents", headers=contractor.headers,
                           data={"documentType": "proof_of_address"},
                           files={"file": ("bill.pdf", MINIMAL_PDF, "application/pdf")})
    assert ok.status_code == 201, ok.text
    assert ok.json()["type"] == "proof_of_address" and ok.json()["status"] == "pending"
    bad_type = await client.post("/api/kyc/contractor/me/documents", headers=contractor.headers,
                                 data={"documentType": "tax_form"},
                                 files={"file": ("p.pdf", MINIMAL_PDF, "application/pdf")})
    assert bad_type.status_code == 422
    selfie_pdf = await client.post("/api/kyc/contractor/me/documents",
                                   headers=contractor.headers, data={"documentType": "selfie"},
                                   files={"file": ("s.pdf", MINIMAL_PDF, "application/pdf")})
    assert selfie_pdf.status_code == 422
    assert selfie_pdf.json()["code"] == "unsupported_file_type"
    # The owner gets a signed link to the file ...
    doc_url = f"/api/kyc/contractor/me/documents/{ok.json()['id']}"
    mine = await client.get(doc_url, headers=contractor.headers)
    assert mine.status_code == 200, mine.text
    assert mine.json()["id"] == ok.json()["id"] and mine.json()["expiresAt"]
    assert (await client.get(mine.json()["downloadUrl"])).content == MINIMAL_PDF
    # ... another contractor sees none of it: not in the list, and the id is a 404.
    theirs = await client.get("/api/kyc/contractor/me/documents", headers=other.headers)
    assert theirs.status_code == 200 and theirs.json() == {"data": []}
    stolen = await client.get(doc_url, headers=other.headers)
    assert stolen.status_code == 404 and stolen.json()["code"] == "kyc_document_not_found"
    assert "downloadUrl" not in stolen.text
    assert (await status_of(client, other))["status"] == "not_started"
    assert await count(app, KycDocument) == 1


async def test_contractor_routes_need_a_contractor(
    client: httpx.AsyncClient, admin: Account
) -> None:
    assert (await client.get("/api/kyc/contractor/me/status")).status_code == 401
    response = await client.get("/api/kyc/contractor/me/status", headers=admin.headers)
    assert response.status_code == 403


async def test_decision_endpoint_unknown_session(client: httpx.AsyncClient) -> None:
    response = await sandbox_decide(client, str(uuid.uuid4()), "approved")
    assert response.status_code == 404


async def test_starts_and_uploads_are_rate_limited(
    client: httpx.AsyncClient, contractor: Account, app: Any
) -> None:
    """Each start may cost a provider fee: past the hourly limit, 429 with Retry-After."""
    limit = app.state.settings.kyc_starts_per_hour
    for _ in range(limit):
        assert (await client.post("/api/kyc/contractor/me/start",
                                  headers=contractor.headers)).status_code == 200
    refused = await client.post("/api/kyc/contractor/me/start", headers=contractor.headers)
    assert refused.status_code == 429 and refused.json()["code"] == "too_many_requests"
    assert int(refused.headers["retry-after"]) > 0
    uploads = app.state.settings.kyc_uploads_per_hour
    for _ in range(uploads):
        response = await client.post(
            "/api/kyc/contractor/me/documents", headers=contractor.headers,
            data={"documentType": "passport"}, files={"file": ("id.png", png(), "image/png")})
        assert response.status_code == 201, response.text
    refused = await client.post(
        "/api/kyc/contractor/me/documents", headers=contractor.headers,
        data={"documentType": "passport"}, files={"file": ("id.png", png(), "image/png")})
    assert refused.status_code == 429
