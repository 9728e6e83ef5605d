"""Start-up wiring of the clients domain: the `clientId` token claim, and the checks that the
configured business registry can work."""

from __future__ import annotations

from fastapi import FastAPI

from mindlinks.auth.service import register_claims_provider
from mindlinks.clients import providers, service

# create_app refuses to start in production while this lists anything.
production_problems = providers.production_problems


def install(app: FastAPI) -> None:
    register_claims_provider(service.claims)
