"""Identity verification providers: a `KycProvider` Protocol, the sandbox provider and the Veriff
adapter. Both sign their decision webhooks the same way (Veriff's scheme), so one webhook code
path (`kyc/webhooks.py`) verifies and handles either:

- `X-AUTH-CLIENT`: the integration's API key (the sandbox's is `sandbox`);
- `X-HMAC-SIGNATURE`: lowercase hex HMAC-SHA256 of the raw request body with the shared secret.

Decision bodies follow Veriff's decision webhook: `{"status": "success", "verification": {"id",
"attemptId", "vendorData", "status", "code", "reason", "reasonCode", "decisionTime", ...}}`,
with `verification.status` one of approved | declined | resubmission_requested | expired |
abandoned | review.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import structlog

from mindlinks.platform.errors import ServiceUnavailable
from mindlinks.settings import Settings

log = structlog.get_logger("mindlinks.kyc.providers")

AUTH_HEADER = "X-AUTH-CLIENT"
SIGNATURE_HEADER = "X-HMAC-SIGNATURE"
SANDBOX_API_KEY = "sandbox"

# Veriff's decision statuses and their codes (verification session status codes table).
DECISION_CODES = {"approved": 9001, "declined": 9102, "resubmission_requested": 9103,
                  "expired": 9104, "abandoned": 9121}


class ProviderUnavailable(ServiceUnavailable):
    code = "kyc_provider_unavailable"


def sign(secret: bytes, body: bytes) -> str:
    """Veriff's `X-HMAC-SIGNATURE`: hex HMAC-SHA256 of the exact bytes sent."""
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def signature_valid(secret: bytes, api_key: str, body: bytes, headers: Mapping[str, str]
                    ) -> bool:
    """Both headers present, the API key ours, the signature that of these very bytes."""
    given_key = headers.get(AUTH_HEADER) or headers.get(AUTH_HEADER.lower())
    given_sig = headers.get(SIGNATURE_HEADER) or headers.get(SIGNATURE_HEADER.lower())
    if not given_key or not given_sig or not secret:
        return False
    key_ok = hmac.compare_digest(given_key.encode(), api_key.encode())
    sig_ok = hmac.compare_digest(given_sig.strip().lower().encode(), sign(secret, body).encode())
    return key_ok and sig_ok


@dataclass(frozen=True)
class ProviderSession:
    provider_session_id: str
    url: str


@dataclass(frozen=True)
class Decision:
    """A provider's verdict, as read from a decision webhook body."""

    provider_session_id: str
    status: str  # approved | declined | resubmission_requested | expired | abandoned | review
    code: int | None = None
    reason: str | None = None
    reason_code: str | None = None
    decision_time: str | None = None
    vendor_data: str | None = None
    attempt_id: str | None = None

    def as_result(self) -> dict[str, Any]:
        return {"status": self.status, "code": self.code, "reason": self.reason,
                "reasonCode": self.reason_code, "decisionTime": self.decision_time,
                "attemptId": self.attempt_id}


class MalformedPayload(ValueError):
    pass


def parse_decision(body: dict[str, Any]) -> Decision:
    """Read a Veriff-format decision body (the sandbox sends the same format)."""
    verification = body.get("verification")
    if not isinstance(verification, dict) or not verification.get("id") \
            or not isinstance(verification.get("status"), str):
        raise MalformedPayload("a decision needs verification.id and verification.status")
    code = verification.get("code")
    reason_code = verification.get("reasonCode")
    return Decision(
        provider_session_id=str(verification["id"]),
        status=str(verification["status"]).lower(),
        code=int(code) if isinstance(code, int | str) and str(code).isdigit() else None,
        reason=str(verification["reason"]) if verification.get("reason") else None,
        reason_code=str(reason_code) if reason_code is not None else None,
        decision_time=str(verification.get("decisionTime") or "") or None,
        vendor_data=str(verification["vendorData"]) if verification.get("vendorData") else None,
        attempt_id=str(verification["attemptId"]) if verification.get("attemptId") else None,
    )


