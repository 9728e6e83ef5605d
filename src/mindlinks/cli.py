"""`mindlinks serve | worker | migrate | create-admin | --version` (and the domains' groups)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Annotated, Any

import typer

from mindlinks import __version__
from mindlinks.keys_cli import keys_app
from mindlinks.kyc.cli import kyc_app
from mindlinks.ledger.cli import ledger_app
from mindlinks.payments.cli import payments_app
from mindlinks.payments.payouts_cli import payouts_app
from mindlinks.platform.alerts_cli import alerts_app
from mindlinks.platform.webhooks_cli import webhooks_app
from mindlinks.settings import get_settings


class DatabaseNotMigrated(Exception):
    """Raised by commands that check the schema before doing anything."""


def _database_problem(exc: BaseException) -> str | None:
    """One line for the database errors a newcomer meets (no schema yet, wrong directory,
    server down); None for anything else, which keeps its traceback."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

    seen: BaseException | None = exc
    while seen is not None and not isinstance(
            seen, DBAPIError | ConnectionError | DatabaseNotMigrated):
        seen = seen.__cause__ or seen.__context__
    if seen is None or isinstance(seen, IntegrityError | DataError):  # bugs: keep the traceback
        return None
    settings = get_settings()
    url = make_url(settings.resolved_database_url).render_as_string(hide_password=True)
    if isinstance(seen, DatabaseNotMigrated):
        reason = "no migrations applied"
    else:
        reason = (str(getattr(seen, "orig", None) or seen).strip().splitlines() or [""])[0]
    if (isinstance(seen, DatabaseNotMigrated) or "no such table" in reason
            or "does not exist" in reason):
        return (f"the database {url} is not set up ({reason}). Run `mindlinks migrate` first, "
                f"or run this command where your data lives (set MINDLINKS_DATA_DIR; "
                f"now {settings.data_dir.resolve()}).")
    return f"cannot use the database {url}: {reason}"


class _Cli(typer.Typer):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            # A missing data directory makes SQLite fail to open the file, and aiosqlite then
            # prints a thread traceback of its own; an empty database gets the one-line answer.
            settings = get_settings()
            if settings.is_sqlite and not settings.database_url:
                settings.data_dir.mkdir(parents=True, exist_ok=True)
            # Every command may emit events (jobs, webhook replays, payouts): `emit` writes a
            # delivery row per registered subscriber, so they are registered as `serve` has
            # them - otherwise a payroll run from `jobs run` notified nobody.
            from mindlinks.app import load_subscribers

            load_subscribers()
            return super().__call__(*args, **kwargs)
        except Exception as exc:
            message = _database_problem(exc)
            if message is None:
                raise
            typer.echo(f"error: {message}", err=True)
            raise SystemExit(1) from None


app = _Cli(help="Mind-Links: the open platform for hiring contractors across borders.",
           no_args_is_help=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mindlinks {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Mind-Links command line."""


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (creates the SQLite file if needed)."""
    from mindlinks.migrations import runner
    from mindlinks.platform.db import create_engine

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def _run() -> None:
        engine = create_engine(settings.resolved_database_url)
        try:
            await runner.upgrade(engine)
            typer.echo("database at revision " + ", ".join(await runner.current(engine)))
        finally:
            await engine.dispose()

    asyncio.run(_run())


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default: MINDLINKS_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="Default: MINDLINKS_PORT")] = None,
    workers: Annotated[int | None, typer.Option(help="Server processes")] = None,
) -> None:
    """Serve the platform (API, docs at /docs) with uvicorn."""
    import uvicorn

    if workers:
        # The app needs to know it is not alone (revocations must then go through Redis).
        os.environ["MINDLINKS_WORKERS"] = str(workers)
    settings = get_settings()
    uvicorn.run(
        "mindlinks.app:create_app",
        factory=True,
        **uvicorn_options(host or settings.host, port or settings.port,
                          workers or settings.workers),
    )


