"""The server of auth_me_bench: the full platform, and beside it - in the same process, outside
the platform's middleware - a bare FastAPI app answering JSON at /bare (the floor)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from mindlinks.app import create_app


def create() -> Any:
    platform = create_app()
    bare = FastAPI()

    @bare.get("/bare")
    async def bare_endpoint() -> dict[str, str]:
        return {"id": "00000000-0000-0000-0000-000000000000", "email": "bare@example.com"}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/bare":
            await bare(scope, receive, send)
        else:
            await platform(scope, receive, send)

    return app
