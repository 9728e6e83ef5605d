"""Who may decide a sandbox session, and one owner of the profile's `kycStatus`.

- The scripted sandbox decision needs the session's page token (the one in the link the
  contractor was given) or the owner's login; anonymous, forged-token and another user's
  calls are refused like an unknown session (404) and change nothing.
- The profile's `kycStatus` follows the contractor's latest session only: a decision about an
  older session that is delivered late (its event, or a replayed event) never overwrites what
  a newer session set.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.contractors.conftest import emit_event
from tests.factories import Account
from tests.kyc.conftest import (
    page_token,
    profile_kyc,
    sandbox_decide,
    start,
    status_of,
)

pytestmark = pytest.mark.usefixtures("db_backend")


async def _decide(client: httpx.AsyncClient, session_id: str, **extra: Any) -> httpx.Response:
    headers = extra.pop("headers", None)
    return await client.post(f"/api/kyc/sandbox/sessions/{session_id}/decision",
                             json={"decision": "approved", **extra}, headers=headers)


async def test_sandbox_decision_needs_the_page_token_or_the_owner(
    client: httpx.AsyncClient, contractor: Account, other: Account
) -> None:
    started = await start(client, contractor)
    sid = started["sessionId"]
    other_started = await start(client, other)
    refused = [
        await _decide(client, sid),  # anonymous
        await _decide(client, sid, token="0" * 64),  # forged
        await _decide(client, sid, token=page_token(other_started)),  # another session's link
        await _decide(client, sid, headers=other.headers),  # another contractor
    ]
    for response in refused:
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "kyc_session_not_found"
    assert (await status_of(client, contractor))["status"] == "pending"
    # A bad bearer token is a 401, not a fallback to anonymous.
    bad = await _decide(client, sid, headers={"Authorization": "Bearer nope"},
                        token=page_token(started))
    assert bad.status_code == 401

    by_link = await _decide(client, sid, token=page_token(started))
    assert by_link.status_code == 200 and by_link.json()["status"] == "verified"
    by_owner = await _decide(client, other_started["sessionId"], headers=other.headers)
    assert by_owner.status_code == 200 and by_owner.json()["status"] == "verified"


async def test_late_rejection_of_an_old_session_does_not_overwrite_a_new_pending(
    app: Any, client: httpx.AsyncClient, contractor: Account
) -> None:
    """Session 1 is declined; before its event is delivered, the contractor starts session 2.
    Delivering session 1's event (and replaying it) leaves the profile `pending`."""
    first = await start(client, contractor)
    declined = await sandbox_decide(client, first, "declined", "blurry")
    assert declined.status_code == 200 and declined.json()["status"] == "rejected"
    assert await profile_kyc(client, contractor) == "rejected"
    second = await start(client, contractor)
    assert second["sessionId"] != first["sessionId"]
    assert await profile_kyc(client, contractor) == "pending"

    await app.state.dispatcher.drain()  # session 1's contractor.kyc.completed arrives late
    assert await profile_kyc(client, contractor) == "pending"
    me = (await client.get("/api/contractors/me", headers=contractor.headers)).json()
    await emit_event(app, "contractor.kyc.completed", {
        "contractorId": me["id"], "userId": contractor.user_id, "sessionId": first["sessionId"],
        "kycStatus": "rejected", "status": "declined"})
    assert await profile_kyc(client, contractor) == "pending"
    # A late provider decision for the old session is ignored too.
    late = await sandbox_decide(client, first, "approved")
    assert late.status_code == 200 and late.json()["status"] == "rejected"
    assert await profile_kyc(client, contractor) == "pending"
    # The new session's own decision still lands.
    assert (await sandbox_decide(client, second, "approved")).json()["status"] == "verified"
    assert await profile_kyc(client, contractor) == "verified"


async def test_unknown_session_with_a_token_is_404(client: httpx.AsyncClient) -> None:
    response = await _decide(client, str(uuid.uuid4()), token="0" * 64)
    assert response.status_code == 404
