"""Invitations: who may invite, the mailed link, hashed tokens, expiry, resend, revoke,
acceptance by a new or a signed-in contractor, 410 for used links, throttling."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import timedelta
from typing import Any

import jwt
import pytest
from sqlalchemy import text, update

from mindlinks.clients.models import ClientInvitation
from mindlinks.platform.db import utcnow
from tests.clients.conftest import VERIFIED_COMPANY
from tests.factories import PASSWORD, bearer, register, unique_email

INVITATION_FIELDS = {
    "id", "clientId", "email", "name", "message", "status", "expiresAt", "sentAt",
    "sendCount", "acceptedAt", "revokedAt", "createdAt", "updatedAt",
}


async def test_only_a_verified_company_invites(client: Any, pending_client: Any) -> None:
    account, _ = pending_client
    response = await client.post("/api/clients/me/invitations", headers=account.headers,
                                 json={"email": unique_email("dev")})
    assert response.status_code == 403
    assert response.json()["code"] == "company_not_verified"


async def test_contractors_cannot_invite(client: Any, contractor: Any) -> None:
    response = await client.post("/api/clients/me/invitations", headers=contractor.headers,
                                 json={"email": unique_email("dev")})
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden_role"


async def test_invitation_is_mailed_and_only_its_hash_is_stored(
    app: Any, client: Any, verified_client: Any, invite: Any
) -> None:
    account, company = verified_client
    email = unique_email("Dev")
    invitation, token = await invite(account, email, name="Linus", message="Join us")
    assert set(invitation) == INVITATION_FIELDS
    assert invitation["status"] == "pending"
    assert invitation["email"] == email.lower()
    assert invitation["clientId"] == company["id"]
    assert invitation["sendCount"] == 1
    lifetime = (
        _parse(invitation["expiresAt"]) - _parse(invitation["sentAt"])
    )
    assert timedelta(days=7) - timedelta(seconds=5) <= lifetime <= timedelta(days=7)
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    assert token not in str(invitation)

    async with app.state.db.session() as session:
        rows = (await session.execute(text("SELECT * FROM client_invitations"))).mappings().all()
    assert len(rows) == 1
    assert rows[0]["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert all(token not in str(value) for value in rows[0].values())


def _parse(value: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_public_view_shows_company_name(client: Any, verified_client: Any,
                                              invite: Any) -> None:
    account, _ = verified_client
    email = unique_email("dev")
    _, token = await invite(account, email, message="Welcome aboard")
    response = await client.get(f"/api/invitations/{token}")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "companyName": "Acme", "companyLogoUrl": None, "email": email.lower(),
        "name": None, "message": "Welcome aboard", "status": "pending",
        "expiresAt": body["expiresAt"],
    }
    unknown = await client.get(f"/api/invitations/{'x' * 43}")
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "invitation_not_found"


async def test_new_user_accepts_and_becomes_the_clients_contractor(
    client: Any, verified_client: Any, invite: Any
) -> None:
    account, company = verified_client
    email = unique_email("newdev")
    invitation, token = await invite(account, email, name="Linus Torvalds")
    accepted = await client.post(f"/api/invitations/{token}/accept",
                                 json={"password": PASSWORD, "name": "Linus Torvalds"})
    assert accepted.status_code == 201, accepted.text
    body = accepted.json()
    assert body["clientId"] == company["id"]
    assert body["companyName"] == "Acme"
    assert body["tokenType"] == "Bearer"
    claims = jwt.decode(body["accessToken"], options={"verify_signature": False})
    assert claims["role"] == "contractor"
    assert claims["email"] == email.lower()
    assert claims["contractorId"] == body["contractorId"]

    # The new contractor is signed in: their own profile answers.
    profile = await client.get("/api/contractors/me", headers=bearer(body["accessToken"]))
    assert profile.status_code == 200
    assert profile.json()["id"] == body["contractorId"]

    listed = await client.get("/api/clients/me/contractors", headers=account.headers)
    assert listed.status_code == 200
    page = listed.json()
    assert page["meta"]["total"] == 1
    assert page["data"][0]["id"] == body["contractorId"]
    assert page["data"][0]["name"] == "Linus Torvalds"

    invitations = await client.get("/api/clients/me/invitations", headers=account.headers)
    item = invitations.json()["data"][0]
    assert item["id"] == invitation["id"]
    assert item["status"] == "accepted"
    assert item["acceptedAt"] is not None


async def test_accept_refuses_a_breached_password_and_keeps_the_link(
    client: Any, verified_client: Any, invite: Any
) -> None:
    """RELIABILITY 23: the new account's password goes through the breach check (sandbox)."""
    from mindlinks.auth.providers import SANDBOX_SAMPLES

    account, _ = verified_client
    _, token = await invite(account, unique_email("dev"))
    refused = await client.post(f"/api/invitations/{token}/accept",
                                json={"password": SANDBOX_SAMPLES[1]})
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "weak_password"
    assert refused.json()["errors"][0]["params"] == {"rule": "breached"}
    # Nothing was claimed: the invitation is still open and accepts a sound password.
    assert (await client.get(f"/api/invitations/{token}")).json()["status"] == "pending"
    accepted = await client.post(f"/api/invitations/{token}/accept", json={"password": PASSWORD})
    assert accepted.status_code == 201, accepted.text


