"""Access-token attacks (RFC 8725, RELIABILITY 25): every forgery or misuse is a 401."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.factories import bearer, register


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _sign(app, claims: dict, **header) -> str:
    keys = app.state.runtime.keys
    return jwt.encode(claims, keys.current.private_key, algorithm="RS256",
                      headers={"kid": keys.current.kid, **header})


@pytest.fixture
async def user(client):
    return await register(client)


async def _me(client, token: str):
    return await client.get("/api/auth/me", headers=bearer(token))


async def test_valid_token_claims(client, app, user):
    claims = _claims(user["accessToken"])
    assert claims["sub"] == user["user"]["id"]
    assert claims["role"] == "contractor" and claims["email"] == user["user"]["email"]
    assert claims["iss"] == "mindlinks" and claims["aud"] == "mindlinks-api"
    assert claims["exp"] - claims["iat"] == 900
    for key in ("nbf", "jti", "sid", "contractorId", "clientId", "kycStatus"):
        assert key in claims
    header = jwt.get_unverified_header(user["accessToken"])
    assert header["alg"] == "RS256" and header["kid"] == app.state.runtime.keys.current.kid
    assert (await _me(client, user["accessToken"])).status_code == 200


async def test_alg_none(client, user):
    claims = _claims(user["accessToken"])
    token = f"{_b64(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}." \
            f"{_b64(json.dumps(claims).encode())}."
    assert (await _me(client, token)).status_code == 401


async def test_hs256_signed_with_the_public_key(client, app, user):
    claims = _claims(user["accessToken"])
    public_pem = app.state.runtime.keys.current.public_pem
    header = {"alg": "HS256", "typ": "JWT", "kid": app.state.runtime.keys.current.kid}
    import hashlib
    import hmac

    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    sig = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    assert (await _me(client, f"{signing_input}.{_b64(sig)}")).status_code == 401


async def test_wrong_key_and_embedded_jwk(client, app, user):
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = _claims(user["accessToken"])
    kid = app.state.runtime.keys.current.kid
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(attacker.public_key(), as_dict=True)
    forged = [
        jwt.encode(claims, attacker, algorithm="RS256", headers={"kid": kid}),
        jwt.encode(claims, attacker, algorithm="RS256", headers={"kid": kid, "jwk": jwk}),
        jwt.encode(claims, attacker, algorithm="RS256",
                   headers={"kid": kid, "jku": "http://127.0.0.1:1/jwks.json"}),
        jwt.encode(claims, attacker, algorithm="RS256",
                   headers={"kid": kid, "x5u": "http://127.0.0.1:1/cert.pem"}),
        jwt.encode(claims, attacker, algorithm="RS256", headers={"kid": "../../dev/null"}),
        jwt.encode(claims, attacker, algorithm="RS256", headers={"kid": "' OR 1=1 --"}),
    ]
    for token in forged:
        r = await _me(client, token)
        assert r.status_code == 401 and r.json()["code"] == "invalid_token"


async def test_unknown_kid_signed_with_our_key(client, app, user):
    token = _sign(app, _claims(user["accessToken"]), kid="not-our-kid")
    assert (await _me(client, token)).status_code == 401


async def test_tampered_payload(client, user):
    head, _payload, sig = user["accessToken"].split(".")
    claims = _claims(user["accessToken"])
    claims["role"] = "admin"
    token = f"{head}.{_b64(json.dumps(claims).encode())}.{sig}"
    assert (await _me(client, token)).status_code == 401


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"exp": int(time.time()) - 10}, "token_expired"),
        # A year ahead: the value is taken when the suite is collected, and a full run on a
        # loaded machine reached this test more than ten minutes later (+600 s had passed).
        ({"nbf": int(time.time()) + 365 * 86_400}, "invalid_token"),
        ({"aud": "someone-else"}, "invalid_token"),
        ({"iss": "evil"}, "invalid_token"),
        ({"typ": "mfa"}, "invalid_token"),
        ({"exp": None}, "invalid_token"),
        ({"jti": None}, "invalid_token"),
    ],
)
async def test_claim_checks(client, app, user, change, code):
    claims = {**_claims(user["accessToken"]), **change}
    claims = {k: v for k, v in claims.items() if v is not None}
    r = await _me(client, _sign(app, claims))
    assert r.status_code == 401 and r.json()["code"] == code


async def test_refresh_token_and_garbage_are_not_access_tokens(client, user):
    valid = user["accessToken"]
    rest = valid.split(".", 1)[1]
    malformed = [
        "garbage", "a.b.c", "e30.b.c",
        _b64(b"[1, 2]") + "." + rest,          # a header that is JSON but not an object
        _b64(b"\xff\xfe{") + "." + rest,       # a header that is not UTF-8
        "!!!!" + valid,                        # junk glued to a valid token
    ]
    for token in (user["refreshToken"], *malformed):
        r = await _me(client, token)
        assert r.status_code == 401, token
        assert r.json()["code"] == "invalid_token"
    assert (await _me(client, "")).json()["code"] == "not_authenticated"


async def test_an_authenticated_request_needs_no_query_to_authenticate(client, app, user):
    """Revocation and suspension are checked against the in-process revocation set: an
    authenticated read runs only its own statements, none on users or sessions."""
    from sqlalchemy import event

    statements: list[str] = []

    def _count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    engine = app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", _count)
    try:
        # An endpoint that reads through the ORM session (the inbox runs on the raw driver,
        # which these engine events do not see).
        r = await client.get("/api/notifications/me/preferences",
                             headers=bearer(user["accessToken"]))
    finally:
        event.remove(engine, "before_cursor_execute", _count)
    assert r.status_code == 200
    assert statements, "the endpoint's own reads are counted"
    assert not [s for s in statements if "auth_users" in s or "auth_sessions" in s], statements
    # A read-only request begins no transaction.
    assert not [s for s in statements if s.startswith("BEGIN")], statements


async def test_mfa_pending_token_is_not_an_access_token(client, app):
    from tests.factories import PASSWORD, create_admin

    email, _secret = await create_admin(app)
    challenge = (await client.post("/api/auth/login",
                                   json={"email": email, "password": PASSWORD})).json()
    assert (await _me(client, challenge["mfaToken"])).status_code == 401


async def test_jwks_lists_current_and_previous_keys(client, app, settings, tmp_path):
    r = await client.get("/.well-known/jwks.json")
    keys = r.json()["keys"]
    assert [k["kid"] for k in keys] == [app.state.runtime.keys.current.kid]
    assert keys[0]["alg"] == "RS256" and keys[0]["kty"] == "RSA" and "d" not in keys[0]

    # Rotation: a new signing key, the old public key still accepted and published.
    from mindlinks.app import create_app

    old_kid = app.state.runtime.keys.current.kid
    old_public = app.state.runtime.keys.current.public_pem.decode()
    user = await register(client)
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rotated = settings.model_copy(update={
        "jwt_private_key": new_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode(),
        "jwt_previous_public_keys": [old_public],
    })
    import httpx

    app2 = create_app(rotated)
    async with app2.router.lifespan_context(app2):
        transport = httpx.ASGITransport(app=app2)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c2:
            kids = [k["kid"] for k in (await c2.get("/.well-known/jwks.json")).json()["keys"]]
            assert len(kids) == 2 and old_kid in kids
            assert (await _me(c2, user["accessToken"])).status_code == 200  # old key's token
            # New tokens are signed with the new key only.
            fresh = (await c2.post("/api/auth/login", json={
                "email": user["user"]["email"], "password": user["password"]})).json()
            new_kid = jwt.get_unverified_header(fresh["accessToken"])["kid"]
            assert new_kid != old_kid and new_kid in kids
            assert (await _me(c2, fresh["accessToken"])).status_code == 200
            # A token of the new key means nothing to an instance that does not hold it.
            assert (await _me(client, fresh["accessToken"])).status_code == 401


def _service(settings, tmp_path, name: str):
    from mindlinks.platform.security import KeyRing, TokenService

    keys = settings.model_copy(update={"data_dir": tmp_path / name, "jwt_private_key": None})
    return TokenService(settings, KeyRing.from_settings(keys))


def _issue(service, ttl: int = 900) -> str:
    import uuid

    return service.issue(subject=uuid.uuid4(), token_type="access", ttl_seconds=ttl,
                         claims={"sid": str(uuid.uuid4())})


def test_a_remembered_token_still_expires(settings, tmp_path):
    """Verified tokens are remembered, but each use re-checks the time window."""
    from mindlinks.platform.errors import Unauthorized

    service = _service(settings, tmp_path, "a")
    token = _issue(service, ttl=60)
    exp = service.verify(token)["exp"]
    assert (token, "access") in service._verified  # remembered
    with time_machine.travel(exp - 1, tick=False):
        assert service.verify(token)["exp"] == exp  # still inside its window
    with time_machine.travel(exp + 1, tick=False), pytest.raises(Unauthorized) as caught:
        service.verify(token)
    assert caught.value.code == "token_expired"


def test_a_remembered_token_is_refused_once_its_key_is_gone(settings, tmp_path):
    from mindlinks.platform.errors import Unauthorized

    service = _service(settings, tmp_path, "a")
    token = _issue(service)
    claims = service.verify(token)
    claims["role"] = "admin"  # callers get a copy: the remembered claims stay as verified
    assert "role" not in service.verify(token)
    service.keys = _service(settings, tmp_path, "b").keys  # the old key left the ring
    with pytest.raises(Unauthorized):
        service.verify(token)
    with pytest.raises(Unauthorized):
        service.verify(token, token_type="mfa")  # remembered per token type


def test_the_verified_token_memory_is_bounded(settings, tmp_path, monkeypatch):
    service = _service(settings, tmp_path, "a")
    monkeypatch.setattr(service, "VERIFIED_CACHE_SIZE", 3)
    tokens = [_issue(service) for _ in range(5)]
    for token in tokens:
        service.verify(token)
    assert len(service._verified) == 3
    assert [key[0] for key in service._verified] == tokens[2:]
