"""Helpers for the KYC tests: contractors with tokens, images, the sandbox page and signed
webhook deliveries (signatures computed here, independently of the code under test)."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
from PIL import Image
from sqlalchemy import func, select

from mindlinks.kyc.models import KycDocument, KycSession, VerificationPayload
from mindlinks.platform.audit import AuditLog
from tests.contractors.conftest import make_contractor  # noqa: F401  (shared fixture)
from tests.factories import Account


def png(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


async def start(client: httpx.AsyncClient, who: Account, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/kyc/contractor/me/start", headers=who.headers,
                                 json=body or None)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def sandbox_secret(app: Any) -> bytes:
    """The sandbox's webhook secret, derived here the documented way (HMAC of the app secret)."""
    return hmac.new(app.state.runtime.secret, b"mindlinks.kyc.sandbox", hashlib.sha256).digest()


def signed(app: Any, body: bytes, *, secret: bytes | None = None, api_key: str = "sandbox"
           ) -> dict[str, str]:
    signature = hmac.new(secret or sandbox_secret(app), body, hashlib.sha256).hexdigest()
    return {"X-AUTH-CLIENT": api_key, "X-HMAC-SIGNATURE": signature,
            "Content-Type": "application/json"}


def decision(provider_session_id: str, status: str, *, reason: str | None = None,
             decision_time: str = "2026-01-05T10:00:00+00:00") -> bytes:
    return json.dumps({"status": "success", "verification": {
        "id": provider_session_id, "attemptId": str(uuid.uuid4()), "status": status,
        "reason": reason, "decisionTime": decision_time}}).encode()


async def deliver(client: httpx.AsyncClient, app: Any, body: bytes, *,
                  headers: dict[str, str] | None = None, provider: str = "sandbox"
                  ) -> httpx.Response:
    return await client.post(f"/api/kyc/webhooks/{provider}", content=body,
                             headers=signed(app, body) if headers is None else headers)


def page_token(started: dict[str, Any]) -> str:
    """The page token of a started session: the one in the link the contractor was given."""
    match = re.search(r"\?token=([0-9a-f]+)$", started["veriffSessionUrl"])
    assert match, started
    return match.group(1)


async def sandbox_decide(client: httpx.AsyncClient, started: dict[str, Any] | str,
                         decision: str, reason: str | None = None, *,
                         headers: dict[str, str] | None = None) -> httpx.Response:
    """Post a scripted decision; for a started session (dict) with its page token."""
    body: dict[str, Any] = {"decision": decision}
    if reason:
        body["reason"] = reason
    if isinstance(started, dict):
        session_id, body["token"] = started["sessionId"], page_token(started)
    else:
        session_id = started
    return await client.post(f"/api/kyc/sandbox/sessions/{session_id}/decision", json=body,
                             headers=headers)


def page_link(started: dict[str, Any]) -> str:
    url = started["veriffSessionUrl"]
    match = re.search(r"(/kyc/sandbox/[0-9a-f-]+\?token=[0-9a-f]+)$", url)
    assert match, url
    return match.group(1)


async def submit_page(client: httpx.AsyncClient, started: dict[str, Any], *,
                      id_image: bytes | None = None, selfie: bytes | None = None,
                      expiry: date | None = None, document_type: str = "passport"
                      ) -> httpx.Response:
    link = page_link(started)
    page = await client.get(link)
    assert page.status_code == 200, page.text
    token = re.search(r"name=token value='([0-9a-f]+)'", page.text)
    assert token, page.text
    files: dict[str, Any] = {}
    if id_image is not None:
        files["idDocument"] = ("id.png", id_image, "image/png")
    if selfie is not None:
        files["selfie"] = ("me.png", selfie, "image/png")
    data = {"token": token.group(1), "documentType": document_type,
            "expiryDate": expiry.isoformat() if expiry else ""}
    return await client.post(link.split("?")[0], data=data, files=files or {"none": ("", b"")})


def future() -> date:
    return date.today() + timedelta(days=365)


async def status_of(client: httpx.AsyncClient, who: Account) -> dict[str, Any]:
    response = await client.get("/api/kyc/contractor/me/status", headers=who.headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def profile_kyc(client: httpx.AsyncClient, who: Account) -> str:
    response = await client.get("/api/contractors/me", headers=who.headers)
    assert response.status_code == 200, response.text
    return str(response.json()["kycStatus"])


async def count(app: Any, model: Any, *where: Any) -> int:
    async with app.state.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where))
                   or 0)


async def session_row(app: Any, session_id: str) -> KycSession:
    async with app.state.db.session() as session:
        row = await session.get(KycSession, uuid.UUID(session_id))
        assert row is not None
        return row


__all__ = ["AuditLog", "KycDocument", "VerificationPayload"]
