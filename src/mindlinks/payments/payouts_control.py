"""The sandbox payout provider's control: play the bank's side of a payout - it is paid, it
fails, or it is paid and then fails (Stripe reports `payout.failed` days after `payout.paid`
when the bank returns the money). The sandbox's store changes and the Stripe-format events are
delivered, signed with the sandbox secret, through `webhooks.receive` - the code path of real
Stripe events. `mindlinks payouts sandbox <withdrawalId> <outcome>` (payouts_cli) runs it.
"""

from __future__ import annotations

import uuid
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.payments import payouts, webhooks
from mindlinks.payments.providers import SIGNATURE_HEADER, PaymentsProvider, sign
from mindlinks.payments.withdrawals import hold_reference
from mindlinks.payments.withdrawals_models import Withdrawal
from mindlinks.platform.errors import Conflict, NotFound

Outcome = Literal["complete", "fail", "fail-after-paid"]
STEPS: dict[str, list[tuple[str, str]]] = {
    "complete": [("payout.paid", "paid")],
    "fail": [("payout.failed", "failed")],
    "fail-after-paid": [("payout.paid", "paid"), ("payout.failed", "failed")],
}


class SandboxPayoutNotFound(NotFound):
    code, title = "sandbox_payout_not_found", "No such sandbox payout"


class SandboxPayoutNotSent(Conflict):
    code, title = "sandbox_payout_not_sent", "The worker has not sent this payout yet"


async def act(session: AsyncSession, provider: PaymentsProvider, withdrawal_id: uuid.UUID,
              outcome: Outcome) -> list[str]:
    """Deliver the outcome's events in order; returns each event's handling outcome."""
    sandbox = payouts.installed(session)
    if not isinstance(sandbox, payouts.SandboxPayouts) or provider.name != sandbox.name:
        raise SandboxPayoutNotFound("The sandbox payout provider is not in use")
    row = await session.get(Withdrawal, withdrawal_id)
    if row is None:
        raise SandboxPayoutNotFound("No such withdrawal")
    stored = sandbox.by_key(hold_reference(row.id))
    if stored is None:
        raise SandboxPayoutNotSent("Run the worker first: the payout was not sent yet")
    results = []
    for event_type, status in STEPS[outcome]:
        sandbox.set_status(stored.idempotency_key, status)
        failed = status == "failed"
        body = payouts.payout_event(event_type, payouts.payout_object(
            payout_ref=stored.payout_ref, amount=stored.amount, currency=stored.currency,
            status=status, withdrawal_id=row.id,
            failure_code="account_closed" if failed else None,
            failure_message="The bank account has been closed" if failed else None))
        headers = {SIGNATURE_HEADER: sign(provider.webhook_secret, body),
                   "Content-Type": "application/json"}
        result, _ = await webhooks.receive(session, provider, sandbox.name, body, headers)
        results.append(f"{event_type}: {result}")
    return results
