"""CPU-bound work off the event loop: `await run_cpu(fn, *args)`.

One request rendering a long PDF or decoding a large image must not stall every other
request. Such work runs on one small, bounded thread pool shared by the process: its size caps
how many cores heavy requests can take at once (the rest queue), while the event loop keeps
answering. The libraries doing the work (Pillow, zlib, hashlib, pyHanko's cryptography) release
the GIL for their heavy parts; pure-Python work (fpdf2 layout) still shares the GIL, but the
interpreter hands it back to the loop every few milliseconds, so the loop keeps serving.

The caller's context variables (request id, log bindings) travel with the call. Nothing that
touches a database session may run here: sessions belong to the loop.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

# At most this many CPU-heavy calls run at once; more wait their turn in the pool's queue.
MAX_WORKERS = max(2, min(4, os.cpu_count() or 2))

_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="mindlinks-cpu")
    return _pool


async def run_cpu(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """`fn(*args, **kwargs)` on the CPU pool; its result, or its exception, as if called here."""
    context = contextvars.copy_context()
    call = functools.partial(context.run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_executor(), call)
