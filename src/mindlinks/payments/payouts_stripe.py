"""Stripe Connect payouts: the platform's money goes to the contractor's connected account (a
Transfer), then from that account to their bank (a Payout on the connected account).

- The connected account (`acct_...`) is made on the first payout to a bank account - a Custom
  account whose external account is that bank account - and kept in
  `payment_payout_destinations` by the caller, so it is made once.
- Every call carries an idempotency key derived from the withdrawal's (`withdrawal:{id}`
  + `:transfer` / `:payout`; `connect:{bankAccountId}` for the account), so a retried worker
  gets the first transfer and payout back from Stripe instead of paying twice (Stripe keeps
  keys 24 hours; the worker retries well within that).
- Stripe's answers: an `invalid_request_error` or a card/bank error is a definitive refusal
  (`PayoutRefused`: the withdrawal fails, its hold is voided); a network error, a rate limit or
  a 5xx is `ProviderUnavailable` (the delivery is retried).
"""

from __future__ import annotations

from typing import Any

import stripe
import structlog

from mindlinks.payments.payouts import PayoutRefused, PayoutRequest, PayoutResult
from mindlinks.payments.providers import ProviderUnavailable

log = structlog.get_logger("mindlinks.payments.payouts")

_TRANSIENT = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


class StripePayouts:
    name = "stripe"
    methods = frozenset({"bank_transfer"})

    def __init__(self, *, api_key: str | None, client: stripe.StripeClient | None = None) -> None:
        self._client = client or stripe.StripeClient(api_key or "")

    async def _connected_account(self, request: PayoutRequest) -> str:
        if request.connected_account:
            return request.connected_account
        bank: dict[str, Any] = {
            "object": "bank_account", "country": request.country,
            "currency": request.bank_currency.lower(),
            "account_holder_name": request.account_holder_name,
            "account_holder_type": "individual",
            "account_number": request.iban or request.account_number or ""}
        if request.routing_number:
            bank["routing_number"] = request.routing_number
        params: Any = {"type": "custom", "country": request.country,
                       "capabilities": {"transfers": {"requested": True}},
                       "business_type": "individual", "external_account": bank,
                       "metadata": {"contractorId": str(request.contractor_id),
                                    "bankAccountId": str(request.bank_account_id)}}
        account = await self._client.v1.accounts.create_async(
            params=params, options={"idempotency_key": f"connect:{request.bank_account_id}"})
        return str(account.id)

    async def create_payout(self, request: PayoutRequest) -> PayoutResult:
        metadata = {"withdrawalId": str(request.withdrawal_id)}
        try:
            account = await self._connected_account(request)
            transfer = await self._client.v1.transfers.create_async(
                params={"amount": request.amount, "currency": request.currency.lower(),
                        "destination": account, "metadata": metadata,
                        "transfer_group": f"withdrawal_{request.withdrawal_id}"},
                options={"idempotency_key": f"{request.idempotency_key}:transfer"})
            payout = await self._client.v1.payouts.create_async(
                params={"amount": request.amount, "currency": request.currency.lower(),
                        "metadata": metadata},
                options={"idempotency_key": f"{request.idempotency_key}:payout",
                         "stripe_account": account})
        except _TRANSIENT as exc:
            log.warning("stripe_payout_unavailable", error=type(exc).__name__)
            raise ProviderUnavailable("The payout provider could not be reached") from exc
        except stripe.StripeError as exc:
            log.warning("stripe_payout_refused", error=type(exc).__name__,
                        code=getattr(exc, "code", None))
            raise PayoutRefused(str(getattr(exc, "user_message", None) or "refused by Stripe")
                                [:500]) from exc
        return PayoutResult(payout_ref=str(payout.id), status=str(payout.status),
                            transfer_ref=str(transfer.id), connected_account=account)
