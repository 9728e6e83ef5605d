"""Start-up wiring of the payments domain: the checks that the configured provider can work."""

from __future__ import annotations

from fastapi import FastAPI

from mindlinks.payments import fx, providers
from mindlinks.settings import Settings


def production_problems(settings: Settings) -> list[str]:
    """create_app refuses to start in production while this lists anything (sandbox payments
    or FX rates provider, missing Stripe API key or webhook secret)."""
    return providers.production_problems(settings) + fx.production_problems(settings)


def install(app: FastAPI) -> None:
    """Nothing to register: the provider is built from the settings on first use."""
