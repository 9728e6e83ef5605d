"""Scheduled work of the platform itself (see `mindlinks.scheduler`)."""

from __future__ import annotations

from mindlinks.platform.db import Database
from mindlinks.platform.orphans import SweepReport, sweep_orphans
from mindlinks.platform.storage import storage_from_settings
from mindlinks.settings import get_settings


async def sweep_orphan_files(db: Database) -> SweepReport:
    return await sweep_orphans(db, storage_from_settings(get_settings()))


JOBS = {"storage.sweep-orphans": sweep_orphan_files}
