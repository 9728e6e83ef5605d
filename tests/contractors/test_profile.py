"""Profile: created at registration, seed 000 + 002/003 shape, validation, events, avatar
uploads, and who may see what."""

from __future__ import annotations

import base64
import json

from tests.contractors.conftest import (
    SVG_WITH_SCRIPT,
    complete_profile,
    events_named,
    png,
)
from tests.platform.samples import MINIMAL_PDF

SEED_000_FIELDS = {"id", "userId", "name", "email", "phone", "country", "timezone", "avatarUrl",
                   "kycStatus", "onboardingCompleted", "createdAt", "updatedAt"}
SEED_002_003_FIELDS = {"firstName", "lastName", "status", "onboardingStatus", "legalName",
                       "dbaName", "website", "address"}


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


async def test_registration_creates_the_profile_and_the_token_names_it(client, contractor):
    response = await client.get("/api/contractors/me", headers=contractor.headers)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == SEED_000_FIELDS | SEED_002_003_FIELDS
    assert body["name"] == "Ada Lovelace"
    assert (body["firstName"], body["lastName"]) == ("Ada", "Lovelace")
    assert body["kycStatus"] == "not_started" and body["onboardingCompleted"] is False
    assert body["onboardingStatus"] == "pending" and body["status"] == "active"
    assert body["address"] == {"line1": None, "line2": None, "city": None, "state": None,
                               "postalCode": None, "country": None}
    claims = _claims(contractor.token)
    assert claims["contractorId"] == body["id"] and claims["kycStatus"] == "not_started"


async def test_update_validates_and_normalises(client, app, contractor):
    response = await client.put("/api/contractors/me", headers=contractor.headers, json={
        "name": "Ada King", "phone": "+20 10 1234 5678", "country": "eg",
        "timezone": "Africa/Cairo", "legalName": "Ada King Consulting",
        "website": "https://ada.example", "address": {"line1": "1 Nile St", "city": "Cairo",
                                                      "postalCode": "11511", "country": "eg"}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["phone"] == "+201012345678" and body["country"] == "EG"
    assert body["address"]["country"] == "EG" and body["address"]["city"] == "Cairo"
    assert body["legalName"] == "Ada King Consulting"
    assert body["onboardingStatus"] == "in_progress"  # the profile step is complete
    events = await events_named(app, "contractor.profile.updated")
    assert events and events[-1]["contractorId"] == body["id"]
    assert "phone" in events[-1]["fields"] and "country" in events[-1]["fields"]

    # Partial update: only what is sent changes.
    again = await client.put("/api/contractors/me", headers=contractor.headers,
                             json={"timezone": "Europe/Paris"})
    assert again.json()["phone"] == "+201012345678" and again.json()["timezone"] == "Europe/Paris"


async def test_invalid_values_are_refused_with_their_codes(client, contractor):
    cases = [
        ({"phone": "12345"}, "invalid_phone"),
        ({"phone": "+1 555 000"}, "invalid_phone"),
        ({"country": "XX"}, "unknown_country"),
        ({"country": "JP"}, "country_not_supported"),  # ISO, but not in the country rules
        ({"timezone": "Mars/Olympus"}, "invalid_timezone"),
        ({"name": "   "}, "name_required"),
    ]
    for body, code in cases:
        response = await client.put("/api/contractors/me", headers=contractor.headers, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["code"] == code, body


async def test_mass_assignment_is_refused(client, contractor):
    for body in ({"kycStatus": "verified"}, {"userId": "x"}, {"status": "active"},
                 {"onboardingCompleted": True}):
        response = await client.put("/api/contractors/me", headers=contractor.headers, json=body)
        assert response.status_code == 422
    profile = (await client.get("/api/contractors/me", headers=contractor.headers)).json()
    assert profile["kycStatus"] == "not_started"


async def test_only_contractors_have_a_contractor_profile(client, client_user, admin):
    assert (await client.get("/api/contractors/me", headers=client_user)).status_code == 403
    assert (await client.get("/api/contractors/me/bank-details",
                             headers=client_user)).status_code == 403
    assert (await client.get("/api/contractors/me")).status_code == 401


async def test_each_contractor_sees_only_their_own_profile(client, contractor, other):
    mine = (await client.get("/api/contractors/me", headers=contractor.headers)).json()
    theirs = (await client.get("/api/contractors/me", headers=other.headers)).json()
    assert mine["id"] != theirs["id"] and theirs["name"] == "Grace Hopper"
    await complete_profile(client, contractor)
    theirs_after = (await client.get("/api/contractors/me", headers=other.headers)).json()
    assert theirs_after["phone"] is None


async def test_avatar_is_reencoded_and_served_by_signed_url(client, contractor):
    response = await client.post("/api/contractors/me/avatar", headers=contractor.headers,
                                 files={"file": ("me.png", png(900, 600), "image/png")})
    assert response.status_code == 200, response.text
    url = response.json()["avatarUrl"]
    assert "sig=" in url and "exp=" in url
    download = await client.get(url.replace("http://127.0.0.1:8000", ""))
    assert download.status_code == 200
    assert download.content[:4] == b"RIFF" and download.content[8:12] == b"WEBP"
    profile = (await client.get("/api/contractors/me", headers=contractor.headers)).json()
    assert profile["avatarUrl"] and "sig=" in profile["avatarUrl"]
    tampered = url.replace("sig=", "sig=A").replace("http://127.0.0.1:8000", "")
    assert (await client.get(tampered)).status_code == 403


async def test_avatar_upload_rules(client, contractor):
    cases = [
        (("avatar.png", MINIMAL_PDF, "image/png"), 422, "unsupported_file_type"),
        (("avatar.svg", SVG_WITH_SCRIPT, "image/svg+xml"), 422, "unsupported_file_type"),
        (("big.png", png() + b"\0" * (5 * 1024 * 1024), "image/png"), 413, "file_too_large"),
    ]
    for file, status, code in cases:
        response = await client.post("/api/contractors/me/avatar", headers=contractor.headers,
                                     files={"file": file})
        assert response.status_code == status, (file[0], response.text)
        assert response.json()["code"] == code
    profile = (await client.get("/api/contractors/me", headers=contractor.headers)).json()
    assert profile["avatarUrl"] is None
