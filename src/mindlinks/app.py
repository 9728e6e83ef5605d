"""(Working in this tree? Read DEVELOPERS.md first.)

`create_app()`: settings, runtime, routers, middleware and the in-process dispatcher."""

from __future__ import annotations

import asyncio
import gc
import importlib
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from mindlinks import __version__
from mindlinks.auth import sessions as auth_sessions
from mindlinks.auth.revocations import Revocations
from mindlinks.auth.revocations import install as install_revocations
from mindlinks.clients import service as clients_service
from mindlinks.contractors import service as contractors_service
from mindlinks.models import load_all
from mindlinks.platform import crypto_keys, health, idempotency, storage
from mindlinks.platform.alerts_router import router as alerts_router
from mindlinks.platform.db import Database
from mindlinks.platform.errors import install_error_handlers
from mindlinks.platform.events import Dispatcher
from mindlinks.platform.files_router import router as files_router
from mindlinks.platform.health import router as health_router
from mindlinks.platform.logging import AccessLog, configure_logging
from mindlinks.platform.middleware import PlatformMiddleware
from mindlinks.platform.routing import index_routes
from mindlinks.platform.runtime import Runtime
from mindlinks.settings import Settings, get_settings

PLATFORM_ROUTERS = [health_router, files_router, alerts_router]

# The domains, bottom of the dependency order first (DESIGN.md §3). For each one, create_app
# includes the `routers` list of its `router` module, imports its `events` module (event
# subscribers) and calls `setup.install(app)` if it has one (Protocol implementations that
# lower domains need, e.g. claims providers). Adding a domain is one line here.
DOMAINS = [
    "mindlinks.ledger",
    "mindlinks.auth",
    "mindlinks.countries",
    "mindlinks.contractors",
    "mindlinks.clients",
    "mindlinks.kyc",
    "mindlinks.contracts",
    "mindlinks.timesheets",
    "mindlinks.invoices",
    "mindlinks.payments",
    "mindlinks.notifications",
    "mindlinks.web",  # pages: on top of every domain's services
]


def _optional_module(package: str, name: str) -> object | None:
    module = importlib.import_module(package)
    names = {m.name for m in pkgutil.iter_modules(module.__path__)}
    return importlib.import_module(f"{package}.{name}") if name in names else None


def freeze_startup_objects() -> None:
    """What start-up built (routes, models, table metadata, the domains' modules: >200k
    objects) lives as long as the process. Frozen, a full garbage collection no longer scans
    it: measured, such a collection took 100-250 ms, which was the p99 latency of
    authenticated reads; in the worker the payroll's batches triggered one every few hundred
    items (~35 % of the run's client CPU, docs/performance.md "sixth pass"). Called once, at
    the end of a process's start-up (`serve`'s lifespan, `worker`, `jobs run`, the benches)."""
    gc.collect()
    gc.freeze()


def load_subscribers() -> None:
    """Register every domain's event subscribers (their `events` modules), as the app does at
    start-up: `emit` writes one delivery row per subscriber in the emitter's transaction, so
    code measured or run outside an app (the benches) writes what it writes in production."""
    for package in DOMAINS:
        _optional_module(package, "events")

# One tag per seed service (seed 000 "Service Responsibilities"), in the order a reader needs.
OPENAPI_TAGS = [
    {"name": "Auth Service", "description": "Accounts, sign-in, sessions, password reset, MFA."},
    {"name": "Contractor Service",
     "description": "Profile, bank accounts, tax forms, licences, insurance, onboarding."},
    {"name": "Client Service",
     "description": "Companies, registry verification, documents, invitations."},
    {"name": "KYC Service", "description": "Identity verification sessions and documents."},
    {"name": "Contract Service",
     "description": "Templates, contracts, e-signature, milestones, timesheets."},
    {"name": "Payment Service",
     "description": "Invoices, the book, client escrow and deposits, provider webhooks."},
    {"name": "Ledger Service",
     "description": "The verifiable journal: digests, inclusion and consistency proofs."},
    {"name": "Notification Service",
     "description": "In-app inbox, live stream, preferences, templates, deliveries."},
    {"name": "Countries", "description": "Country rules: currencies, fees, tax forms."},
    {"name": "Health", "description": "Liveness and readiness."},
]


