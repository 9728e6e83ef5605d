"""`mindlinks alerts list [--source S]` and `mindlinks alerts resolve <id>`: the operator's
view of the system alerts (`platform/alerts.py`)."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Annotated, Any

import typer

from mindlinks.platform import alerts
from mindlinks.platform.db import Database
from mindlinks.settings import get_settings

alerts_app = typer.Typer(help="System alerts raised by jobs (e.g. reconciliation).",
                         no_args_is_help=True)


async def _list(url: str, source: str | None) -> list[dict[str, Any]]:
    db = Database(url)
    try:
        async with db.session() as session:
            return [{"id": str(a.id), "source": a.source, "kind": a.kind, "key": a.key,
                     "summary": a.summary, "details": a.details,
                     "createdAt": a.created_at.isoformat()}
                    for a in (await alerts.open_alerts(session, source=source))[0]]
    finally:
        await db.dispose()


async def _resolve(url: str, alert_id: uuid.UUID) -> bool:
    db = Database(url)
    try:
        async with db.session() as session:
            return await alerts.resolve(session, alert_id)
    finally:
        await db.dispose()


@alerts_app.command("list")
def list_command(source: Annotated[str | None, typer.Option(help="Only this source")] = None
                 ) -> None:
    """Print the open alerts (oldest first, at most 100) as JSON lines."""
    for row in asyncio.run(_list(get_settings().resolved_database_url, source)):
        typer.echo(json.dumps(row))


@alerts_app.command("resolve")
def resolve_command(alert_id: Annotated[uuid.UUID, typer.Argument()]) -> None:
    """Mark an alert resolved (it stays on record)."""
    if not asyncio.run(_resolve(get_settings().resolved_database_url, alert_id)):
        typer.echo("error: no such open alert", err=True)
        raise typer.Exit(2)
    typer.echo(f"{alert_id}: resolved")
