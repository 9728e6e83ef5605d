"""The inbox of provider webhooks (`POST /api/kyc/webhooks/{provider}`), one code path for
Veriff and the sandbox, for decisions and for Veriff's progress events (`submitted` moves a
session to `processing`):

1. the provider named in the path must be the active one (404 otherwise);
2. the signature is checked before anything else (`X-AUTH-CLIENT` + `X-HMAC-SIGNATURE` over the
   raw body): bad or missing -> 401, nothing stored but an audit line;
3. the delivery is stored once in the platform's webhook inbox (`platform/webhooks.py`, domain
   "kyc") under the unique `(domain, provider, event_id)`, `event_id` = SHA-256 of the raw body
   (Veriff sends no event id and signs no timestamp; a replay is byte-identical). A duplicate,
   even a concurrent one, hits the unique constraint and is acknowledged (200) with no change;
4. the decision is applied to the session with `service.apply_decision` (never downgrading a
   final session), an event with `service.transition`; no session matches -> the payload is
   kept as `parked` and the answer is 404.

`replay(payload_id)` runs step 4 again for a stored payload (`mindlinks kyc replay`, or the
generic `mindlinks webhooks replay`, which calls `handle_stored`).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.kyc import repository as repo
from mindlinks.kyc import service
from mindlinks.kyc.models import KycSession, PayloadStatus, SessionStatus
from mindlinks.kyc.providers import (
    Decision,
    Event,
    KycProvider,
    MalformedPayload,
    parse_decision,
    parse_event,
    signature_valid,
    webhook_kind,
)
from mindlinks.platform import audit
from mindlinks.platform import webhooks as inbox
from mindlinks.platform.db import utcnow
from mindlinks.platform.errors import BadRequest, NotFound, Unauthorized
from mindlinks.platform.json_input import parse_json
from mindlinks.platform.webhooks import WebhookEvent as VerificationPayload

DOMAIN = "kyc"


class InvalidSignature(Unauthorized):
    code, title = "invalid_webhook_signature", "Invalid webhook signature"


class UnknownProvider(NotFound):
    code = "kyc_provider_not_found"


class MalformedWebhook(BadRequest):
    code = "malformed_webhook"


@dataclass
class Outcome:
    payload_id: uuid.UUID | None
    outcome: str  # handled | ignored | duplicate | parked
    session_id: uuid.UUID | None = None
    status: str | None = None


async def receive(session: AsyncSession, provider: KycProvider, provider_name: str,
                  body: bytes, headers: Mapping[str, str]) -> Outcome:
    if provider_name != provider.name:
        raise UnknownProvider(f"No active verification provider named {provider_name!r}")
    if not signature_valid(provider.webhook_secret, provider.api_key, body, headers):
        await audit.record(session, None, "kyc.webhook.rejected", "kyc_webhook", None,
                           {"provider": provider_name, "reason": "invalid_signature",
                            "bodySha256": hashlib.sha256(body).hexdigest()})
        # persist: the audit line is committed although the answer is an error.
        raise InvalidSignature("The webhook signature does not verify", headers={},
                               persist=True)
    try:
        parsed = parse_json(body)
        kind = webhook_kind(parsed)
        provider_session_id = (parse_decision(parsed) if kind == "decision"
                               else parse_event(parsed)).provider_session_id
    except (ValueError, MalformedPayload) as exc:
        raise MalformedWebhook("The webhook body is neither a decision nor an event") from exc
    row, new = await inbox.store_once(
        session, domain=DOMAIN, provider=provider.name, event_id=hashlib.sha256(body).hexdigest(),
        kind=kind, body=body, object_ref=provider_session_id)
    if not new:
        return Outcome(None, "duplicate")
    outcome = await handle(session, row)
    if outcome.outcome == "parked":
        raise service.KycSessionNotFound(
            "No verification session matches this webhook", persist=True
        )
    return outcome


async def handle(session: AsyncSession, row: VerificationPayload) -> Outcome:
    """Apply a stored payload (decision or event); `parked` when no session matches."""
    body = parse_json(row.raw_body)
    message = parse_event(body) if row.kind == "event" else parse_decision(body)
    kyc = await repo.session_by_provider_ref(session, row.provider,
                                             message.provider_session_id, for_update=True)
    if kyc is None:
        row.status, row.note = PayloadStatus.PARKED, "no session matches"
        await session.flush()
        await audit.record(session, None, "kyc.webhook.parked", "verification_payload", row.id,
                           {"provider": row.provider,
                            "providerSessionId": message.provider_session_id})
        return Outcome(row.id, "parked")
    row.subject_id, row.owner_id = kyc.id, kyc.contractor_id
    if isinstance(message, Event):
        changed = await _apply_event(session, row, kyc, message)
    else:
        changed = await _apply_decision(session, row, kyc, message)
    row.status = PayloadStatus.HANDLED if changed else PayloadStatus.IGNORED
    row.handled_at = utcnow()
    await session.flush()
    return Outcome(row.id, "handled" if changed else "ignored", kyc.id, kyc.status)


async def _apply_event(session: AsyncSession, row: VerificationPayload, kyc: KycSession,
                       event: Event) -> bool:
    """`submitted`: the person finished the provider's flow, the session waits for the
    decision in `processing`. Other actions (`started`) are kept for the record only."""
    if event.action == "submitted" and kyc.status in (SessionStatus.PENDING,
                                                       SessionStatus.RESUBMISSION_REQUESTED):
        await service.transition(session, kyc, SessionStatus.PROCESSING, actor=None,
                                 source=f"provider:{row.provider}")
        return True
    row.note = f"no change: session {kyc.status}, event {event.action}"[:500]
    return False


async def _apply_decision(session: AsyncSession, row: VerificationPayload, kyc: KycSession,
                          decision: Decision) -> bool:
    if decision.status not in service.DECISION_STATUS:
        changed = False
        row.note = f"unknown decision status {decision.status!r}"[:500]
    else:
        changed = await service.apply_decision(
            session, kyc, decision.status, actor=None, source=f"provider:{row.provider}",
            reason=decision.reason, result=decision.as_result(), strict=False)
        if not changed:
            row.note = f"no change: session {kyc.status}, decision {decision.status}"[:500]
    return changed


async def handle_stored(session: AsyncSession, row: VerificationPayload) -> str:
    """The platform inbox's entry point (`mindlinks webhooks replay`)."""
    return (await handle(session, row)).outcome


async def replay(session: AsyncSession, payload_id: uuid.UUID) -> Outcome:
    """Handle a stored payload again (after fixing what parked it). Idempotent: a decision
    already applied changes nothing the second time."""
    row = await repo.payload_by_id(session, payload_id, for_update=True)
    if row is None:
        raise NotFound("No such verification payload")
    await audit.record(session, None, "kyc.webhook.replayed", "verification_payload", row.id,
                       {"previousStatus": row.status})
    return await handle(session, row)
