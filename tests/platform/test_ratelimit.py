"""Rate-limit backends: the same behaviour in memory and on the local Redis."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from mindlinks.app import create_app
from mindlinks.platform.errors import TooManyRequests
from mindlinks.platform.ratelimit import MemoryRateLimiter, RedisRateLimiter, enforce


@pytest.fixture(params=["memory", "redis"])
async def limiter(request):
    if request.param == "memory":
        yield MemoryRateLimiter()
        return
    url = request.getfixturevalue("redis_url")
    backend = RedisRateLimiter(url, prefix=f"test:{uuid.uuid4().hex}:")
    yield backend
    await backend.close()


async def test_counts_within_a_window(limiter):
    key = "k"
    assert (await limiter.peek(key)).count == 0
    for n in range(1, 4):
        state = await limiter.hit(key, 60)
        assert state.count == n and 0 < state.retry_after <= 61
    assert (await limiter.peek(key)).count == 3
    await limiter.reset(key)
    assert (await limiter.peek(key)).count == 0


async def test_concurrent_hits_each_get_their_own_count(limiter):
    """The budget is taken atomically: 30 hits at once see 30 different counts."""
    states = await asyncio.gather(*[limiter.hit("c", 60) for _ in range(30)])
    assert sorted(s.count for s in states) == list(range(1, 31))


async def test_give_back_returns_one_hit_and_never_goes_below_zero(limiter):
    await limiter.hit("g", 60)
    await limiter.hit("g", 60)
    await limiter.give_back("g")
    assert (await limiter.peek("g")).count == 1
    await limiter.give_back("g")
    await limiter.give_back("g")
    await limiter.give_back("never-hit")
    assert (await limiter.peek("g")).count == 0
    assert (await limiter.peek("never-hit")).count == 0
    assert (await limiter.hit("g", 60)).count == 1


async def test_enforce_raises_with_retry_after(limiter):
    for _ in range(3):
        await enforce(limiter, "e", limit=3, window=60)
    with pytest.raises(TooManyRequests) as err:
        await enforce(limiter, "e", limit=3, window=60)
    assert err.value.headers["Retry-After"].isdigit()
    assert int(err.value.headers["Retry-After"]) >= 1


async def test_login_throttle_is_shared_by_app_instances_through_redis(settings, redis_url):
    """Two app instances (two server processes in production) share one Redis window."""
    prefix_settings = settings.model_copy(update={"redis_url": redis_url})
    apps = [create_app(prefix_settings), create_app(prefix_settings)]
    # Isolate this test's keys on the shared Redis.
    prefix = f"test:{uuid.uuid4().hex}:"
    for a in apps:
        a.state.runtime.limiter.prefix = prefix
    email = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    codes = []
    for n in range(6):
        a = apps[n % 2]
        async with a.router.lifespan_context(a):
            transport = httpx.ASGITransport(app=a, client=("198.51.100.9", 1))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                r = await c.post("/api/auth/login", json={"email": email, "password": "x" * 12})
                codes.append(r.status_code)
    assert codes == [401] * 5 + [429]
