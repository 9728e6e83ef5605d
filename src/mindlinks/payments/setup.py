"""Start-up wiring of the payments domain: the checks that the configured provider can work."""

from __future__ import annotations

from fastapi import FastAPI

from mindlinks.invoices import service as invoices
from mindlinks.payments import holds, providers

# create_app refuses to start in production while this lists anything (sandbox provider,
# missing Stripe API key or webhook secret).
production_problems = providers.production_problems


def install(app: FastAPI) -> None:
    """The invoice responses' `fundingStatus` comes from the holds; the provider is built
    from the settings on first use."""
    invoices.register_funding_lookup(holds.funding_statuses)
