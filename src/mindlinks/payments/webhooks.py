"""Provider webhooks of payments (`POST /api/payments/webhooks/{provider}`), on the platform's
webhook inbox (`platform/webhooks.py`):

1. the provider named in the path must be the active one (404 otherwise);
2. `Stripe-Signature` is verified with the `stripe` package (300 s tolerance) against the
   endpoint's secret, or for Stripe the Connect endpoint's (payouts on connected accounts):
   bad, missing or stale -> 400 and nothing stored but an audit line;
3. the event is stored once under `(provider, event id)`; a duplicate is acknowledged (200,
   `duplicate: true`) and changes nothing - unless it was parked, then it is handled again;
4. `handle_stored` applies PaymentIntent events to the deposit, never moving it backwards:
   `succeeded` credits the client's escrow from the processor's clearing account with the
   reference `deposit:{provider}:{intentId}`, so even two different events saying "succeeded"
   move the money once. An event for an unknown intent is parked (200: Stripe would otherwise
   retry for days; it is replayable with `mindlinks webhooks replay`).
5. `payout.*` events (withdrawals' payouts) go to `withdrawals_payouts.apply_payout_event`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.payments import book, holds, withdrawals_payouts
from mindlinks.payments import repository as repo
from mindlinks.payments.models import DEPOSIT_RANK, DepositStatus, Purpose
from mindlinks.payments.providers import SIGNATURE_HEADER, PaymentsProvider, verify
from mindlinks.platform import audit
from mindlinks.platform import webhooks as inbox
from mindlinks.platform.errors import BadRequest, NotFound
from mindlinks.platform.json_input import parse_json
from mindlinks.settings import get_settings

DOMAIN = "payments"
EVENT_STATUS = {
    "payment_intent.processing": DepositStatus.PROCESSING,
    "payment_intent.succeeded": DepositStatus.SUCCEEDED,
    "payment_intent.payment_failed": DepositStatus.FAILED,
    "payment_intent.canceled": DepositStatus.CANCELED,
}


class UnknownProvider(NotFound):
    code = "payments_provider_not_found"


class MalformedWebhook(BadRequest):
    code = "malformed_webhook"


def _verify_any(secrets: list[str], body: bytes, header: str | None,
                tolerance: int) -> dict[str, Any]:
    for secret in secrets[:-1]:
        try:
            return verify(secret, body, header, tolerance)
        except BadRequest:
            continue
    return verify(secrets[-1], body, header, tolerance)


async def receive(session: AsyncSession, provider: PaymentsProvider, provider_name: str,
                  body: bytes, headers: Mapping[str, str]) -> tuple[str, bool]:
    """(outcome, duplicate)"""
    if provider_name != provider.name:
        raise UnknownProvider(f"No active payments provider named {provider_name!r}")
    settings = get_settings()
    secrets = [provider.webhook_secret]
    if provider.name == "stripe" and settings.stripe_connect_webhook_secret:
        secrets.append(settings.stripe_connect_webhook_secret)  # payouts (Connect endpoint)
    try:
        event = _verify_any(secrets, body, headers.get(SIGNATURE_HEADER),
                            settings.payments_webhook_tolerance_seconds)
    except BadRequest as exc:
        await audit.record(session, None, "payments.webhook.rejected", "webhook_event", None,
                           {"provider": provider_name, "reason": "invalid_signature",
                            "bodySha256": hashlib.sha256(body).hexdigest()})
        exc.persist = True  # the audit line stays although the answer is an error
        raise
    event_id, kind = event.get("id"), event.get("type")
    obj = (event.get("data") or {}).get("object") or {}
    if not isinstance(event_id, str) or not isinstance(kind, str) or not isinstance(obj, dict):
        raise MalformedWebhook("The webhook body is not a Stripe event")
    created = event.get("created")
    row, new = await inbox.store_once(
        session, domain=DOMAIN, provider=provider.name, event_id=event_id, kind=kind, body=body,
        object_ref=str(obj.get("id") or "") or None,
        occurred_at=datetime.fromtimestamp(created, UTC) if isinstance(created, int) else None)
    if not new and row.status != inbox.Status.PARKED:
        return row.status, True
    return await inbox.handle(session, row), not new


async def handle_stored(session: AsyncSession, row: inbox.WebhookEvent) -> str:
    if row.kind.startswith("payout."):  # Stripe Connect payouts of withdrawals
        return await withdrawals_payouts.apply_payout_event(session, row)
    target = EVENT_STATUS.get(row.kind)
    if target is None:
        row.note = "event type not used"
        return inbox.Status.IGNORED
    intent: dict[str, Any] = parse_json(row.raw_body)["data"]["object"]
    deposit = await repo.deposit_by_ref(session, row.provider, str(intent.get("id")),
                                        for_update=True)
    if deposit is None:
        row.note = "no deposit has this payment intent"
        return inbox.Status.PARKED
    row.subject_id, row.owner_id = deposit.id, deposit.client_id
    current = DepositStatus(deposit.status)
    if current == target or DEPOSIT_RANK[target] < DEPOSIT_RANK[current] or \
            DEPOSIT_RANK[current] == 2:
        row.note = f"no change: deposit {current}, event {row.kind}"[:500]
        return inbox.Status.IGNORED
    if target == DepositStatus.SUCCEEDED:
        amount = intent.get("amount_received", intent.get("amount"))
        currency = str(intent.get("currency", "")).upper()
        if amount != deposit.amount or currency != deposit.currency:
            row.note = (f"amount {amount} {currency} differs from the deposit's "
                        f"{deposit.amount} {deposit.currency}")[:500]
            return inbox.Status.PARKED
        world = await book.account(session, "platform", None, Purpose.PROCESSOR_CLEARING,
                                   deposit.currency)
        escrow = await book.account(session, "client", deposit.client_id,
                                    Purpose.CLIENT_ESCROW, deposit.currency)
        moved = await book.transfer(session, debit=world, credit=escrow, amount=deposit.amount,
                                    code="deposit",
                                    reference=f"deposit:{row.provider}:{deposit.provider_ref}")
        deposit.transfer_id = moved.id
        # Invoices waiting for funds are held now, oldest first (payments/holds.py).
        await holds.place_awaiting(session, deposit.client_id, deposit.currency)
    if target == DepositStatus.FAILED:
        error = intent.get("last_payment_error") or {}
        deposit.failure_reason = str(error.get("message") or "payment failed")[:500]
    deposit.status = target
    await session.flush()
    return inbox.Status.HANDLED