class ProductionConfigError(RuntimeError):
    pass


def _production_problems(settings: Settings) -> list[str]:
    """Everything that makes this configuration unfit for production: the platform's checks,
    then each domain's (`setup.production_problems(settings)`, e.g. a sandbox provider)."""
    problems = settings.production_problems() + crypto_keys.production_problems(settings)
    for package in DOMAINS:
        setup = _optional_module(package, "setup")
        if check := getattr(setup, "production_problems", None):
            problems += check(settings)
    return problems


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    if problems := storage.configuration_problems(settings):
        raise ProductionConfigError("invalid storage configuration: " + "; ".join(problems))
    if settings.env == "production" and (problems := _production_problems(settings)):
        raise ProductionConfigError("refusing to start in production: " + "; ".join(problems))
    log_json = settings.log_json if settings.log_json is not None else settings.env == "production"
    configure_logging(json=log_json, level=settings.log_level)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    load_all()
    # Same-layer needs (docs/architecture.md): neither domain may import the other.
    clients_service.register_contractor_directory(contractors_service)
    runtime = Runtime.build(settings)
    crypto_keys.configure(settings)  # master keys for field encryption, loaded once
    db = Database(settings.resolved_database_url, echo=settings.database_echo)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = None
        if settings.dispatcher_in_process:
            task = asyncio.create_task(
                app.state.dispatcher.run_forever(settings.dispatcher_poll_seconds, stop)
            )
        await revoked.try_start()
        if settings.freeze_startup_objects:
            freeze_startup_objects()
        try:
            yield
        finally:
            await revoked.stop()
            if task:
                await app.state.dispatcher.stop_gracefully(task, stop)
            await runtime.mailer.drain()
            await runtime.limiter.close()
            await db.dispose()

    app = FastAPI(
        title="Mind-Links API",
        version=__version__,
        description="The open platform for hiring contractors across borders.",
        openapi_tags=OPENAPI_TAGS,
        lifespan=lifespan,
        telemetry={"tracing": settings.fastapi_telemetry, "metrics": settings.fastapi_telemetry,
                   "logs": settings.fastapi_telemetry},
    )
    app.state.settings = settings
    app.state.runtime = runtime
    app.state.tokens = runtime.tokens
    app.state.db = db
    app.state.dispatcher = Dispatcher(db)
    # Authenticated requests check a revocation set held in every process (auth/revocations.py)
    # instead of querying the database - exact when Redis carries it between processes, or
    # when this is the only serving process; otherwise the database is asked every time.
    revoked = Revocations(db, redis_url=settings.redis_url,
                          access_ttl_seconds=settings.access_token_ttl_seconds)
    install_revocations(db, revoked)
    app.state.revocations = revoked
    app.state.actor_loader = (
        auth_sessions.actor_loader(revoked) if settings.redis_url or settings.workers == 1
        else auth_sessions.load_actor
    )

    install_error_handlers(app)
    idempotency.install(app)
    health.install(app)
    for router in PLATFORM_ROUTERS:
        app.include_router(router)
    for package in DOMAINS:
        if (router_module := _optional_module(package, "router")) is not None:
            for router in router_module.routers:  # type: ignore[attr-defined]
                app.include_router(router)
        if (setup := _optional_module(package, "setup")) is not None:
            setup.install(app)  # type: ignore[attr-defined]
    load_subscribers()
    # Every router is in: each gets a path index, so a request skips the routers that cannot
    # match it (platform/routing.py; FastAPI asks them one by one, route by route).
    index_routes(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.add_middleware(
        PlatformMiddleware,
        max_json_bytes=settings.max_json_body_bytes,
        max_upload_bytes=settings.max_upload_body_bytes,
        production=settings.env == "production",
        secret=runtime.secret,
        access_log=AccessLog(json=log_json, level=settings.log_level,
                             sample_rate=settings.access_log_sample_rate,
                             slow_seconds=settings.access_log_slow_seconds),
    )
    return app