def uvicorn_options(host: str, port: int, workers: int) -> dict[str, Any]:
    """How `serve` runs uvicorn; the benchmark serves its floor app with exactly these."""
    return {
        "host": host,
        "port": port,
        "workers": workers,
        "proxy_headers": True,
        "access_log": False,  # our middleware logs each request with its request id
        "server_header": False,
    }


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="Deliver what is due, then exit.")] = False,
) -> None:
    """Run the event dispatcher as its own process (several may run side by side)."""
    from mindlinks.app import create_app, freeze_startup_objects

    settings = get_settings()
    application = create_app(settings)
    dispatcher = application.state.dispatcher
    if settings.freeze_startup_objects:  # as `serve` does (app.lifespan)
        freeze_startup_objects()

    async def _run() -> None:
        if once:
            delivered = await dispatcher.drain()
            typer.echo(f"delivered {delivered}")
        else:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            typer.echo("worker started")
            from mindlinks.scheduler import run_daily

            # Daily jobs (expiries, ...) run beside the dispatcher; they are idempotent.
            scheduled = asyncio.create_task(run_daily(application.state.db, stop))
            await dispatcher.run_forever(settings.dispatcher_poll_seconds, stop)
            await scheduled
        await application.state.db.dispose()

    asyncio.run(_run())


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="The administrator's email")],
    name: Annotated[str | None, typer.Option(help="Display name")] = None,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from standard input (scripts)")] = False,
) -> None:
    """Create an administrator with TOTP enrolled; prints the otpauth URI and recovery codes."""
    from mindlinks.auth import service
    from mindlinks.models import load_all
    from mindlinks.platform import crypto_keys
    from mindlinks.platform.db import Database
    from mindlinks.platform.errors import DomainError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    settings = get_settings()
    load_all()
    crypto_keys.configure(settings)  # the TOTP secret is stored encrypted

    async def _run() -> tuple[str, list[str]]:
        db = Database(settings.resolved_database_url)
        try:
            async with db.session() as session:
                _user, uri, codes = await service.create_admin(session, settings, email, password,
                                                                name)
            return uri, codes
        finally:
            await db.dispose()

    try:
        uri, codes = asyncio.run(_run())
    except DomainError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from exc
    typer.echo("Administrator created. Add this to your authenticator app:")
    typer.echo(uri)
    typer.echo("Recovery codes (each works once; store them safely):")
    for code in codes:
        typer.echo(f"  {code}")


app.add_typer(ledger_app, name="ledger")
app.add_typer(keys_app, name="keys")
app.add_typer(kyc_app, name="kyc")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(payments_app, name="payments")
app.add_typer(alerts_app, name="alerts")
app.add_typer(payouts_app, name="payouts")

jobs_app = typer.Typer(help="Scheduled jobs of the domains (the worker runs them daily).",
                       no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")


@jobs_app.command("list")
def jobs_list() -> None:
    """Print the names of the scheduled jobs."""
    from mindlinks.scheduler import collect_jobs

    for name in collect_jobs():
        typer.echo(name)


@jobs_app.command("run")
def jobs_run(
    names: Annotated[list[str] | None, typer.Argument(help="Jobs to run (default: all)")] = None,
) -> None:
    """Run the scheduled jobs once now (idempotent: safe to run again)."""
    from mindlinks.app import freeze_startup_objects
    from mindlinks.models import load_all
    from mindlinks.platform.db import Database
    from mindlinks.scheduler import collect_jobs, run_jobs

    settings = get_settings()
    load_all()
    collect_jobs()  # imported before the freeze: what start-up builds
    if settings.freeze_startup_objects:
        freeze_startup_objects()

    async def _run() -> dict[str, object]:
        from mindlinks.migrations import runner

        db = Database(settings.resolved_database_url)
        try:
            # Every job would fail (and log its traceback) on a database without the schema.
            if not await runner.current(db.engine):
                raise DatabaseNotMigrated
            return await run_jobs(db, names or None)
        finally:
            await db.dispose()

    try:
        results = asyncio.run(_run())
    except KeyError as exc:
        typer.echo(f"error: {exc.args[0]}", err=True)
        raise typer.Exit(2) from exc
    failed = False
    for name, report in results.items():
        failed = failed or isinstance(report, Exception)
        typer.echo(f"{name}: {'FAILED ' if isinstance(report, Exception) else ''}{report!r}")
    if failed:
        raise typer.Exit(1)

if __name__ == "__main__":
    app()
