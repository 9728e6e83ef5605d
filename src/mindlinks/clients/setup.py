"""Start-up wiring of the clients domain: the `clientId` token claim, and the checks that the
configured business registry can work."""

from __future__ import annotations

from fastapi import FastAPI

from mindlinks.auth.sessions import register_claims_provider
from mindlinks.clients import providers, service
from mindlinks.platform import crypto


def install(app: FastAPI) -> None:
    settings = app.state.settings
    if settings.env == "production" and (problems := providers.production_problems(settings)):
        raise RuntimeError("refusing to start in production: " + "; ".join(problems))
    # Company tax ids are sealed with platform/crypto: make sure this app's master keys are
    # loaded (idempotent; the app factory does not do it itself yet).
    crypto.configure(settings)
    register_claims_provider(service.claims)
