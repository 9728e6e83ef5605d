"""The Veriff adapter against recorded request/response shapes (respx), Veriff's HMAC scheme
with independently computed vectors, the Veriff webhook through the same inbox, and the
production checks.

The recordings in `recordings/` follow Veriff's documented formats (`POST /v1/sessions`
answer `{"status", "verification": {"id", "url", ...}}`; decision webhook
`{"status", "verification": {"id", "status", "code", ...}}`)."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from mindlinks.kyc.providers import (
    ProviderUnavailable,
    VeriffProvider,
    parse_decision,
    production_problems,
    sign,
    signature_valid,
)
from mindlinks.settings import Settings
from tests.factories import Account
from tests.kyc.conftest import decision, deliver, profile_kyc

RECORDINGS = Path(__file__).parent / "recordings"
BASE = "https://stationapi.veriff.test"
API_KEY = "4f3b2c1a-veriff-api-key"
SECRET = "b7a3e9f0-shared-secret"


def veriff() -> VeriffProvider:
    return VeriffProvider(api_key=API_KEY, shared_secret=SECRET, base_url=BASE, timeout=2)


def test_signature_vectors() -> None:
    # RFC 4231 test case 2: HMAC-SHA256(key="Jefe", "what do ya want for nothing?").
    assert sign(b"Jefe", b"what do ya want for nothing?") == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    body = (RECORDINGS / "veriff_decision_approved.json").read_bytes()
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert sign(SECRET.encode(), body) == expected
    headers = {"X-AUTH-CLIENT": API_KEY, "X-HMAC-SIGNATURE": expected}
    assert signature_valid(SECRET.encode(), API_KEY, body, headers)
    assert signature_valid(SECRET.encode(), API_KEY, body,
                           {**headers, "X-HMAC-SIGNATURE": expected.upper()})
    assert not signature_valid(SECRET.encode(), API_KEY, body + b" ", headers)
    # Re-serialised JSON (same data, other bytes) does not verify.
    reserialised = json.dumps(json.loads(body), indent=2).encode()
    assert not signature_valid(SECRET.encode(), API_KEY, reserialised, headers)
    assert not signature_valid(b"", API_KEY, body, headers)  # no secret configured


@respx.mock
async def test_create_session_request_and_response() -> None:
    route = respx.post(f"{BASE}/v1/sessions").mock(return_value=httpx.Response(
        201, json=json.loads((RECORDINGS / "veriff_create_session_201.json").read_text())))
    session_id = uuid.UUID("2b4ce4fe-1c47-4a16-9b0a-0b4c7b8e1d11")
    started = await veriff().create_session(session_id=session_id, first_name="Ada",
                                            last_name="Lovelace",
                                            callback_url="https://app.example/")
    assert started.provider_session_id == "f04bdb47-d3be-4b28-b028-a652feb060b5"
    assert started.url.startswith("https://alchemy.veriff.com/v/")
    request = route.calls.last.request
    assert request.headers["X-AUTH-CLIENT"] == API_KEY
    assert request.headers["Content-Type"] == "application/json"
    sent = request.content
    assert request.headers["X-HMAC-SIGNATURE"] == hmac.new(
        SECRET.encode(), sent, hashlib.sha256).hexdigest()
    assert json.loads(sent) == {"verification": {
        "callback": "https://app.example/", "vendorData": str(session_id),
        "person": {"firstName": "Ada", "lastName": "Lovelace"}}}


@respx.mock
@pytest.mark.parametrize("answer", [
    httpx.Response(401, json=json.loads(
        (RECORDINGS / "veriff_create_session_401.json").read_text())),
    httpx.Response(500, text="oops"),
    httpx.Response(201, json={"status": "success"}),
    httpx.ConnectTimeout("timed out"),
])
async def test_create_session_failures_are_503(answer: Any) -> None:
    route = respx.post(f"{BASE}/v1/sessions")
    if isinstance(answer, Exception):
        route.mock(side_effect=answer)
    else:
        route.mock(return_value=answer)
    with pytest.raises(ProviderUnavailable) as raised:
        await veriff().create_session(session_id=uuid.uuid4(), first_name=None,
                                      last_name=None, callback_url="https://app.example/")
    assert raised.value.status == 503


def test_parse_recorded_decision() -> None:
    parsed = parse_decision(json.loads((RECORDINGS / "veriff_decision_approved.json").read_text()))
    assert parsed.provider_session_id == "f04bdb47-d3be-4b28-b028-a652feb060b5"
    assert parsed.status == "approved" and parsed.code == 9001
    assert parsed.vendor_data == "2b4ce4fe-1c47-4a16-9b0a-0b4c7b8e1d11"


def test_production_problems() -> None:
    sandbox = Settings(_env_file=None)  # type: ignore[call-arg]
    assert any("KYC_PROVIDER" in p for p in production_problems(sandbox))
    bare = Settings(_env_file=None, kyc_provider="veriff")  # type: ignore[call-arg]
    assert len(production_problems(bare)) == 2
    ready = Settings(_env_file=None, kyc_provider="veriff", veriff_api_key="k",  # type: ignore[call-arg]
                     veriff_shared_secret="s")
    assert production_problems(ready) == []


@pytest.fixture
def settings(settings: Settings) -> Settings:  # the app below runs with Veriff configured
    return settings.model_copy(update={"kyc_provider": "veriff", "veriff_api_key": API_KEY,
                                       "veriff_shared_secret": SECRET, "veriff_base_url": BASE})


async def test_veriff_flow_start_and_signed_webhook(
    app: Any, client: httpx.AsyncClient, make_contractor: Any
) -> None:
    who: Account = await make_contractor()
    created = json.loads((RECORDINGS / "veriff_create_session_201.json").read_text())
    with respx.mock(assert_all_called=True) as mock:
        mock.post(f"{BASE}/v1/sessions").mock(return_value=httpx.Response(201, json=created))
        started = await client.post("/api/kyc/contractor/me/start", headers=who.headers)
    assert started.status_code == 200, started.text
    assert started.json()["veriffSessionUrl"] == created["verification"]["url"]
    # The sandbox's routes are off while Veriff is the provider.
    sandbox = await client.post(
        f"/api/kyc/sandbox/sessions/{started.json()['sessionId']}/decision",
        json={"decision": "approved"})
    assert sandbox.status_code == 404
    assert (await client.get(f"/kyc/sandbox/{started.json()['sessionId']}")).status_code == 404
    # A webhook signed with the sandbox's secret is refused; Veriff's own signature works.
    body = (RECORDINGS / "veriff_decision_approved.json").read_bytes()
    wrong = await deliver(client, app, body, provider="veriff")
    assert wrong.status_code == 401
    veriff_headers = {"X-AUTH-CLIENT": API_KEY, "Content-Type": "application/json",
                      "X-HMAC-SIGNATURE": hmac.new(SECRET.encode(), body,
                                                   hashlib.sha256).hexdigest()}
    ok = await deliver(client, app, body, provider="veriff", headers=veriff_headers)
    assert ok.status_code == 200 and ok.json()["outcome"] == "handled", ok.text
    replay = await deliver(client, app, body, provider="veriff", headers=veriff_headers)
    assert replay.json()["outcome"] == "duplicate"
    sandbox_hook = await deliver(client, app, decision("x", "approved"), provider="sandbox")
    assert sandbox_hook.status_code == 404
    await app.state.dispatcher.drain()
    assert await profile_kyc(client, who) == "verified"


def test_create_app_collects_the_kyc_production_checks() -> None:
    from mindlinks.app import _production_problems

    problems = _production_problems(Settings(_env_file=None))  # type: ignore[call-arg]
    assert "MINDLINKS_KYC_PROVIDER is 'sandbox'; production needs 'veriff'" in problems
