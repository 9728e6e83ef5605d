"""The sandbox provider's side that runs in this app: the verification page
(`/kyc/sandbox/{sessionId}?token=...`) and the scripted decision endpoint. Both end by
delivering a decision webhook signed with the sandbox secret to `webhooks.receive` - the same
code path as Veriff's webhooks.

The page decides deterministically:
- no readable ID image (JPEG/PNG)          -> `resubmission_requested`;
- the expiry date typed is before today    -> `declined` (document expired);
- no readable selfie image                 -> `resubmission_requested`;
- otherwise                                -> `approved`.
"""

from __future__ import annotations

import html
import uuid
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.kyc import repository as repo
from mindlinks.kyc import service, webhooks
from mindlinks.kyc.models import ID_DOCUMENT_TYPES, OPEN_STATUSES, KycSession, SessionStatus
from mindlinks.kyc.providers import KycProvider, SandboxProvider, decision_body
from mindlinks.platform.db import utcnow
from mindlinks.platform.errors import InvalidTransition, NotFound, PayloadTooLarge, ValidationFailed
from mindlinks.platform.security import Actor
from mindlinks.platform.storage import StorageBackend, store_upload


class SandboxNotActive(NotFound):
    code = "kyc_sandbox_not_active"


class InvalidDate(ValidationFailed):
    code, title = "invalid_date", "Invalid date"


def active_sandbox(provider: KycProvider) -> SandboxProvider:
    if not isinstance(provider, SandboxProvider):
        raise SandboxNotActive("The sandbox verification provider is not active")
    return provider


async def _session(session: AsyncSession, provider: SandboxProvider, kyc_id: uuid.UUID,
                   token: str | None = None, *, check_token: bool) -> KycSession:
    kyc = await repo.session_by_id(session, kyc_id, for_update=True)
    if kyc is None or kyc.provider != provider.name or (
            check_token and not provider.page_token_valid(kyc_id, token)):
        raise service.KycSessionNotFound("No such verification session")
    return kyc


async def deliver(session: AsyncSession, provider: SandboxProvider, kyc: KycSession,
                  decision: str, reason: str | None) -> webhooks.Outcome:
    """Sign a decision as the provider would and hand it to the webhook inbox."""
    assert kyc.provider_session_id is not None
    body = decision_body(provider_session_id=kyc.provider_session_id, status=decision,
                         reason=reason, decision_time=utcnow().isoformat(),
                         vendor_data=str(kyc.id))
    return await webhooks.receive(session, provider, provider.name, body,
                                  provider.signed_headers(body))


async def scripted_decision(
    session: AsyncSession, provider: KycProvider, kyc_id: uuid.UUID, decision: str,
    reason: str | None, *, token: str | None, actor: Actor | None,
) -> tuple[KycSession, webhooks.Outcome]:
    """Decide a sandbox session as the provider would. Only whoever holds the session's page
    link (its token) or the session's owner may: anyone else - anonymous, a forged token,
    another user - gets 404 `kyc_session_not_found`, as for an unknown session."""
    sandbox = active_sandbox(provider)
    kyc = await _session(session, sandbox, kyc_id, check_token=False)
    owner = actor is not None and actor.user_id == kyc.user_id
    if not owner and not sandbox.page_token_valid(kyc_id, token):
        raise service.KycSessionNotFound("No such verification session")
    outcome = await deliver(session, sandbox, kyc, decision, reason)
    return kyc, outcome


async def _store_image(session: AsyncSession, storage: StorageBackend, upload: Any,
                       kyc: KycSession, kind: str) -> Any:
    """The stored file, or None when missing, empty or not a readable JPEG/PNG image."""
    if upload is None or isinstance(upload, str) or not getattr(upload, "filename", None):
        return None
    try:
        return await store_upload(storage, upload, purpose=service.KYC_IMAGE,
                                  key_prefix=("kyc", kyc.contractor_id, kind),
                                  filename=upload.filename, session=session)
    except (ValidationFailed, PayloadTooLarge):
        return None


