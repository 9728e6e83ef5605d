"""Fixed-window counters for throttling: in-process memory by default, Redis when configured
(shared by every server process). Keys are namespaced by the caller (`login:acct:<hash>`).

`hit` (one key) and `hit_many` (several keys, taken together) are the only ways to spend budget
and they are atomic: each returns the count *including* this hit (memory: no await between read
and write; Redis: INCR inside one MULTI). Callers take the budget before
doing the expensive or guarded work and give it back (`give_back`) when the attempt must not
count, so concurrent attempts can never all see the same old count."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from mindlinks.platform.errors import TooManyRequests


@dataclass(frozen=True)
class WindowState:
    count: int
    retry_after: int  # seconds until the window resets


class RateLimiter(Protocol):
    async def hit(self, key: str, window: int) -> WindowState: ...
    async def hit_many(self, keys: Sequence[str], window: int) -> list[WindowState]: ...
    async def peek(self, key: str) -> WindowState: ...
    async def give_back(self, key: str) -> None: ...
    async def reset(self, key: str) -> None: ...
    async def ping(self) -> None: ...
    async def close(self) -> None: ...


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, float]] = {}

    def _current(self, key: str) -> tuple[int, float]:
        count, resets_at = self._windows.get(key, (0, 0.0))
        if resets_at <= time.monotonic():
            return 0, 0.0
        return count, resets_at

    def _hit(self, key: str, window: int) -> WindowState:
        count, resets_at = self._current(key)
        if not count:
            resets_at = time.monotonic() + window
        self._windows[key] = (count + 1, resets_at)
        if len(self._windows) > 100_000:  # forget expired windows now and then
            now = time.monotonic()
            self._windows = {k: v for k, v in self._windows.items() if v[1] > now}
        return WindowState(count + 1, max(1, int(resets_at - time.monotonic()) + 1))

    async def hit(self, key: str, window: int) -> WindowState:
        return self._hit(key, window)

    async def hit_many(self, keys: Sequence[str], window: int) -> list[WindowState]:
        return [self._hit(key, window) for key in keys]  # no await: one step for the loop

    async def peek(self, key: str) -> WindowState:
        count, resets_at = self._current(key)
        return WindowState(count, max(0, int(resets_at - time.monotonic()) + 1) if count else 0)

    async def give_back(self, key: str) -> None:
        count, resets_at = self._current(key)
        if count > 0:
            self._windows[key] = (count - 1, resets_at)

    async def reset(self, key: str) -> None:
        self._windows.pop(key, None)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None


_GIVE_BACK = """
if redis.call('GET', KEYS[1]) and tonumber(redis.call('GET', KEYS[1])) > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
"""


class RedisRateLimiter:
    def __init__(self, url: str, prefix: str = "mindlinks:rl:") -> None:
        from redis.asyncio import Redis

        self.redis = Redis.from_url(url)
        self.prefix = prefix

    async def hit(self, key: str, window: int) -> WindowState:
        return (await self.hit_many([key], window))[0]

    async def hit_many(self, keys: Sequence[str], window: int) -> list[WindowState]:
        # One MULTI: concurrent callers see the keys' counts move together, so the attempt
        # with the 3rd account hit is also the 3rd address hit of the same burst.
        async with self.redis.pipeline(transaction=True) as pipe:
            for key in keys:
                k = self.prefix + key
                pipe.incr(k)
                pipe.expire(k, window, nx=True)
                pipe.ttl(k)
            replies = await pipe.execute()
        return [WindowState(int(replies[i]), max(1, int(replies[i + 2])))
                for i in range(0, len(replies), 3)]

    async def peek(self, key: str) -> WindowState:
        k = self.prefix + key
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.get(k)
            pipe.ttl(k)
            count, ttl = await pipe.execute()
        return WindowState(int(count or 0), max(0, int(ttl)))

    async def give_back(self, key: str) -> None:
        # Only while the window lives: a DECR on an expired key would start a negative one.
        await self.redis.eval(_GIVE_BACK, 1, self.prefix + key)

    async def reset(self, key: str) -> None:
        await self.redis.delete(self.prefix + key)

    async def ping(self) -> None:
        await self.redis.ping()

    async def close(self) -> None:
        await self.redis.aclose()


def create_rate_limiter(redis_url: str | None) -> RateLimiter:
    return RedisRateLimiter(redis_url) if redis_url else MemoryRateLimiter()


async def enforce(limiter: RateLimiter, key: str, *, limit: int, window: int) -> None:
    """Count one request against `key`; 429 with Retry-After once `limit` is passed."""
    state = await limiter.hit(key, window)
    if state.count > limit:
        raise TooManyRequests("Too many requests; try again later.", retry_after=state.retry_after)