async def test_used_link_is_gone(client: Any, verified_client: Any, invite: Any) -> None:
    account, _ = verified_client
    _, token = await invite(account, unique_email("dev"))
    first = await client.post(f"/api/invitations/{token}/accept", json={"password": PASSWORD})
    assert first.status_code == 201
    again = await client.post(f"/api/invitations/{token}/accept",
                              json={"password": PASSWORD})
    assert again.status_code == 410
    assert again.json()["code"] == "invitation_accepted"
    view = await client.get(f"/api/invitations/{token}")
    assert view.status_code == 410
    assert view.json()["code"] == "invitation_accepted"


async def test_revoked_link_is_gone(client: Any, verified_client: Any, invite: Any) -> None:
    account, _ = verified_client
    invitation, token = await invite(account, unique_email("dev"))
    revoked = await client.post(f"/api/clients/me/invitations/{invitation['id']}/revoke",
                                headers=account.headers)
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    assert revoked.json()["revokedAt"] is not None
    view = await client.get(f"/api/invitations/{token}")
    assert view.status_code == 410
    assert view.json()["code"] == "invitation_revoked"
    accept = await client.post(f"/api/invitations/{token}/accept", json={"password": PASSWORD})
    assert accept.status_code == 410
    twice = await client.post(f"/api/clients/me/invitations/{invitation['id']}/revoke",
                              headers=account.headers)
    assert twice.status_code == 409
    assert twice.json()["code"] == "invalid_transition"
    resend = await client.post(f"/api/clients/me/invitations/{invitation['id']}/resend",
                               headers=account.headers)
    assert resend.status_code == 409
    assert resend.json()["code"] == "invalid_transition"


async def _expire(app: Any, invitation_id: str) -> None:
    async with app.state.db.session() as session:
        await session.execute(
            update(ClientInvitation).where(ClientInvitation.id == uuid.UUID(invitation_id))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )


async def test_expired_link_is_gone_and_resend_renews_it(
    app: Any, client: Any, verified_client: Any, invite: Any, invitation_links: Any
) -> None:
    account, _ = verified_client
    email = unique_email("dev")
    invitation, old_token = await invite(account, email)
    await _expire(app, invitation["id"])

    view = await client.get(f"/api/invitations/{old_token}")
    assert view.status_code == 410
    assert view.json()["code"] == "invitation_expired"
    listed = await client.get("/api/clients/me/invitations", headers=account.headers)
    assert listed.json()["data"][0]["status"] == "expired"

    resent = await client.post(f"/api/clients/me/invitations/{invitation['id']}/resend",
                               headers=account.headers)
    assert resent.status_code == 200
    assert resent.json()["status"] == "pending"
    assert resent.json()["sendCount"] == 2
    tokens = await invitation_links(email)
    assert len(tokens) == 2 and tokens[-1] != old_token
    # The old link is dead for good; the new one works.
    assert (await client.get(f"/api/invitations/{old_token}")).status_code == 404
    assert (await client.get(f"/api/invitations/{tokens[-1]}")).status_code == 200


async def test_resend_invalidates_a_pending_link(
    client: Any, verified_client: Any, invite: Any, invitation_links: Any
) -> None:
    account, _ = verified_client
    email = unique_email("dev")
    invitation, old_token = await invite(account, email)
    await client.post(f"/api/clients/me/invitations/{invitation['id']}/resend",
                      headers=account.headers)
    new_token = (await invitation_links(email))[-1]
    assert (await client.get(f"/api/invitations/{old_token}")).status_code == 404
    accepted = await client.post(f"/api/invitations/{new_token}/accept",
                                 json={"password": PASSWORD})
    assert accepted.status_code == 201


async def test_signed_in_contractor_links_with_the_invited_email(
    client: Any, verified_client: Any, invite: Any
) -> None:
    account, company = verified_client
    email = unique_email("existing")
    existing = await register(client, "contractor", email=email, name="Margaret Hamilton")
    _, token = await invite(account, email.upper())
    accepted = await client.post(f"/api/invitations/{token}/accept",
                                 headers=bearer(existing["accessToken"]))
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["clientId"] == company["id"]
    assert body["accessToken"] is None
    claims = jwt.decode(existing["accessToken"], options={"verify_signature": False})
    assert body["contractorId"] == claims["contractorId"]
    one = await client.get(f"/api/clients/me/contractors/{body['contractorId']}",
                           headers=account.headers)
    assert one.status_code == 200
    assert one.json()["name"] == "Margaret Hamilton"


