"""Start-up wiring of the payments domain: the checks that the configured provider can work, and
the payout provider every session pays withdrawals out through."""

from __future__ import annotations

from fastapi import FastAPI

from mindlinks.invoices import service as invoices
from mindlinks.payments import holds, payouts, providers
from mindlinks.payments.payouts_stripe import StripePayouts
from mindlinks.platform.db import Database
from mindlinks.settings import Settings

# create_app refuses to start in production while this lists anything (sandbox provider,
# missing Stripe API key or webhook secret).
production_problems = providers.production_problems


def payout_provider(settings: Settings, app_secret: bytes) -> payouts.PayoutProvider:
    """The payout provider of `settings`: Stripe Connect beside Stripe deposits, else the
    sandbox (its store under the data directory, its events signed like the deposits')."""
    if settings.payments_provider == "stripe":
        return StripePayouts(api_key=settings.stripe_api_key)
    return payouts.SandboxPayouts(settings.data_dir / "sandbox" / "payouts",
                                  providers.sandbox_secret(settings, app_secret))


def install_payouts(db: Database, settings: Settings, app_secret: bytes) -> None:
    payouts.install(db, payout_provider(settings, app_secret))


def install(app: FastAPI) -> None:
    """The invoice responses' `fundingStatus` comes from the holds; the deposits provider is
    built from the settings on first use; the payout provider is put on the app's sessions now
    (the worker's subscribers get only a session)."""
    invoices.register_funding_lookup(holds.funding_statuses)
    install_payouts(app.state.db, app.state.settings, app.state.runtime.secret)
