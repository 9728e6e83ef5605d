"""Contractor invitations (seed table client-invitations).

- Only a verified company invites; each company may send `invitations_per_client_per_hour`
  invitation mails an hour (create + resend), then 429.
- The token is 32 random bytes (URL-safe base64), mailed as a link built from the configured
  public URL (never from a request's Host header) and stored only as its SHA-256 digest.
  A resend makes a new token, so an older link stops working.
- Status `pending -> accepted | revoked`; a pending invitation past `expiresAt` (7 days) reads
  as `expired`; resending an expired one makes it pending again. Anything else is 409
  `invalid_transition`.
- The public endpoints answer 404 for a token that never existed and 410 for one that was
  accepted, revoked or has expired.
- Accepting links the contractor to the company. Someone without an account gets a
  contractor account made through `auth.service.register` (so every registration hook runs)
  and is signed in; a signed-in contractor whose email is the invited one is linked as is.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.auth import service as auth_service
from mindlinks.auth.schemas import RegisterRequest
from mindlinks.clients import repository as repo
from mindlinks.clients import service
from mindlinks.clients.models import ClientCompany, ClientInvitation, InvitationStatus
from mindlinks.clients.schemas import (
    AcceptInvitation,
    Invitation,
    InvitationAccepted,
    InvitationCreate,
    PublicInvitation,
)
from mindlinks.platform import audit
from mindlinks.platform.api import RowWith
from mindlinks.platform.db import after_commit, utcnow
from mindlinks.platform.errors import (
    Conflict,
    DomainError,
    ForbiddenRole,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from mindlinks.platform.events import emit
from mindlinks.platform.middleware import request_context
from mindlinks.platform.ratelimit import enforce
from mindlinks.platform.runtime import Runtime
from mindlinks.platform.security import Actor, Role, token_digest
from mindlinks.platform.states import StateMachine
from mindlinks.platform.storage import StorageBackend


class Gone(DomainError):
    """The resource existed and is no longer usable (an accepted, revoked or expired link)."""

    status, code, title = 410, "gone", "Gone"


class InvitationNotFound(NotFound):
    code, title = "invitation_not_found", "Invitation not found"


class InvitationPending(Conflict):
    code = "invitation_already_pending"


class InvitationEmailMismatch(PermissionDenied):
    code, title = "invitation_email_mismatch", "The invitation is for another email address"


class PasswordRequired(ValidationFailed):
    code = "password_required"


class InvitationAlreadyAccepted(Gone):
    code, title = "invitation_accepted", "Invitation already used"


class InvitationRevoked(Gone):
    code, title = "invitation_revoked", "Invitation withdrawn"


class InvitationExpired(Gone):
    code, title = "invitation_expired", "Invitation expired"


class ContractorProfileMissing(Conflict):
    code, title = "contractor_profile_missing", "The contractor profile is missing"


_GONE: dict[InvitationStatus, tuple[type[Gone], str]] = {
    InvitationStatus.ACCEPTED: (
        InvitationAlreadyAccepted, "This invitation has already been used."
    ),
    InvitationStatus.REVOKED: (InvitationRevoked, "This invitation was withdrawn."),
    InvitationStatus.EXPIRED: (InvitationExpired, "This invitation has expired."),
}

# What each action may start from (on the effective status, expiry included). Acceptance is a
# conditional UPDATE in the repository (pending and not expired), so two cannot both win.
INVITATION_STATES = StateMachine.from_actions({
    "resend": {InvitationStatus.PENDING: InvitationStatus.PENDING,
               InvitationStatus.EXPIRED: InvitationStatus.PENDING},
    "revoke": {InvitationStatus.PENDING: InvitationStatus.REVOKED,
               InvitationStatus.EXPIRED: InvitationStatus.REVOKED},
})


def effective_status(invitation: ClientInvitation, now: datetime | None = None) -> str:
    """The stored status, except that a pending invitation past its expiry is `expired`."""
    now = now or utcnow()
    if invitation.status == InvitationStatus.PENDING and invitation.expires_at <= now:
        return InvitationStatus.EXPIRED
    return invitation.status


def invitation_out(invitation: ClientInvitation) -> Invitation:
    return Invitation.model_validate(RowWith(
        invitation,
        status=effective_status(invitation),
    ))


async def _verified_company(session: AsyncSession, actor: Actor) -> ClientCompany:
    company = await service.own_company(session, actor)
    if company.verification_status != "verified":
        raise service.CompanyNotVerified(
            "Only a verified company can invite contractors; verification is "
            f"{company.verification_status}."
        )
    return company


async def _throttle_mail(rt: Runtime, company: ClientCompany) -> None:
    await enforce(rt.limiter, f"invite:client:{company.id}",
                  limit=rt.settings.invitations_per_client_per_hour, window=3600)


def _new_token(rt: Runtime, now: datetime) -> tuple[str, str, datetime]:
    token = secrets.token_urlsafe(32)  # 32 random bytes
    return token, token_digest(token), now + timedelta(seconds=rt.settings.invitation_ttl_seconds)


def _send(session: AsyncSession, rt: Runtime, company: ClientCompany,
          invitation: ClientInvitation, token: str) -> None:
    """Mail the link once the transaction has committed (never for a rolled-back request)."""
    link = f"{rt.settings.resolved_public_url}/invitations/{token}"
    company_name = company.trading_name or company.legal_name
    greeting = f"Hello {invitation.name},\n\n" if invitation.name else "Hello,\n\n"
    note = f"\nTheir message:\n{invitation.message}\n" if invitation.message else ""
    days = max(1, rt.settings.invitation_ttl_seconds // 86400)
    text = (
        f"{greeting}{company_name} invites you to work with them on Mind-Links.\n{note}\n"
        f"Accept the invitation within {days} days:\n{link}\n\n"
        "If you did not expect this, ignore this message; nothing happens."
    )
    to = invitation.email

    async def _mail() -> None:
        rt.mailer.send_later(to=to, subject=f"{company_name} invites you to Mind-Links",
                             text=text)

    after_commit(session, _mail)


async def invite(
    session: AsyncSession, actor: Actor, rt: Runtime, data: InvitationCreate
) -> ClientInvitation:
    """Invite a contractor by email (verified companies only; 403 `company_not_verified`).
    A second invitation while one to the same address is still open is 409
    `invitation_already_pending` (resend that one instead)."""
    company = await _verified_company(session, actor)
    email = str(data.email).strip().lower()
    now = utcnow()
    if await repo.open_invitation_for(session, company.id, email, now) is not None:
        raise InvitationPending("An invitation to this address is still open; resend it")
    await _throttle_mail(rt, company)
    token, digest, expires_at = _new_token(rt, now)
    invitation = ClientInvitation(
        id=uuid.uuid4(), client_id=company.id, email=email, name=data.name,
        message=data.message, token_hash=digest, status=InvitationStatus.PENDING,
        expires_at=expires_at, sent_at=now, send_count=1, invited_by=actor.user_id,
    )
    session.add(invitation)
    await session.flush()
    await audit.record(session, actor, "client.invitation.sent", "client_invitation",
                       invitation.id, {"clientId": str(company.id)})
    await emit(session, "client.invitation.sent",
               {"clientId": company.id, "invitationId": invitation.id})
    _send(session, rt, company, invitation, token)
    return invitation


async def own_invitations(
    session: AsyncSession, actor: Actor, *, offset: int, limit: int
) -> tuple[list[ClientInvitation], int]:
    await service.own_company(session, actor)
    return await repo.invitation_page(session, actor, offset=offset, limit=limit)


async def _own_invitation(
    session: AsyncSession, actor: Actor, invitation_id: uuid.UUID
) -> ClientInvitation:
    invitation = await repo.readable_invitation(session, actor, invitation_id)
    if invitation is None:
        raise InvitationNotFound()
    return invitation


async def resend(
    session: AsyncSession, actor: Actor, rt: Runtime, invitation_id: uuid.UUID
) -> ClientInvitation:
    """Mail a new link (new token, new 7-day expiry); the previous link stops working.
    Accepted or revoked invitations answer 409 `invalid_transition`."""
    company = await _verified_company(session, actor)
    invitation = await _own_invitation(session, actor, invitation_id)
    status = effective_status(invitation)
    target = INVITATION_STATES.after(status, "resend", f"A {status} invitation cannot be resent")
    await _throttle_mail(rt, company)
    now = utcnow()
    token, digest, expires_at = _new_token(rt, now)
    invitation.token_hash = digest
    invitation.expires_at = expires_at
    invitation.status = target
    invitation.sent_at = now
    invitation.send_count += 1
    await session.flush()
    await audit.record(session, actor, "client.invitation.resent", "client_invitation",
                       invitation.id, {"sendCount": invitation.send_count})
    await emit(session, "client.invitation.sent",
               {"clientId": company.id, "invitationId": invitation.id})
    _send(session, rt, company, invitation, token)
    return invitation


async def revoke(
    session: AsyncSession, actor: Actor, invitation_id: uuid.UUID
) -> ClientInvitation:
    """Withdraw an invitation that was not accepted; its link answers 410 afterwards."""
    invitation = await _own_invitation(session, actor, invitation_id)
    status = effective_status(invitation)
    invitation.status = INVITATION_STATES.after(status, "revoke",
                                                f"A {status} invitation cannot be revoked")
    invitation.revoked_at = utcnow()
    await session.flush()
    await audit.record(session, actor, "client.invitation.revoked", "client_invitation",
                       invitation.id, {})
    await emit(session, "client.invitation.revoked",
               {"clientId": invitation.client_id, "invitationId": invitation.id})
    return invitation


# --- public: the holder of the link ----------------------------------------------------------


async def _throttle_public(rt: Runtime) -> None:
    ctx = request_context.get()
    await enforce(rt.limiter, f"invitation-token:ip:{ctx.ip_hash if ctx else '-'}",
                  limit=60, window=60)


async def _open_invitation(
    session: AsyncSession, token: str
) -> tuple[ClientInvitation, ClientCompany]:
    invitation = await repo.invitation_by_token_hash(session, token_digest(token))
    if invitation is None:
        raise InvitationNotFound("This invitation link is not valid")
    status = effective_status(invitation)
    if status in _GONE:
        gone, detail = _GONE[InvitationStatus(status)]
        raise gone(detail)
    company = await repo.company_by_id(session, invitation.client_id)
    assert company is not None
    return invitation, company


async def view(
    session: AsyncSession, rt: Runtime, storage: StorageBackend, token: str
) -> PublicInvitation:
    """What the link shows before accepting: the company's name and logo, the invitation."""
    await _throttle_public(rt)
    invitation, company = await _open_invitation(session, token)
    return PublicInvitation(
        company_name=company.trading_name or company.legal_name,
        company_logo_url=await service.logo_url(storage, company),
        email=invitation.email, name=invitation.name, message=invitation.message,
        status=effective_status(invitation), expires_at=invitation.expires_at,
    )


