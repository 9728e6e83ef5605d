"""The inbox of provider decision webhooks (`POST /api/kyc/webhooks/{provider}`), one code path
for Veriff and the sandbox:

1. the provider named in the path must be the active one (404 otherwise);
2. the signature is checked before anything else (`X-AUTH-CLIENT` + `X-HMAC-SIGNATURE` over the
   raw body): bad or missing -> 401, nothing stored but an audit line;
3. the delivery is inserted once into `verification_payloads` under the unique
   `(provider, event_id)`, `event_id` = SHA-256 of the raw body (Veriff sends no event id and
   signs no timestamp; a replay is byte-identical). The insert runs in a savepoint: a duplicate,
   even a concurrent one, hits the unique constraint and is acknowledged (200) with no change;
4. the decision is applied to the session with `service.apply_decision` (never downgrading a
   final session); no session matches -> the payload is kept as `parked` and the answer is 404.

`replay(payload_id)` runs step 4 again for a stored payload (`mindlinks kyc replay`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.kyc import repository as repo
from mindlinks.kyc import service
from mindlinks.kyc.models import PayloadStatus, VerificationPayload
from mindlinks.kyc.providers import KycProvider, MalformedPayload, parse_decision, signature_valid
from mindlinks.platform import audit
from mindlinks.platform.db import utcnow
from mindlinks.platform.errors import BadRequest, NotFound, Unauthorized


class InvalidSignature(Unauthorized):
    code, title = "invalid_signature", "Invalid webhook signature"


class UnknownProvider(NotFound):
    code = "kyc_provider_not_found"


class UnknownSession(NotFound):
    code = "kyc_session_not_found"


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
        decision = parse_decision(json.loads(body))
    except (ValueError, MalformedPayload) as exc:
        raise MalformedWebhook("The webhook body is not a decision") from exc
    row = VerificationPayload(
        id=uuid.uuid4(), provider=provider.name, event_id=hashlib.sha256(body).hexdigest(),
        kind="decision", provider_session_id=decision.provider_session_id,
        raw_body=body.decode("utf-8", "replace"), status=PayloadStatus.RECEIVED)
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        return Outcome(None, "duplicate")
    outcome = await handle(session, row)
    if outcome.outcome == "parked":
        raise UnknownSession("No verification session matches this decision", persist=True)
    return outcome


async def handle(session: AsyncSession, row: VerificationPayload) -> Outcome:
    """Apply a stored payload's decision; `parked` when no session matches."""
    decision = parse_decision(json.loads(row.raw_body))
    kyc = await repo.session_by_provider_ref(session, row.provider, decision.provider_session_id,
                                             for_update=True)
    if kyc is None:
        row.status, row.note = PayloadStatus.PARKED, "no session matches"
        await session.flush()
        await audit.record(session, None, "kyc.webhook.parked", "verification_payload", row.id,
                           {"provider": row.provider,
                            "providerSessionId": decision.provider_session_id})
        return Outcome(row.id, "parked")
    row.session_id, row.contractor_id = kyc.id, kyc.contractor_id
    if decision.status not in service.DECISION_STATUS:
        changed = False
        row.note = f"unknown decision status {decision.status!r}"[:500]
    else:
        changed = await service.apply_decision(
            session, kyc, decision.status, actor=None, source=f"provider:{row.provider}",
            reason=decision.reason, result=decision.as_result(), strict=False)
        if not changed:
            row.note = f"no change: session {kyc.status}, decision {decision.status}"[:500]
    row.status = PayloadStatus.HANDLED if changed else PayloadStatus.IGNORED
    row.handled_at = utcnow()
    await session.flush()
    return Outcome(row.id, "handled" if changed else "ignored", kyc.id, kyc.status)


async def replay(session: AsyncSession, payload_id: uuid.UUID) -> Outcome:
    """Handle a stored payload again (after fixing what parked it). Idempotent: a decision
    already applied changes nothing the second time."""
    row = await repo.payload_by_id(session, payload_id, for_update=True)
    if row is None:
        raise NotFound("No such verification payload")
    await audit.record(session, None, "kyc.webhook.replayed", "verification_payload", row.id,
                       {"previousStatus": row.status})
    return await handle(session, row)
