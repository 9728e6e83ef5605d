"""Text with a NUL character (PostgreSQL cannot store it: a 500 there, silently kept on
SQLite) is refused with 422 `invalid_characters` in every field of every request model, in
query strings and in paths; JSON nested absurdly deep is refused without a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from mindlinks.auth.models import User
from mindlinks.platform.json_input import JsonTooDeep, json_depth, parse_json
from tests.factories import bearer, register, unique_email
from tests.platform.test_request_limits import _request_models

NUL = "a\x00b"


def _error_types(model: Any, body: dict[str, Any]) -> dict[str, str]:
    try:
        model.model_validate(body)
    except ValidationError as exc:
        return {str(e["loc"][0]): e["type"] for e in exc.errors()}
    return {}


@pytest.mark.parametrize("value", [NUL, [NUL], {"k": NUL}, {NUL: 1}, [[{"x": [NUL]}]]])
def test_every_field_of_every_request_model_refuses_nul(value: Any) -> None:
    """Whatever the field's type - text, list, map, nested model, flag - a NUL anywhere in
    its value is `invalid_characters` at that field."""
    checked = 0
    for model in _request_models():
        for name, field in model.model_fields.items():
            alias = field.alias or name
            errors = _error_types(model, {alias: value})
            assert errors.get(alias) == "invalid_characters", (model.__name__, alias, errors)
            checked += 1
    assert checked > 100


def test_text_without_nul_is_untouched() -> None:
    from mindlinks.auth.schemas import RegisterRequest

    body = RegisterRequest.model_validate({"email": "a@example.com", "password": "x" * 12,
                                           "role": "client", "name": "Zoë \t\u200b ok"})
    assert body.name == "Zoë \t\u200b ok"


async def test_nul_in_a_body_is_422_and_nothing_is_stored(client: httpx.AsyncClient) -> None:
    email = unique_email()
    response = await client.post("/api/auth/register", json={
        "email": email, "password": "correct horse battery staple", "role": "client",
        "name": "Eve\x00"})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "invalid_characters"
    assert problem["errors"][0]["field"] == "name"
    # The same body without the NUL works: nothing half-done blocks the address.
    ok = await client.post("/api/auth/register", json={
        "email": email, "password": "correct horse battery staple", "role": "client",
        "name": "Eve"})
    assert ok.status_code == 201, ok.text


async def test_nul_in_a_nested_dict_key_is_refused(client: httpx.AsyncClient, app: Any) -> None:
    user = await register(client, "contractor")
    headers = bearer(user["accessToken"])
    response = await client.put("/api/notifications/me/preferences", headers=headers,
                                json={"optOuts": {"contract\x00signed": ["email"]}})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_characters"


async def test_nul_in_query_or_path_is_refused(client: httpx.AsyncClient, app: Any) -> None:
    user = await register(client, "contractor")
    headers = bearer(user["accessToken"])
    for url in ("/api/notifications/unsubscribe?token=abc%00def",
                "/api/ledger/entities/contract%00/x/history",
                "/api/countries?x=%00"):
        response = await client.get(url, headers=headers)
        assert response.status_code == 422, (url, response.text)
        assert response.json()["code"] == "invalid_characters"
    async with app.state.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 1


def test_parse_json_bounds_depth_without_recursion() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(ValueError):  # orjson's own limit, not a RecursionError
        parse_json(deep)
    assert parse_json(b"[" * 64 + b"]" * 64) == parse_json(b"[" * 64 + b"]" * 64)
    with pytest.raises(JsonTooDeep):
        parse_json(b"[" * 65 + b"]" * 65)
    assert json_depth({"a": [1, {"b": 2}]}) == 3
    assert json_depth(5) == 0


async def test_deeply_nested_json_body_is_a_client_error(client: httpx.AsyncClient) -> None:
    for depth in (900, 100_000):
        body = b'{"email":' + b"[" * depth + b"]" * depth + b"}"
        response = await client.post("/api/auth/password/forgot", content=body,
                                     headers={"Content-Type": "application/json"})
        assert 400 <= response.status_code < 500, (depth, response.status_code)


# RELIABILITY 43: hostile values for every path and query parameter of the OpenAPI document -
# an invalid UTF-8 sequence (a lone surrogate's encoding), a NUL, an integer past 64 bits, a
# negative number, a year-9999 date and a lone surrogate escaped in JSON.
HOSTILE = ("%ED%A0%80", "%00", "9223372036854775808", "-1", "9999-12-31", "%5Cud800")


async def test_hostile_path_and_query_values_are_4xx_on_every_operation(
        client: httpx.AsyncClient, app: Any, admin: Any, contractor: Any) -> None:
    """Every operation, called by an admin (who passes most guards, so the values reach the
    validation and the queries) and a contractor, with each hostile value in each of its path
    parameters and each of its query parameters, answers a 4xx problem - never a 5xx."""
    import re
    import uuid

    spec = app.openapi()
    failures, sent = [], 0
    for path, operations in spec["paths"].items():
        if path.endswith("/stream"):
            continue  # a live stream: its parameters are checked before it opens (same code)
        for method, operation in operations.items():
            params = operation.get("parameters", [])
            queries = [p["name"] for p in params if p["in"] == "query"]
            path_params = re.findall(r"\{([a-z_]+)\}", path)
            urls = []
            for value in HOSTILE:
                for name in path_params:
                    urls.append(re.sub(r"\{[a-z_]+\}", lambda m, n=name, v=value: v if m.group(
                        0) == "{" + n + "}" else str(uuid.uuid4()), path))
                base = re.sub(r"\{[a-z_]+\}", lambda _m: str(uuid.uuid4()), path)
                urls += [f"{base}?{name}={value}" for name in queries]
            for url in urls:
                for headers in (admin.headers, contractor.headers):
                    body = None if method in ("get", "delete") else b'{"a": "\\ud800"}'
                    response = await client.request(
                        method.upper(), url, headers={**headers, "Content-Type":
                                                      "application/json"}, content=body)
                    sent += 1
                    if response.status_code >= 500 or not response.headers.get(
                            "content-type", "").startswith(("application/problem+json",
                                                            "application/json", "text/")):
                        failures.append((method.upper(), url, response.status_code,
                                         response.text[:120]))
    assert sent > 500, sent
    assert failures == [], failures
