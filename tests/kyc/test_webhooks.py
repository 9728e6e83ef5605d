"""`POST /api/kyc/webhooks/{provider}`: signature first, the inbox (one row per delivery),
duplicates, unknown sessions, out-of-order decisions, replay."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mindlinks.kyc import webhooks
from mindlinks.kyc.models import KycSession, VerificationPayload
from mindlinks.kyc.providers import event_body
from mindlinks.platform.audit import AuditLog
from tests.factories import Account
from tests.kyc.conftest import (
    count,
    decision,
    deliver,
    profile_kyc,
    session_row,
    signed,
    start,
    status_of,
)


async def test_bad_or_missing_signature_is_401_and_changes_nothing(
    app: Any, client: httpx.AsyncClient, contractor: Account
) -> None:
    started = await start(client, contractor)
    body = decision(started["sessionId"], "approved")
    good = signed(app, body)
    attempts = [
        {},  # no headers at all
        {"X-AUTH-CLIENT": "sandbox"},  # no signature
        {**good, "X-HMAC-SIGNATURE": "0" * 64},  # wrong signature
        signed(app, body, secret=b"someone else's secret"),  # signed with another secret
        {**good, "X-AUTH-CLIENT": "not-our-key"},  # right signature, wrong API key
    ]
    for headers in attempts:
        response = await deliver(client, app, body, headers=headers)
        assert response.status_code == 401, (headers, response.text)
        assert response.json()["code"] == "invalid_webhook_signature"
    # The body changed by one byte after signing.
    tampered = body.replace(b"approved", b"approvee")
    response = await deliver(client, app, tampered, headers=good)
    assert response.status_code == 401
    assert await count(app, VerificationPayload) == 0
    row = await session_row(app, started["sessionId"])
    assert row.status == "pending"
    assert await count(app, AuditLog, AuditLog.action == "kyc.webhook.rejected") == 6


async def test_signed_delivery_is_stored_and_applied(
    app: Any, client: httpx.AsyncClient, contractor: Account
) -> None:
    started = await start(client, contractor)
    body = decision(started["sessionId"], "approved")
    response = await deliver(client, app, body)
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "handled"
    async with app.state.db.session() as session:
        payload = await session.get(VerificationPayload,
                                    uuid.UUID(response.json()["payloadId"]))
        assert payload is not None
        assert payload.raw_body == body.decode() and payload.status == "handled"
        assert str(payload.subject_id) == started["sessionId"] and payload.domain == "kyc"
    await app.state.dispatcher.drain()
    assert await profile_kyc(client, contractor) == "verified"


async def test_replayed_delivery_is_acknowledged_and_changes_nothing(
    app: Any, client: httpx.AsyncClient, contractor: Account
) -> None:
    started = await start(client, contractor)
    body = decision(started["sessionId"], "resubmission_requested", reason="Blurry photo")
    first = await deliver(client, app, body)
    assert first.json()["outcome"] == "handled"
    before = await session_row(app, started["sessionId"])
    for _ in range(3):
        again = await deliver(client, app, body)
        assert again.status_code == 200
        assert again.json()["duplicate"] is True and again.json()["outcome"] == "duplicate"
    after = await session_row(app, started["sessionId"])
    assert after.status == "resubmission_requested"
    assert after.updated_at == before.updated_at
    assert await count(app, VerificationPayload) == 1
    assert await count(app, AuditLog,
                       AuditLog.action == "kyc.session.resubmission_requested") == 1


@pytest.mark.race
async def test_concurrent_duplicate_deliveries_are_processed_once(
    app: Any, client: httpx.AsyncClient, contractor: Account, db_backend: str
) -> None:
    started = await start(client, contractor)
    body = decision(started["sessionId"], "approved")
    responses = await asyncio.gather(*(deliver(client, app, body) for _ in range(5)))
    assert [r.status_code for r in responses] == [200] * 5, [r.text for r in responses]
    outcomes = sorted(r.json()["outcome"] for r in responses)
    assert outcomes == ["duplicate"] * 4 + ["handled"]
    assert await count(app, VerificationPayload) == 1
    assert await count(app, AuditLog, AuditLog.action == "kyc.session.verified") == 1


async def test_unknown_session_is_404_and_parked_then_replayable(
    app: Any, client: httpx.AsyncClient
) -> None:
    body = decision("no-such-session", "approved")
    response = await deliver(client, app, body)
    assert response.status_code == 404
    assert response.json()["code"] == "kyc_session_not_found"
    assert await count(app, VerificationPayload, VerificationPayload.status == "parked") == 1
    # A redelivery of the same parked payload is a duplicate, not a second row.
    assert (await deliver(client, app, body)).json()["outcome"] == "duplicate"
    async with app.state.db.session() as session:
        payload_id = await session.scalar(select(VerificationPayload.id))
        assert payload_id is not None
        outcome = await webhooks.replay(session, payload_id)  # still no session: parked again
        assert outcome.outcome == "parked"


async def test_out_of_order_decisions_never_downgrade_a_final_one(
    app: Any, client: httpx.AsyncClient, contractor: Account
) -> None:
    started = await start(client, contractor)
    sid = started["sessionId"]
    approved = await deliver(client, app, decision(sid, "approved",
                                                   decision_time="2026-01-05T10:00:00Z"))
    assert approved.json()["outcome"] == "handled"
    for late in ("resubmission_requested", "declined", "expired", "review"):
        response = await deliver(client, app, decision(sid, late,
                                                       decision_time="2026-01-04T09:00:00Z"))
        assert response.status_code == 200
        assert response.json()["outcome"] == "ignored", late
    row = await session_row(app, sid)
    assert row.status == "verified"
    await app.state.dispatcher.drain()
    assert (await status_of(client, contractor))["status"] == "verified"
    assert await profile_kyc(client, contractor) == "verified"
    assert await count(app, VerificationPayload, VerificationPayload.status == "ignored") == 4


async def test_inactive_or_unknown_provider_is_404(
    app: Any, client: httpx.AsyncClient, contractor: Account
) -> None:
    started = await start(client, contractor)
    body = decision(started["sessionId"], "approved")
    response = await deliver(client, app, body, provider="veriff")
    assert response.status_code == 404
    response = await deliver(client, app, body, provider="onfido")
    assert response.status_code == 404
    assert (await session_row(app, started["sessionId"])).status == "pending"


async def test_signed_but_malformed_body_is_400(app: Any, client: httpx.AsyncClient) -> None:
    body = b'{"status": "success"}'
    response = await deliver(client, app, body)
    assert response.status_code == 400
    assert await count(app, VerificationPayload) == 0


@pytest.mark.parametrize("decision_name", ["approved", "declined"])
async def test_final_decision_emits_the_completed_event(
    app: Any, client: httpx.AsyncClient, contractor: Account, decision_name: str
) -> None:
    from mindlinks.platform.events import OutboxEvent

    started = await start(client, contractor)
    await deliver(client, app, decision(started["sessionId"], decision_name))
    async with app.state.db.session() as session:
        events = list(await session.scalars(
            select(OutboxEvent).where(OutboxEvent.name == "contractor.kyc.completed")))
        row = await session.get(KycSession, uuid.UUID(started["sessionId"]))
        assert row is not None
    assert len(events) == 1
    payload = events[0].payload
    assert payload["sessionId"] == started["sessionId"]
    assert payload["userId"] == contractor.user_id
    assert payload["contractorId"] == str(row.contractor_id)
    expected = "verified" if decision_name == "approved" else "rejected"
    assert payload["kycStatus"] == expected and payload["status"] == decision_name


@pytest.mark.parametrize(("decisions", "statuses"), [
    (["review", "approved"], ["processing", "verified"]),
    (["review", "declined"], ["processing", "rejected"]),
    (["resubmission_requested", "approved"], ["resubmission_requested", "verified"]),
    (["resubmission_requested", "review", "declined"],
     ["resubmission_requested", "processing", "rejected"]),
    (["abandoned"], ["expired"]),
    (["review", "expired"], ["processing", "expired"]),
])
async def test_provider_decision_sequences(
    app: Any, client: httpx.AsyncClient, contractor: Account, decisions: list[str],
    statuses: list[str],
) -> None:
    started = await start(client, contractor)
    for i, (name, expected) in enumerate(zip(decisions, statuses, strict=True)):
        body = decision(started["sessionId"], name,
                        decision_time=f"2026-01-05T10:0{i}:00+00:00")
        response = await deliver(client, app, body)
        assert response.status_code == 200, response.text
        assert response.json()["outcome"] == "handled", (name, response.text)
        assert (await session_row(app, started["sessionId"])).status == expected
    transitions = await count(app, AuditLog, AuditLog.entity_id == started["sessionId"],
                              AuditLog.action.like("kyc.session.%"))
    assert transitions == 1 + len(decisions)  # started, then one line per change


async def test_submitted_event_moves_the_session_to_processing(
    app: Any, client: httpx.AsyncClient, contractor: Account
) -> None:
    """Veriff's event webhook (same endpoint, same signature): `started` is kept for the
    record, `submitted` means the person finished and the session waits in `processing`."""
    started = await start(client, contractor)
    sid = started["sessionId"]

    response = await deliver(client, app, event_body(provider_session_id=sid, action="started"))
    assert response.status_code == 200 and response.json()["outcome"] == "ignored"
    assert (await session_row(app, sid)).status == "pending"

    submitted = event_body(provider_session_id=sid, action="submitted")
    response = await deliver(client, app, submitted)
    assert response.status_code == 200 and response.json()["outcome"] == "handled"
    row = await session_row(app, sid)
    assert row.status == "processing" and row.submitted_at is not None
    assert (await status_of(client, contractor))["status"] == "pending"
    # The same delivery again: acknowledged, nothing changes.
    assert (await deliver(client, app, submitted)).json()["outcome"] == "duplicate"
    assert await count(app, VerificationPayload, VerificationPayload.kind == "event") == 2

    assert (await deliver(client, app, decision(sid, "approved"))).status_code == 200
    assert (await session_row(app, sid)).status == "verified"
    # A late event never reopens a decided session.
    late = event_body(provider_session_id=sid, action="submitted", attempt_id="late")
    assert (await deliver(client, app, late)).json()["outcome"] == "ignored"
    assert (await session_row(app, sid)).status == "verified"


async def test_event_for_an_unknown_session_is_parked(
    app: Any, client: httpx.AsyncClient
) -> None:
    body = event_body(provider_session_id=str(uuid.uuid4()), action="submitted")
    response = await deliver(client, app, body)
    assert response.status_code == 404 and response.json()["code"] == "kyc_session_not_found"
    async with app.state.db.session() as session:
        row = (await session.execute(select(VerificationPayload))).scalar_one()
        assert row.kind == "event" and row.status == "parked"


async def test_deeply_nested_signed_webhook_is_refused_without_a_500(
    app: Any, client: httpx.AsyncClient, contractor: Account
) -> None:
    """A validly signed body nested 100,000 deep used to end in RecursionError (a 500)."""
    started = await start(client, contractor)
    for depth in (100_000, 65):
        body = (b'{"status":"success","verification":' + b"[" * depth + b"]" * depth + b"}")
        response = await deliver(client, app, body)
        assert response.status_code == 400, (depth, response.text)
        assert response.json()["code"] == "malformed_webhook"
    assert await count(app, VerificationPayload) == 0
    assert (await session_row(app, started["sessionId"])).status == "pending"