async def test_signed_in_contractor_with_another_email_is_refused(
    client: Any, verified_client: Any, invite: Any, contractor: Any
) -> None:
    account, _ = verified_client
    _, token = await invite(account, unique_email("someone-else"))
    response = await client.post(f"/api/invitations/{token}/accept",
                                 headers=contractor.headers)
    assert response.status_code == 403
    assert response.json()["code"] == "invitation_email_mismatch"
    # The invitation is still open for its addressee.
    assert (await client.get(f"/api/invitations/{token}")).status_code == 200


async def test_a_client_account_cannot_accept(
    client: Any, verified_client: Any, invite: Any, make_client: Any
) -> None:
    account, _ = verified_client
    other, _ = await make_client()
    _, token = await invite(account, other.email)
    response = await client.post(f"/api/invitations/{token}/accept", headers=other.headers)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden_role"


async def test_new_user_needs_a_password(client: Any, verified_client: Any,
                                         invite: Any) -> None:
    account, _ = verified_client
    _, token = await invite(account, unique_email("dev"))
    missing = await client.post(f"/api/invitations/{token}/accept")
    assert missing.status_code == 422
    assert missing.json()["code"] == "password_required"
    weak = await client.post(f"/api/invitations/{token}/accept", json={"password": "short"})
    assert weak.status_code == 422
    # Nothing was used up by the failures.
    assert (await client.get(f"/api/invitations/{token}")).status_code == 200


async def test_existing_email_must_sign_in(client: Any, verified_client: Any,
                                           invite: Any) -> None:
    account, _ = verified_client
    email = unique_email("taken")
    await register(client, "contractor", email=email)
    _, token = await invite(account, email)
    response = await client.post(f"/api/invitations/{token}/accept",
                                 json={"password": PASSWORD})
    assert response.status_code == 409
    assert response.json()["code"] == "email_taken"
    assert (await client.get(f"/api/invitations/{token}")).status_code == 200


async def test_one_open_invitation_per_address(client: Any, verified_client: Any,
                                               invite: Any) -> None:
    account, _ = verified_client
    email = unique_email("dev")
    await invite(account, email)
    again = await client.post("/api/clients/me/invitations", headers=account.headers,
                              json={"email": email})
    assert again.status_code == 409
    assert again.json()["code"] == "invitation_already_pending"


async def test_another_clients_invitation_is_404(
    client: Any, verified_client: Any, invite: Any, make_client: Any
) -> None:
    account, _ = verified_client
    invitation, _ = await invite(account, unique_email("dev"))
    other, _ = await make_client({**VERIFIED_COMPANY, "legalName": "Acme Corporation",
                                  "country": "US", "companyNumber": "1234567",
                                  "address": {"line1": "1209 Orange Street",
                                              "city": "Wilmington", "state": "DE",
                                              "country": "US"}})
    for action in ("resend", "revoke"):
        response = await client.post(
            f"/api/clients/me/invitations/{invitation['id']}/{action}", headers=other.headers
        )
        assert response.status_code == 404
        assert response.json()["code"] == "invitation_not_found"
    listed = await client.get("/api/clients/me/invitations", headers=other.headers)
    assert listed.json()["meta"]["total"] == 0


async def test_invitation_mail_is_throttled(app: Any, client: Any,
                                            verified_client: Any) -> None:
    account, _ = verified_client
    app.state.settings.invitations_per_client_per_hour = 3
    statuses = []
    for _ in range(4):
        response = await client.post("/api/clients/me/invitations", headers=account.headers,
                                     json={"email": unique_email("dev")})
        statuses.append(response.status_code)
    assert statuses == [201, 201, 201, 429]
    assert int(response.headers["Retry-After"]) > 0
    listed = await client.get("/api/clients/me/invitations", headers=account.headers)
    assert listed.json()["meta"]["total"] == 3


@pytest.mark.race
async def test_concurrent_acceptances_one_wins(client: Any, verified_client: Any,
                                               invite: Any) -> None:
    account, _ = verified_client
    _, token = await invite(account, unique_email("race"))
    responses = await asyncio.gather(*[
        client.post(f"/api/invitations/{token}/accept", json={"password": PASSWORD})
        for _ in range(3)
    ])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 410, 410], [r.text for r in responses]
    listed = await client.get("/api/clients/me/contractors", headers=account.headers)
    assert listed.json()["meta"]["total"] == 1