async def submit_page(
    session: AsyncSession, provider: KycProvider, storage: StorageBackend, kyc_id: uuid.UUID,
    form: Any,
) -> tuple[KycSession, str, str | None]:
    """Handle the page's form: store the images, mark the session submitted (`processing`),
    decide, deliver the signed decision. Returns the session, the decision and its reason."""
    sandbox = active_sandbox(provider)
    kyc = await _session(session, sandbox, kyc_id, form.get("token"), check_token=True)
    if kyc.status not in (SessionStatus.PENDING, SessionStatus.RESUBMISSION_REQUESTED):
        raise InvalidTransition(f"This verification is {kyc.status}; nothing to submit")
    doc_type = str(form.get("documentType") or "passport")
    if doc_type not in ID_DOCUMENT_TYPES:
        raise ValidationFailed("documentType must be passport, national_id or drivers_license")
    try:
        raw_expiry = str(form.get("expiryDate") or "")
        expiry = date.fromisoformat(raw_expiry) if raw_expiry else None
    except ValueError as exc:
        raise InvalidDate("expiryDate must be YYYY-MM-DD") from exc
    id_file = await _store_image(session, storage, form.get("idDocument"), kyc, doc_type)
    selfie = await _store_image(session, storage, form.get("selfie"), kyc, "selfie")
    if id_file is not None:
        await service.record_document(session, kyc, doc_type, id_file, actor=None,
                                      expiry_date=expiry)
    if selfie is not None:
        await service.record_document(session, kyc, "selfie", selfie, actor=None)
    await service.transition(session, kyc, SessionStatus.PROCESSING, actor=None,
                             source="sandbox")
    if id_file is None:
        decision, reason = "resubmission_requested", "ID document missing or unreadable"
    elif expiry is not None and expiry < utcnow().date():
        decision, reason = "declined", "ID document expired"
    elif expiry is None:
        decision, reason = "resubmission_requested", "ID document expiry date missing"
    elif selfie is None:
        decision, reason = "resubmission_requested", "Selfie missing or unreadable"
    else:
        decision, reason = "approved", None
    await deliver(session, sandbox, kyc, decision, reason)
    return kyc, decision, reason


_STYLE = ("body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}"
          "label{display:block;margin:1rem 0 .25rem}button{margin-top:1.5rem;padding:.5rem 1rem}"
          ".note{color:#555;font-size:.9rem}")


def page_html(kyc: KycSession, token: str, message: str | None = None) -> str:
    sid = html.escape(str(kyc.id))
    status = html.escape(kyc.status)
    head = (f"<!doctype html><html lang=en><head><meta charset=utf-8>"
            f"<meta name=viewport content='width=device-width,initial-scale=1'>"
            f"<title>Identity verification (sandbox)</title><style>{_STYLE}</style></head><body>"
            f"<h1>Identity verification</h1><p class=note>Sandbox provider - no real check is "
            f"made. Session <code>{sid}</code>, status <strong>{status}</strong>.</p>")
    if message:
        head += f"<p role=status><strong>{html.escape(message)}</strong></p>"
    if kyc.status not in OPEN_STATUSES or kyc.status == SessionStatus.PROCESSING:
        return head + "</body></html>"
    return head + (
        f"<form method=post action='/kyc/sandbox/{sid}' enctype='multipart/form-data'>"
        f"<input type=hidden name=token value='{html.escape(token)}'>"
        "<label for=documentType>Document type</label>"
        "<select id=documentType name=documentType><option value=passport>Passport</option>"
        "<option value=national_id>National ID</option>"
        "<option value=drivers_license>Driver's licence</option></select>"
        "<label for=idDocument>Photo of the ID document (JPEG or PNG)</label>"
        "<input id=idDocument type=file name=idDocument accept='image/jpeg,image/png'>"
        "<label for=expiryDate>Document expiry date</label>"
        "<input id=expiryDate type=date name=expiryDate>"
        "<label for=selfie>Selfie (JPEG or PNG)</label>"
        "<input id=selfie type=file name=selfie accept='image/jpeg,image/png'>"
        "<button type=submit>Submit for verification</button></form></body></html>")


async def page(session: AsyncSession, provider: KycProvider, kyc_id: uuid.UUID,
               token: str | None) -> str:
    sandbox = active_sandbox(provider)
    kyc = await _session(session, sandbox, kyc_id, token, check_token=True)
    return page_html(kyc, token or "")