async def accept(
    session: AsyncSession, rt: Runtime, token: str, actor: Actor | None,
    data: AcceptInvitation | None,
) -> tuple[InvitationAccepted, bool]:
    """Accept the invitation: `(result, created)` where `created` says a contractor account
    was made (and signed in). Two acceptances of one token: exactly one wins, the other 410."""
    await _throttle_public(rt)
    invitation, company = await _open_invitation(session, token)
    if company.verification_status != "verified":
        raise service.CompanyNotVerified("The inviting company is not verified")
    if actor is not None:
        if actor.role != Role.CONTRACTOR:
            raise ForbiddenRole("Only a contractor account can accept an invitation")
        if actor.email.lower() != invitation.email:
            raise InvitationEmailMismatch(
                "Sign in with the invited email address to accept this invitation"
            )
    elif data is None or not data.password:
        raise PasswordRequired(
            "A password is needed to create your account (or sign in first)",
            errors=[{"field": "password", "message": "required", "code": "missing"}],
        )
    # Claim before creating anything: a racing acceptance waits for this row and then finds
    # it accepted (410), instead of both registering the same email.
    if not await repo.claim_invitation(
        session, invitation.id, actor.user_id if actor else None, utcnow()
    ):
        raise InvitationAlreadyAccepted(_GONE[InvitationStatus.ACCEPTED][1])
    pair = None
    if actor is not None:
        user_id = actor.user_id
    else:
        assert data is not None and data.password
        user, pair = await auth_service.register(session, rt, RegisterRequest(
            email=invitation.email, password=data.password, role="contractor",
            name=data.name or invitation.name,
        ))
        user_id = user.id
        await repo.set_accepted_by(session, invitation.id, user_id)
    profile = await service.contractor_directory().profile_by_user(session, user_id)
    if profile is None:
        raise ContractorProfileMissing("The contractor profile is missing")
    await service.link_contractor(session, company, contractor_id=profile.id,
                                  contractor_user_id=user_id, invitation_id=invitation.id)
    await audit.record(session, user_id, "client.invitation.accepted", "client_invitation",
                       invitation.id, {"clientId": str(company.id), "newAccount": pair is not None})
    await emit(session, "client.invitation.accepted",
               {"clientId": company.id, "invitationId": invitation.id,
                "contractorId": profile.id})
    result = InvitationAccepted(
        client_id=company.id, company_name=company.trading_name or company.legal_name,
        contractor_id=profile.id,
    )
    if pair is not None:
        result = result.model_copy(update={
            "access_token": pair.access_token, "refresh_token": pair.refresh_token,
            "token_type": pair.token_type, "expires_in": pair.expires_in,
        })
    return result, pair is not None
