"""Start-up wiring: the `Notifier` (channels, live hub) on `app.state` and on every session of
the app's database (subscribers find it there), default templates seeded, the Redis relay
started and stopped with the app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI

from mindlinks.notifications import templates
from mindlinks.notifications.channels import build_channels
from mindlinks.notifications.delivery import SESSION_KEY, Notifier
from mindlinks.notifications.live import LiveHub

log = structlog.get_logger("mindlinks.notifications")


def install(app: FastAPI) -> None:
    settings = app.state.settings
    db = app.state.db
    notifier = Notifier(
        settings, db, build_channels(settings),
        LiveHub(settings.redis_url, settings.notifications_redis_prefix),
        app.state.runtime.secret,
    )
    app.state.notifier = notifier
    # Merged: other domains put their own entries there too.
    db.sessionmaker.configure(info={**db.sessionmaker.kw.get("info", {}), SESSION_KEY: notifier})

    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with inner(application) as state:
            try:
                await templates.seed_defaults(db)
            except Exception:
                # A database that is down at start-up must not keep the app from serving
                # /health/ready (which reports it); `templates.load` falls back to the
                # defaults, and the next start seeds them.
                log.warning("notification_templates_not_seeded", exc_info=True)
            await notifier.hub.start()
            try:
                yield state
            finally:
                notifier.close()
                await notifier.drain()
                await notifier.hub.stop()

    app.router.lifespan_context = lifespan
