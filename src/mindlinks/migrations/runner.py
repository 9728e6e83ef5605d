"""Run Alembic from code, on an async engine, inside or outside a running event loop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

HERE = Path(__file__).parent


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    return cfg


async def upgrade(engine: AsyncEngine, revision: str = "heads") -> None:
    cfg = alembic_config()

    def _run(connection: Any) -> None:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    # SQLite DDL must not run inside our BEGIN IMMEDIATE hook's transaction twice; Alembic
    # manages its own transaction on this connection.
    async with engine.connect() as conn:
        await conn.run_sync(_run)
        await conn.commit()


async def current(engine: AsyncEngine) -> tuple[str, ...]:
    """The applied heads (one per domain branch)."""
    from alembic.runtime.migration import MigrationContext

    def _cur(connection: Any) -> tuple[str, ...]:
        return tuple(sorted(MigrationContext.configure(connection).get_current_heads()))

    async with engine.connect() as conn:
        return await conn.run_sync(_cur)