# Veriff's optional event webhook (its own "Webhook events URL", pointed at the same endpoint;
# signed the same way): the person's progress, never a decision.
# `{"id", "attemptId", "feature", "code": 7001|7002, "action": "started"|"submitted", ...}`.
EVENT_CODES = {"started": 7001, "submitted": 7002}


@dataclass(frozen=True)
class Event:
    provider_session_id: str
    action: str  # started | submitted (others are kept and ignored)
    code: int | None = None
    attempt_id: str | None = None


def parse_event(body: dict[str, Any]) -> Event:
    if not body.get("id") or not isinstance(body.get("action"), str):
        raise MalformedPayload("an event needs id and action")
    code = body.get("code")
    return Event(
        provider_session_id=str(body["id"]),
        action=str(body["action"]).lower(),
        code=int(code) if isinstance(code, int | str) and str(code).isdigit() else None,
        attempt_id=str(body["attemptId"]) if body.get("attemptId") else None,
    )


def webhook_kind(body: Any) -> str:
    """`decision` (a `verification` object) or `event` (an `action`); anything else is
    malformed."""
    if isinstance(body, dict) and "verification" in body:
        return "decision"
    if isinstance(body, dict) and "action" in body:
        return "event"
    raise MalformedPayload("neither a decision nor an event")


def event_body(*, provider_session_id: str, action: str, attempt_id: str | None = None,
               vendor_data: str | None = None) -> bytes:
    """An event webhook body in Veriff's format."""
    body = {"id": provider_session_id, "attemptId": attempt_id or str(uuid.uuid4()),
            "feature": "selfid", "code": EVENT_CODES.get(action), "action": action,
            "vendorData": vendor_data}
    return json.dumps(body, separators=(",", ":")).encode()


def decision_body(*, provider_session_id: str, status: str, reason: str | None,
                  decision_time: str, vendor_data: str | None = None,
                  reason_code: int | None = None, attempt_id: str | None = None) -> bytes:
    """A decision webhook body in Veriff's format (what the sandbox delivers)."""
    body = {
        "status": "success",
        "verification": {
            "id": provider_session_id,
            "attemptId": attempt_id or str(uuid.uuid4()),
            "vendorData": vendor_data,
            "status": status,
            "code": DECISION_CODES.get(status),
            "reason": reason,
            "reasonCode": reason_code,
            "decisionTime": decision_time,
            "acceptanceTime": decision_time,
        },
    }
    return json.dumps(body, separators=(",", ":")).encode()


class KycProvider(Protocol):
    name: str
    api_key: str

    @property
    def webhook_secret(self) -> bytes: ...

    async def create_session(self, *, session_id: uuid.UUID, first_name: str | None,
                             last_name: str | None, callback_url: str) -> ProviderSession:
        """Open a verification session at the provider; its URL is where the person goes."""
        ...


# --- sandbox --------------------------------------------------------------------------------


class SandboxProvider:
    """Complete and deterministic: the verification page is served by this app
    (`/kyc/sandbox/{sessionId}?token=...`, see `kyc/sandbox.py`), which decides and delivers a
    decision webhook signed exactly as Veriff signs, with this provider's own secret."""

    name = "sandbox"
    api_key = SANDBOX_API_KEY

    def __init__(self, *, secret: bytes, public_url: str) -> None:
        self._secret = secret
        self.public_url = public_url.rstrip("/")

    @property
    def webhook_secret(self) -> bytes:
        return self._secret

    def page_token(self, session_id: uuid.UUID | str) -> str:
        """Bearer of the sandbox page: only the link handed to the contractor opens it."""
        return hmac.new(self._secret, f"page:{session_id}".encode(), hashlib.sha256).hexdigest()

    def page_token_valid(self, session_id: uuid.UUID | str, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token), self.page_token(session_id))

    def page_path(self, session_id: uuid.UUID | str) -> str:
        return f"/kyc/sandbox/{session_id}?token={self.page_token(session_id)}"

    async def create_session(self, *, session_id: uuid.UUID, first_name: str | None,
                             last_name: str | None, callback_url: str) -> ProviderSession:
        return ProviderSession(str(session_id), self.public_url + self.page_path(session_id))

    def signed_headers(self, body: bytes) -> dict[str, str]:
        return {AUTH_HEADER: self.api_key, SIGNATURE_HEADER: sign(self._secret, body),
                "Content-Type": "application/json"}


