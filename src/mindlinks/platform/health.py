"""`GET /health` (liveness) and `GET /health/ready` (each dependency with status and latency)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

router = APIRouter(tags=["Health"])


async def health() -> dict[str, str]:
    return {"status": "ok"}


def install(app: FastAPI) -> None:
    """`/health` is the app's own first route, not one of an included router's: probes and
    load balancers call it many times a second, and FastAPI asks an included router's entry
    (its match, then its route's) before the route itself - a layer a bare app does not pay.
    `/health/ready` stays in `router`."""
    app.add_api_route("/health", health, methods=["GET"], tags=["Health"])


async def _timed(check: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await check()
        status = "ok"
    except Exception:
        status = "down"
    return {"status": status, "latencyMs": round((time.perf_counter() - started) * 1000, 2)}


@router.get("/health/ready")
async def ready(request: Request) -> JSONResponse:
    app = request.app
    db = app.state.db
    data_dir = app.state.settings.data_dir

    async def database() -> None:
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def storage() -> None:
        probe = data_dir / f".ready-{uuid.uuid4().hex}"
        probe.write_bytes(b"ok")
        probe.unlink()

    checks = {"database": await _timed(database), "dataDir": await _timed(storage)}
    if app.state.settings.redis_url:
        checks["redis"] = await _timed(app.state.runtime.limiter.ping)
    healthy = all(c["status"] == "ok" for c in checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status_code=200 if healthy else 503,
    )
