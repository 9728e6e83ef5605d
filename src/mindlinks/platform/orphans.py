"""The daily sweep of orphan files: stored, but referenced by no row.

A file is written before the row that names it is committed (`put_in_transaction` deletes it
again on rollback), so a process killed between the two leaves a file nobody references. The
sweep removes files older than an hour (older than any transaction in flight) that no domain
references.

Platform knows no domain: each domain that stores files declares, when its models are loaded,
the first segment of the keys it writes (`new_key("contracts", ...)` -> `"contracts"`) and the
columns that hold those keys (`register_file_columns("contracts", Contract.document_key, ...)`).
The sweep only looks at keys under a declared prefix, so the files of a domain that declared
nothing are never touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from mindlinks.platform.db import Database, utcnow
from mindlinks.platform.storage import StorageBackend

log = structlog.get_logger("mindlinks.storage")

# Older than any request's transaction: a younger file may belong to one still running.
MIN_AGE = timedelta(hours=1)
_CHUNK = 500

_COLUMNS: dict[str, list[InstrumentedAttribute[str | None]]] = {}


def register_file_columns(prefix: str, *columns: InstrumentedAttribute[str] |
                          InstrumentedAttribute[str | None]) -> None:
    """Declare that keys starting with `prefix/` are referenced from `columns`."""
    known = _COLUMNS.setdefault(prefix, [])
    # By identity: `==` on a column builds a SQL expression.
    known.extend(c for c in columns if not any(c is k for k in known))


async def referenced(session: AsyncSession, prefix: str, keys: Sequence[str]) -> set[str]:
    """Which of `keys` (all under `prefix/`) some row references."""
    found: set[str] = set()
    for column in _COLUMNS.get(prefix, []):
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start:start + _CHUNK]
            found.update(k for k in await session.scalars(
                select(column).where(column.in_(chunk))) if k is not None)
    return found


@dataclass
class SweepReport:
    checked: int = 0
    deleted: list[str] = field(default_factory=list)
    skipped_prefixes: set[str] = field(default_factory=set)


async def sweep_orphans(db: Database, storage: StorageBackend, *,
                        now: datetime | None = None) -> SweepReport:
    """Delete the files older than `MIN_AGE` that no row references. Idempotent; a file that
    becomes referenced while the sweep runs is younger than `MIN_AGE`, so it is not a
    candidate."""
    report = SweepReport()
    by_prefix: dict[str, list[str]] = {}
    for key in await storage.keys_older_than((now or utcnow()) - MIN_AGE):
        prefix = key.split("/", 1)[0]
        if prefix in _COLUMNS:
            by_prefix.setdefault(prefix, []).append(key)
        else:
            report.skipped_prefixes.add(prefix)
    for prefix, keys in by_prefix.items():
        async with db.session() as session:
            kept = await referenced(session, prefix, keys)
        report.checked += len(keys)
        for key in keys:
            if key not in kept:
                await storage.delete(key)
                report.deleted.append(key)
    if report.deleted:
        log.info("orphan_files_deleted", count=len(report.deleted))
    return report
