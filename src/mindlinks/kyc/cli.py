"""`mindlinks kyc replay <payloadId>`: handle a stored provider webhook again (e.g. one parked
because no session matched). Idempotent: a decision already applied changes nothing.

Exit status: 0 when handled or ignored, 1 when it is still parked, 2 when no such payload.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

import typer

from mindlinks.kyc import webhooks
from mindlinks.platform.db import Database
from mindlinks.platform.errors import NotFound
from mindlinks.settings import get_settings

kyc_app = typer.Typer(help="Identity verification: replay stored provider webhooks.")


async def replay_payload(database_url: str, payload_id: uuid.UUID) -> webhooks.Outcome:
    db = Database(database_url)
    try:
        async with db.session() as session:
            return await webhooks.replay(session, payload_id)
    finally:
        await db.dispose()


@kyc_app.command("replay")
def replay(payload_id: Annotated[uuid.UUID, typer.Argument(help="platform_webhook_events.id")]
           ) -> None:
    """Handle a stored webhook payload again and print the outcome."""
    try:
        outcome = asyncio.run(replay_payload(get_settings().resolved_database_url, payload_id))
    except NotFound as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{payload_id}: {outcome.outcome}"
               + (f" (session {outcome.session_id}: {outcome.status})" if outcome.session_id
                  else ""))
    if outcome.outcome == "parked":
        raise typer.Exit(1)
