from __future__ import annotations

import httpx

from mindlinks.app import create_app


async def test_liveness(client):
    r = await client.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


async def test_readiness_reports_each_dependency(client):
    r = await client.get("/health/ready")
    assert r.status_code == 200
    checks = r.json()["checks"]
    assert set(checks) == {"database", "dataDir"}
    assert all(c["status"] == "ok" and c["latencyMs"] >= 0 for c in checks.values())


async def test_readiness_is_503_when_redis_is_down(settings):
    application = create_app(settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"}))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            r = await c.get("/health/ready")
    assert r.status_code == 503
    body = r.json()
    assert body["checks"]["redis"]["status"] == "down"
    assert body["checks"]["database"]["status"] == "ok"


async def test_readiness_is_503_when_the_database_is_down(settings, tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/missing-dir/nope.db"
    application = create_app(settings.model_copy(update={"database_url": url}))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            r = await c.get("/health/ready")
    assert r.status_code == 503 and r.json()["checks"]["database"]["status"] == "down"
