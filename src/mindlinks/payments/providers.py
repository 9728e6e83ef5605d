"""The payments provider: a Protocol, the complete sandbox, and the Stripe adapter.

Both produce webhooks in Stripe's format - an `event` whose `data.object` is a PaymentIntent -
signed with Stripe's scheme (`Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`), so
one webhook code path (`payments/webhooks.py`) verifies, with the `stripe` package's own
verifier, and handles either.

Deposits: `card` gives a client secret for the provider's hosted payment page (the sandbox's
page is served by this app, `/payments/sandbox/{intentId}`); `bank_transfer` gives a reference
the client quotes on the transfer and the bank details to send it to.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import stripe
import structlog

from mindlinks.platform.errors import BadRequest, ServiceUnavailable
from mindlinks.platform.json_input import parse_json
from mindlinks.settings import Settings

log = structlog.get_logger("mindlinks.payments.providers")
SIGNATURE_HEADER = "Stripe-Signature"


class InvalidSignature(BadRequest):
    # 400, as Stripe's own libraries answer a signature that does not verify.
    code, title = "invalid_signature", "Invalid webhook signature"


class ProviderUnavailable(ServiceUnavailable):
    code = "payments_provider_unavailable"


@dataclass(frozen=True)
class DepositIntent:
    provider_ref: str  # the PaymentIntent id
    status: str
    client_secret: str | None = None
    hosted_url: str | None = None
    bank_reference: str | None = None
    bank_instructions: dict[str, str] = field(default_factory=dict)


class PaymentsProvider(Protocol):
    name: str

    @property
    def webhook_secret(self) -> str: ...

    async def create_deposit(self, *, amount: int, currency: str, method: str,
                             idempotency_key: str, metadata: dict[str, str]) -> DepositIntent:
        """Create a PaymentIntent for a client's deposit; `idempotency_key` makes a retry
        return the same intent."""
        ...


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header value, exactly as Stripe computes it."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(secret: str, body: bytes, header: str | None, tolerance: int) -> dict[str, Any]:
    """Check the signature with the `stripe` package's verifier (constant-time compare, any of
    several `v1` values for secret rotation, `tolerance` seconds on the timestamp) and parse."""
    try:
        stripe.WebhookSignature.verify_header(body.decode("utf-8"), header, secret,
                                              tolerance=tolerance)
        # The package checks only the past side; a timestamp far in the future is refused too.
        stamps = [int(p[2:]) for p in (header or "").split(",") if p.strip().startswith("t=")]
        if not stamps or stamps[0] > time.time() + tolerance:
            raise ValueError("timestamp outside the tolerance")
        event = parse_json(body)  # bounded nesting: the body is untrusted until parsed
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidSignature("The webhook signature does not verify") from exc
    if not isinstance(event, dict):
        raise InvalidSignature("The webhook body is not an event")
    return event


def intent_event(event_type: str, intent: dict[str, Any], *, event_id: str | None = None,
                 created: int | None = None) -> bytes:
    """A Stripe event body (what the sandbox delivers)."""
    body = {"id": event_id or f"evt_sandbox_{secrets.token_hex(12)}", "object": "event",
            "api_version": "2024-06-20", "created": created or int(time.time()),
            "livemode": False, "type": event_type, "data": {"object": intent}}
    return json.dumps(body, separators=(",", ":")).encode()


# --- sandbox --------------------------------------------------------------------------------


class SandboxProvider:
    """Complete and deterministic: intents live in our own deposit rows, the hosted page is
    served by this app and delivers Stripe-format events signed with the sandbox secret."""

    name = "sandbox"

    def __init__(self, *, secret: str, public_url: str) -> None:
        self._secret = secret
        self.public_url = public_url.rstrip("/")

    @property
    def webhook_secret(self) -> str:
        return self._secret

    def page_token(self, intent_id: str) -> str:
        return hmac.new(self._secret.encode(), f"page:{intent_id}".encode(),
                        hashlib.sha256).hexdigest()

    def page_token_valid(self, intent_id: str, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token), self.page_token(intent_id))

    def page_path(self, intent_id: str) -> str:
        return f"/payments/sandbox/{intent_id}?token={self.page_token(intent_id)}"

    async def create_deposit(self, *, amount: int, currency: str, method: str,
                             idempotency_key: str, metadata: dict[str, str]) -> DepositIntent:
        # The intent id is derived from the idempotency key and the parameters, as Stripe
        # returns the same intent for a retried create.
        digest = hmac.new(self._secret.encode(),
                          f"intent:{idempotency_key}:{amount}:{currency}:{method}".encode(),
                          hashlib.sha256).hexdigest()
        intent_id = f"pi_sandbox_{digest[:24]}"
        if method == "card":
            return DepositIntent(intent_id, "requires_payment_method",
                                 client_secret=f"{intent_id}_secret_{digest[24:48]}",
                                 hosted_url=self.public_url + self.page_path(intent_id))
        reference = f"MLD-{digest[:10].upper()}"
        return DepositIntent(intent_id, "requires_action", bank_reference=reference,
                             hosted_url=self.public_url + self.page_path(intent_id),
                             bank_instructions={
                                 "bankName": "Mind-Links Sandbox Bank",
                                 "accountHolder": "Mind-Links Client Funds",
                                 "iban": "GB33BUKB20201555555555", "bic": "BUKBGB22",
                                 "reference": reference})

    def signed_headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        return {SIGNATURE_HEADER: sign(self._secret, body, timestamp),
                "Content-Type": "application/json"}


# --- Stripe ---------------------------------------------------------------------------------


class StripeProvider:
    """Stripe's PaymentIntents API through the `stripe` package (async client). Card deposits
    use the Payment Element's client secret; bank transfers use a customer balance funded by
    a bank transfer, whose instructions Stripe returns on the confirmed intent."""

    name = "stripe"

    def __init__(self, *, api_key: str | None, webhook_secret: str | None,
                 client: stripe.StripeClient | None = None) -> None:
        self._secret = webhook_secret or ""
        self._client = client or stripe.StripeClient(api_key or "")

    @property
    def webhook_secret(self) -> str:
        return self._secret

    async def create_deposit(self, *, amount: int, currency: str, method: str,
                             idempotency_key: str, metadata: dict[str, str]) -> DepositIntent:
        params: Any = {"amount": amount, "currency": currency.lower(),
                                  "metadata": metadata}
        try:
            if method == "card":
                params["payment_method_types"] = ["card"]
            else:
                customer = await self._client.v1.customers.create_async(
                    params={"metadata": metadata},
                    options={"idempotency_key": f"{idempotency_key}:customer"})
                params.update(customer=customer.id, confirm=True,
                              payment_method_types=["customer_balance"],
                              payment_method_data={"type": "customer_balance"},
                              payment_method_options={"customer_balance": {
                                  "funding_type": "bank_transfer",
                                  "bank_transfer": {"type": "us_bank_transfer"}}})
            intent = await self._client.v1.payment_intents.create_async(
                params=params, options={"idempotency_key": idempotency_key})
        except stripe.StripeError as exc:
            log.warning("stripe_error", error=type(exc).__name__)
            raise ProviderUnavailable("The payments provider refused or could not be reached") \
                from exc
        if method == "card":
            return DepositIntent(intent.id, intent.status, client_secret=intent.client_secret)
        action: Any = intent.next_action
        shown: Any = getattr(action, "display_bank_transfer_instructions", None)
        reference = str(getattr(shown, "reference", "") or "")
        instructions = {"reference": reference, "hostedInstructionsUrl": str(
            getattr(shown, "hosted_instructions_url", "") or "")}
        return DepositIntent(intent.id, intent.status, bank_reference=reference,
                             bank_instructions=instructions)


def sandbox_secret(settings: Settings, app_secret: bytes) -> str:
    if settings.payments_sandbox_secret:
        return settings.payments_sandbox_secret
    return "whsec_" + hmac.new(app_secret, b"mindlinks.payments.sandbox",
                               hashlib.sha256).hexdigest()


def get_provider(app_state: Any) -> PaymentsProvider:
    """The application's provider (`app.state.payments_provider`), built on first use."""
    provider: PaymentsProvider | None = getattr(app_state, "payments_provider", None)
    if provider is None:
        settings: Settings = app_state.settings
        if settings.payments_provider == "stripe":
            provider = StripeProvider(api_key=settings.stripe_api_key,
                                      webhook_secret=settings.stripe_webhook_secret)
        else:
            provider = SandboxProvider(secret=sandbox_secret(settings, app_state.runtime.secret),
                                       public_url=settings.resolved_public_url)
        app_state.payments_provider = provider
    return provider


def production_problems(settings: Settings) -> list[str]:
    if settings.payments_provider == "sandbox":
        return ["MINDLINKS_PAYMENTS_PROVIDER is 'sandbox'; production needs 'stripe'"]
    return [f"MINDLINKS_{name.upper()} is not set"
            for name in ("stripe_api_key", "stripe_webhook_secret")
            if not getattr(settings, name)]
