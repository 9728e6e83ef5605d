"""HTTP conventions every endpoint shares: problem+json errors, request ids, security
headers, body limits, pagination."""

from __future__ import annotations

import pytest
from fastapi import Depends
from pydantic import Field

from mindlinks.platform.api import CamelModel, Page, PageDep, domain_router
from mindlinks.platform.errors import Conflict

PROBLEM = "application/problem+json"


class AlreadyThere(Conflict):
    code = "already_there"


class Widget(CamelModel):
    display_name: str = Field(min_length=1)
    unit_count: int = Field(ge=0)


@pytest.fixture
def probe_app(app):
    router = domain_router(prefix="/_probe")

    @router.get("/boom")
    async def boom() -> dict:
        raise RuntimeError("secret internal detail /etc/passwd")

    @router.get("/conflict")
    async def conflict() -> dict:
        raise AlreadyThere("Already there")

    @router.post("/widgets")
    async def widgets(body: Widget) -> Widget:
        return body

    @router.get("/items", response_model=Page[int])
    async def items(page: PageDep) -> Page[int]:
        data = list(range(page.offset, min(page.offset + page.limit, 45)))
        return Page.build(data, 45, page)

    @router.get("/dep")
    async def dep(value: int = Depends(lambda: 1)) -> dict:
        return {"value": value}

    app.include_router(router)
    return app


async def test_unknown_route_is_problem_json(client):
    r = await client.get("/no/such/route")
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["code"] == "not_found" and body["status"] == 404
    assert set(body) >= {"type", "title", "status", "detail", "code"}


async def test_wrong_method(client):
    r = await client.delete("/api/auth/login")
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"
    assert r.headers["allow"] == "POST"


async def test_wrong_method_allow_names_every_route_of_the_path(client):
    # GET and PUT of /api/contractors/me are two routes; Allow must name both.
    r = await client.delete("/api/contractors/me")
    assert r.status_code == 405 and r.headers["allow"] == "GET, PUT"


async def test_openapi_documents_problem_responses(client):
    spec = (await client.get("/openapi.json")).json()
    responses = spec["paths"]["/api/contractors/me"]["put"]["responses"]
    for status in ("401", "404", "422"):
        assert "application/problem+json" in responses[status]["content"]


async def test_malformed_json(client):
    r = await client.post("/api/auth/login", content=b'{"email": ',
                          headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_json"


async def test_validation_errors_name_fields_in_camel_case(client, probe_app):
    r = await client.post("/_probe/widgets", json={"displayName": "", "unitCount": -1, "x": 1})
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"displayName", "unitCount", "x"}
    ok = await client.post("/_probe/widgets", json={"displayName": "a", "unitCount": 2})
    assert ok.json() == {"displayName": "a", "unitCount": 2}


async def test_domain_error(client, probe_app):
    r = await client.get("/_probe/conflict")
    assert r.status_code == 409
    assert r.json() == {"type": "https://mindlinks.dev/problems/already_there",
                        "title": "Conflict", "status": 409, "detail": "Already there",
                        "code": "already_there"}


async def test_unexpected_exception_is_a_generic_500(client, probe_app):
    r = await client.get("/_probe/boom")
    assert r.status_code == 500 and r.headers["content-type"] == PROBLEM
    assert r.json()["code"] == "internal_error"
    assert "secret" not in r.text and "Traceback" not in r.text and "passwd" not in r.text
    assert r.headers["x-request-id"]


