"""`mindlinks payouts sandbox <withdrawalId> complete|fail|fail-after-paid`: the sandbox bank's
side of a payout the worker sent (see payouts_control). Exit status 2 when there is no such
payout, 1 when it was not sent yet (run the worker)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

import typer

from mindlinks.payments import payouts_control, setup
from mindlinks.payments.providers import SandboxProvider, sandbox_secret
from mindlinks.platform.db import Database
from mindlinks.platform.errors import Conflict, NotFound
from mindlinks.platform.security import load_secret_key
from mindlinks.settings import get_settings

payouts_app = typer.Typer(help="Withdrawal payouts: play the sandbox bank's side.",
                          no_args_is_help=True)


async def run_outcome(withdrawal_id: uuid.UUID, outcome: payouts_control.Outcome) -> list[str]:
    settings = get_settings()
    secret = load_secret_key(settings)
    db = Database(settings.resolved_database_url)
    setup.install_payouts(db, settings, secret)
    provider = SandboxProvider(secret=sandbox_secret(settings, secret),
                               public_url=settings.resolved_public_url)
    try:
        async with db.session() as session:
            return await payouts_control.act(session, provider, withdrawal_id, outcome)
    finally:
        await db.dispose()


@payouts_app.command("sandbox")
def sandbox(
    withdrawal_id: Annotated[uuid.UUID, typer.Argument(help="the withdrawal's id")],
    outcome: Annotated[str, typer.Argument(help="complete | fail | fail-after-paid")],
) -> None:
    """Complete, fail, or fail-after-paid a sandbox payout; the signed events are delivered."""
    if outcome not in payouts_control.STEPS:
        typer.echo("error: outcome is complete, fail or fail-after-paid", err=True)
        raise typer.Exit(2)
    try:
        results = asyncio.run(run_outcome(withdrawal_id, outcome))  # type: ignore[arg-type]
    except NotFound as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from exc
    except Conflict as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from exc
    for line in results:
        typer.echo(line)
