"""`mindlinks payments reconcile --date YYYY-MM-DD`: compare the book with the provider's
records of one UTC day (`payments/reconciliation.py`) and raise a system alert per difference.

Prints the report as JSON. Exit status: 0 when the books agree, 1 when there are differences
(alerts raised now or on an earlier run), 2 on bad input or an unreachable provider.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import typer

from mindlinks.payments import reconciliation
from mindlinks.platform.db import Database
from mindlinks.platform.errors import DomainError
from mindlinks.settings import get_settings

payments_app = typer.Typer(help="Payments: reconciliation with the provider.",
                           no_args_is_help=True)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter("use YYYY-MM-DD") from exc


async def run_reconcile(database_url: str, day: date,
                        records: reconciliation.ProviderRecords | None = None) -> dict[str, Any]:
    db = Database(database_url)
    try:
        async with db.session() as session:
            report = await reconciliation.reconcile(
                session, records or reconciliation.records_provider(get_settings()), day)
            return report.to_json()
    finally:
        await db.dispose()


@payments_app.command("reconcile")
def reconcile_command(
    day: Annotated[str, typer.Option("--date", help="The UTC day, YYYY-MM-DD")] = "",
) -> None:
    """Reconcile one day (default: yesterday, UTC) and print the report."""
    when = _day(day) if day else (datetime.now(UTC) - timedelta(days=1)).date()
    try:
        report = asyncio.run(run_reconcile(get_settings().resolved_database_url, when))
    except DomainError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from exc
    sys.stdout.write(json.dumps(report, indent=2) + "\n")
    if report["differences"]:
        raise typer.Exit(1)
