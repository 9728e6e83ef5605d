"""The process-wide infrastructure a service function may need besides its session:
settings, token service, rate limiter, mailer and the HMAC secret. Built once by
`create_app` (or the CLI) and handed to services explicitly - no module globals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from mindlinks.platform.email import Mailer
from mindlinks.platform.ratelimit import RateLimiter, create_rate_limiter
from mindlinks.platform.security import KeyRing, TokenService, load_secret_key
from mindlinks.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    keys: KeyRing
    tokens: TokenService
    limiter: RateLimiter
    mailer: Mailer
    secret: bytes

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        keys = KeyRing.from_settings(settings)
        return cls(
            settings=settings,
            keys=keys,
            tokens=TokenService(settings, keys),
            limiter=create_rate_limiter(settings.redis_url),
            mailer=Mailer(settings),
            secret=load_secret_key(settings),
        )


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
