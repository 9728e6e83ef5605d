"""Scheduled jobs of every domain: `mindlinks jobs run` and the worker's daily scheduler.

A domain lists its jobs in `<domain>/jobs.py` as `JOBS = {"name": async fn(db) -> report}`;
each job opens its own transaction(s) and is idempotent, so running it twice, late, or from two
workers at once does no harm. Domains are visited in `DOMAINS` order (bottom first).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from mindlinks.platform.db import Database

log = structlog.get_logger("mindlinks.scheduler")

Job = Callable[[Database], Awaitable[Any]]
DAY_SECONDS = 24 * 3600


def collect_jobs() -> dict[str, Job]:
    from mindlinks.app import DOMAINS

    jobs: dict[str, Job] = {}
    for package in ["mindlinks.platform", *DOMAINS]:
        module = importlib.import_module(package)
        if "jobs" in {m.name for m in pkgutil.iter_modules(module.__path__)}:
            jobs.update(getattr(importlib.import_module(f"{package}.jobs"), "JOBS", {}))
    return jobs


async def run_jobs(db: Database, names: list[str] | None = None) -> dict[str, Any]:
    """Run the named jobs (all when None) one after another; a failing job is logged and the
    others still run. Returns each job's report (or the exception)."""
    jobs = collect_jobs()
    unknown = sorted(set(names or []) - set(jobs))
    if unknown:
        raise KeyError(f"unknown job(s): {', '.join(unknown)}")
    results: dict[str, Any] = {}
    for name, job in jobs.items():
        if names and name not in names:
            continue
        try:
            results[name] = await job(db)
            log.info("job_done", job=name, report=repr(results[name]))
        except Exception as exc:
            log.exception("job_failed", job=name)
            results[name] = exc
    return results


async def run_daily(db: Database, stop: asyncio.Event, *, interval: float = DAY_SECONDS) -> None:
    """The worker's scheduler: every job at start, then once per `interval`, until `stop`."""
    while not stop.is_set():
        await run_jobs(db)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
