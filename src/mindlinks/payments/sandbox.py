"""The sandbox's hosted payment page (`/payments/sandbox/{intentId}?token=...`): the client
succeeds, fails or delays (bank transfer on its way -> `processing`) the payment; the page then
delivers a Stripe-format event signed with the sandbox secret to `webhooks.receive` - the same
code path as Stripe's webhooks. Only the link handed out with the deposit (its token) opens it.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from html import escape
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.payments import repository as repo
from mindlinks.payments import webhooks
from mindlinks.payments.models import Deposit, SandboxRecord
from mindlinks.payments.providers import PaymentsProvider, SandboxProvider, intent_event
from mindlinks.platform.db import utcnow
from mindlinks.platform.errors import NotFound
from mindlinks.platform.money import from_minor

Outcome = Literal["succeed", "fail", "delay"]
EVENTS = {"succeed": ("payment_intent.succeeded", "succeeded"),
          "fail": ("payment_intent.payment_failed", "requires_payment_method"),
          "delay": ("payment_intent.processing", "processing")}


class SandboxNotFound(NotFound):
    code = "sandbox_intent_not_found"


async def _deposit(session: AsyncSession, provider: PaymentsProvider, intent_id: str,
                   token: str | None) -> tuple[SandboxProvider, Deposit]:
    # A wrong token looks like a missing intent: the page must not confirm that ids exist.
    if not isinstance(provider, SandboxProvider) or not provider.page_token_valid(intent_id,
                                                                                  token):
        raise SandboxNotFound("No such sandbox payment")
    row = await repo.deposit_by_ref(session, provider.name, intent_id)
    if row is None:
        raise SandboxNotFound("No such sandbox payment")
    return provider, row


async def record_settlement(session: AsyncSession, *, kind: str, amount: int, currency: str,
                            reference: str, source_ref: str,
                            occurred_at: datetime | None = None) -> SandboxRecord:
    """Write what the sandbox moved into its own store (its balance transactions), once per
    `(kind, source_ref)`: settling the same payment twice is one record, as at Stripe."""
    record_id = "txn_sandbox_" + hashlib.sha256(f"{kind}:{source_ref}".encode()).hexdigest()[:24]
    found = await session.scalar(select(SandboxRecord).where(SandboxRecord.record_id == record_id))
    if found is not None:
        return found
    row = SandboxRecord(id=uuid.uuid4(), record_id=record_id, kind=kind, amount=amount,
                        currency=currency.upper(), reference=reference, source_ref=source_ref,
                        occurred_at=occurred_at or utcnow())
    session.add(row)
    await session.flush()
    return row


async def act(session: AsyncSession, provider: PaymentsProvider, intent_id: str,
              token: str | None, outcome: Outcome) -> tuple[Deposit, str]:
    sandbox, row = await _deposit(session, provider, intent_id, token)
    event_type, intent_status = EVENTS[outcome]
    intent = {"id": row.provider_ref, "object": "payment_intent", "amount": row.amount,
              "amount_received": row.amount if outcome == "succeed" else 0,
              "currency": row.currency.lower(), "status": intent_status,
              "metadata": {"clientId": str(row.client_id)}}
    if outcome == "fail":
        intent["last_payment_error"] = {"code": "card_declined",
                                        "message": "Your card was declined."}
    if outcome == "succeed":
        # The provider's own books first: the money moved at the provider whatever happens to
        # the webhook that announces it (the reconciliation compares the two).
        await record_settlement(session, kind="deposit", amount=row.amount,
                                currency=row.currency,
                                reference=f"deposit:{sandbox.name}:{row.provider_ref}",
                                source_ref=row.provider_ref)
    body = intent_event(event_type, intent)
    result, _ = await webhooks.receive(session, sandbox, sandbox.name, body,
                                       sandbox.signed_headers(body))
    return row, result


def page_html(row: Deposit, token: str, message: str | None = None) -> str:
    amount = f"{from_minor(row.amount, row.currency)} {row.currency}"
    buttons = "".join(
        f'<button name="outcome" value="{o}">{label}</button> '
        for o, label in (("succeed", "Pay"), ("fail", "Decline"), ("delay", "Delay")))
    note = f"<p role='status'>{escape(message)}</p>" if message else ""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Sandbox payment</title></head><body><main>"
        f"<h1>Sandbox payment</h1><p>{escape(amount)} by {escape(row.method)}"
        f" - status <strong>{escape(row.status)}</strong></p>{note}"
        f"<form method='post'><input type='hidden' name='token' value='{escape(token)}'>"
        f"{buttons}</form></main></body></html>")


async def page(session: AsyncSession, provider: PaymentsProvider, intent_id: str,
               token: str | None) -> str:
    _, row = await _deposit(session, provider, intent_id, token)
    return page_html(row, token or "")