async def test_oversized_json_body(client):
    big = b'{"email": "' + b"a" * (1024 * 1024 + 10) + b'", "password": "x"}'
    r = await client.post("/api/auth/login", content=big,
                          headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"


async def test_oversized_streamed_body_without_length(client):
    async def chunks():
        for _ in range(20):
            yield b"x" * 65536 * 2

    r = await client.post("/api/auth/login", content=chunks(),
                          headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"


async def test_request_id_is_echoed_or_generated(client):
    r = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = await client.get("/health", headers={"X-Request-ID": "bad id\nwith newline"})
    assert r.headers["x-request-id"] != "bad id\nwith newline" and len(r.headers["x-request-id"]) == 32
    r = await client.get("/health")
    assert len(r.headers["x-request-id"]) == 32


async def test_security_headers(client):
    r = await client.get("/health")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "strict-transport-security" not in r.headers  # development: no HSTS
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "content-security-policy" in docs.headers
    assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]


async def test_hsts_in_production(settings, monkeypatch):
    import httpx

    from mindlinks import app as app_module
    from mindlinks.app import create_app

    # The production checks (tested in test_settings_cli) are waived: this test is about the
    # header, on the test database.
    prod = settings.model_copy(update={"env": "production"})
    monkeypatch.setattr(app_module, "_production_problems", lambda settings: [])
    application = create_app(prod)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            r = await c.get("/health")
    assert r.headers["strict-transport-security"].startswith("max-age=")


@pytest.mark.parametrize(
    ("query", "status", "meta"),
    [
        ("", 200, {"total": 45, "page": 1, "limit": 20, "totalPages": 3}),
        ("?page=3&limit=20", 200, {"total": 45, "page": 3, "limit": 20, "totalPages": 3}),
        ("?limit=100", 200, {"total": 45, "page": 1, "limit": 100, "totalPages": 1}),
        ("?page=0", 422, None),
        ("?limit=0", 422, None),
        ("?limit=101", 422, None),
        ("?limit=1000000", 422, None),
        ("?page=abc", 422, None),
        ("?page=18446744073709551616", 422, None),  # an offset past 64-bit integers
    ],
)
async def test_pagination(client, probe_app, query, status, meta):
    r = await client.get("/_probe/items" + query)
    assert r.status_code == status
    if meta:
        assert r.json()["meta"] == meta
    if query == "?page=3&limit=20":
        assert r.json()["data"] == list(range(40, 45))


async def test_openapi_has_bearer_scheme_and_seed_tags(client):
    spec = (await client.get("/openapi.json")).json()
    assert any(s.get("scheme") == "bearer" for s in spec["components"]["securitySchemes"].values())
    assert "Auth Service" in {t["name"] for t in spec["tags"]}
    assert "/api/auth/login" in spec["paths"]


async def test_cors_origins_from_settings(settings):
    import httpx

    from mindlinks.app import create_app

    application = create_app(settings.model_copy(update={"cors_origins": ["https://app.example"]}))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            ok = await c.options("/api/auth/login", headers={
                "Origin": "https://app.example", "Access-Control-Request-Method": "POST"})
            bad = await c.options("/api/auth/login", headers={
                "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert ok.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in bad.headers


def test_openapi_examples_match_their_models(app):
    """Every example shown in the OpenAPI document (seed shapes) is valid for its model, and
    the main seed responses have one."""
    import pydantic

    def models(cls: type) -> list[type]:
        return [cls, *(m for sub in cls.__subclasses__() for m in models(sub))]

    from mindlinks.platform.api import ResponseModel

    checked = set()
    for model in models(ResponseModel):
        if getattr(model, "__pydantic_generic_metadata__", {}).get("origin"):
            continue
        for example in (model.model_config.get("json_schema_extra") or {}).get("examples", []):
            try:
                model.model_validate(example)
            except pydantic.ValidationError as exc:
                raise AssertionError(f"{model.__name__}: {exc}") from exc
            checked.add(model.__name__)
    assert {"ContractorProfile", "BankDetails", "TaxInfo", "NotificationPage",
            "TokenPair"} <= checked


async def test_openapi_declares_every_tag_it_uses(client):
    spec = (await client.get("/openapi.json")).json()
    declared = {t["name"] for t in spec["tags"]}
    used = {tag for ops in spec["paths"].values() for op in ops.values()
            for tag in op.get("tags", [])}
    assert used <= declared, used - declared
