"""Fixtures of the notifications tests: events delivered through the real outbox and
dispatcher, SMS lines, uvicorn servers and live streams (users, mail and the SMTP server come
from tests/conftest.py and tests/factories.py)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from mindlinks.notifications.delivery import Notifier
from mindlinks.platform.events import emit
from tests.factories import free_port


async def emit_and_deliver(app: Any, name: str, payload: dict[str, Any]) -> uuid.UUID:
    """Emit `name` in its own transaction, run the dispatcher, wait for the sends."""
    async with app.state.db.session() as session:
        event_id = await emit(session, name, payload)
    await app.state.dispatcher.drain()
    await app.state.notifier.drain()
    return event_id


@pytest.fixture
def notifier(app: Any) -> Notifier:
    notifier: Notifier = app.state.notifier
    return notifier


def sms_lines(data_dir: Path) -> list[dict[str, Any]]:
    import json

    path = data_dir / "sms" / "outbox.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


@contextlib.asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    """Serve `app` (lifespan already running) with uvicorn on a free loopback port."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off",
                                           log_level="warning"))
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        server.force_exit = True
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)


async def next_sse_event(lines: Any, wanted: str, timeout: float = 10) -> dict[str, Any]:
    """Read SSE lines until an event named `wanted`; its JSON data (bounded in time)."""
    import json

    event = None
    async with asyncio.timeout(timeout):
        async for line in lines:
            if line.startswith("event: "):
                event = line[len("event: "):]
            elif line.startswith("data: ") and event == wanted:
                return dict(json.loads(line[len("data: "):]))
            elif line == "":
                event = None
    raise AssertionError("stream ended")


@contextlib.asynccontextmanager
async def running_app(settings: Any, **updates: Any) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """Another app instance on the test database, with changed settings, and its client."""
    from mindlinks.app import create_app

    application = create_app(settings.model_copy(update=updates))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, client=("203.0.113.9", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield application, c


@contextlib.asynccontextmanager
async def sse_stream(app: Any, headers: dict[str, str]) -> AsyncIterator[httpx.Response]:
    """Serve `app` over HTTP and open the caller's notification stream."""
    async with (
        serve(app) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=10) as http,
        http.stream("GET", "/api/notifications/me/stream", headers=headers) as stream,
    ):
        yield stream