# --- Veriff ---------------------------------------------------------------------------------


class VeriffProvider:
    """Veriff's public API v1: `POST {base}/v1/sessions` with the API key as `X-AUTH-CLIENT` and
    the body signed as `X-HMAC-SIGNATURE`; the answer's `verification.id` and
    `verification.url` are the session id and the URL the person opens."""

    name = "veriff"

    def __init__(self, *, api_key: str | None, shared_secret: str | None,
                 base_url: str = "https://stationapi.veriff.com", timeout: float = 10.0,
                 client: httpx.AsyncClient | None = None) -> None:
        self.api_key = api_key or ""
        self._secret = (shared_secret or "").encode()
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._client = client

    @property
    def webhook_secret(self) -> bytes:
        return self._secret

    async def create_session(self, *, session_id: uuid.UUID, first_name: str | None,
                             last_name: str | None, callback_url: str) -> ProviderSession:
        payload: dict[str, Any] = {"verification": {"callback": callback_url,
                                                    "vendorData": str(session_id)}}
        person = {k: v for k, v in (("firstName", first_name), ("lastName", last_name)) if v}
        if person:
            payload["verification"]["person"] = person
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", AUTH_HEADER: self.api_key,
                   SIGNATURE_HEADER: sign(self._secret, body)}
        url = self.base_url + "/v1/sessions"
        try:
            if self._client is not None:
                response = await self._client.post(url, content=body, headers=headers,
                                                   timeout=self.timeout)
            else:
                async with httpx.AsyncClient(timeout=self.timeout) as client:
                    response = await client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("veriff_unreachable", error=type(exc).__name__)
            raise ProviderUnavailable("The verification provider could not be reached") from exc
        if response.status_code not in (200, 201):
            log.warning("veriff_error", status=response.status_code)
            raise ProviderUnavailable(f"The verification provider answered {response.status_code}")
        try:
            verification = response.json()["verification"]
            return ProviderSession(str(verification["id"]), str(verification["url"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ProviderUnavailable("The verification provider answered unexpectedly") from exc


def sandbox_secret(settings: Settings, app_secret: bytes) -> bytes:
    if settings.kyc_sandbox_secret:
        return settings.kyc_sandbox_secret.encode()
    return hmac.new(app_secret, b"mindlinks.kyc.sandbox", hashlib.sha256).digest()


def provider_from_settings(settings: Settings, app_secret: bytes) -> KycProvider:
    if settings.kyc_provider == "veriff":
        return VeriffProvider(api_key=settings.veriff_api_key,
                              shared_secret=settings.veriff_shared_secret,
                              base_url=settings.veriff_base_url,
                              timeout=settings.kyc_http_timeout_seconds)
    return SandboxProvider(secret=sandbox_secret(settings, app_secret),
                           public_url=settings.resolved_public_url)


def get_provider(app_state: Any) -> KycProvider:
    """The application's provider (`app.state.kyc_provider`), built on first use."""
    provider: KycProvider | None = getattr(app_state, "kyc_provider", None)
    if provider is None:
        provider = provider_from_settings(app_state.settings, app_state.runtime.secret)
        app_state.kyc_provider = provider
    return provider


def production_problems(settings: Settings) -> list[str]:
    problems = []
    if settings.kyc_provider == "sandbox":
        problems.append("MINDLINKS_KYC_PROVIDER is 'sandbox'; production needs 'veriff'")
    else:
        if not settings.veriff_api_key:
            problems.append("MINDLINKS_VERIFF_API_KEY is not set")
        if not settings.veriff_shared_secret:
            problems.append("MINDLINKS_VERIFF_SHARED_SECRET is not set")
    return problems
