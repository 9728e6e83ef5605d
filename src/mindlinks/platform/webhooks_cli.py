"""`mindlinks webhooks replay <id>`: handle a stored provider webhook again (any domain's), e.g.
one parked because nothing matched it yet. Idempotent: an event already applied changes nothing.

Exit status: 0 when handled or ignored, 1 when it is still parked, 2 when no such webhook.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

import typer

from mindlinks.platform import webhooks
from mindlinks.platform.db import Database
from mindlinks.platform.errors import NotFound
from mindlinks.settings import get_settings

webhooks_app = typer.Typer(help="Provider webhooks: replay stored events.",
                           no_args_is_help=True)


async def replay_event(database_url: str, event_id: uuid.UUID) -> tuple[str, str]:
    db = Database(database_url)
    try:
        async with db.session() as session:
            row = await webhooks.replay(session, event_id)
            return row.domain, row.status
    finally:
        await db.dispose()


@webhooks_app.command("replay")
def replay(event_id: Annotated[uuid.UUID, typer.Argument(help="platform_webhook_events.id")]
           ) -> None:
    """Handle a stored webhook again and print the outcome."""
    try:
        domain, status = asyncio.run(replay_event(get_settings().resolved_database_url,
                                                  event_id))
    except NotFound as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{event_id} ({domain}): {status}")
    if status == webhooks.Status.PARKED:
        raise typer.Exit(1)
