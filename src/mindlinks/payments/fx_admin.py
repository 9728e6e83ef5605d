"""The admin's view of FX rates: read the effective table, set rates by hand (audited).

Under the sandbox provider an admin may set any rate but EUR's (the base, 1). Under the ECB
provider only currencies the ECB does not publish (nor PEGS cover) can be set - e.g. EGP; a
published one is 422 `fx_rate_not_settable`, so a hand-set rate never silently loses to the
ECB's. Each change is an audit line with the old and new rate."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.countries import service as countries
from mindlinks.payments import fx
from mindlinks.payments.quotes_models import FxRate
from mindlinks.payments.quotes_schemas import FxRateOut, FxRatesOut, FxRatesSet
from mindlinks.platform import audit
from mindlinks.platform.db import discard, utcnow
from mindlinks.platform.errors import ValidationFailed
from mindlinks.platform.security import Actor
from mindlinks.settings import Settings

SETTABLE_SOURCES = frozenset({"sandbox", "manual"})


class FxRateNotSettable(ValidationFailed):
    code, title = "fx_rate_not_settable", "This rate comes from the rates provider"


def _out(provider: fx.RatesProvider, settings: Settings,
         table: dict[str, fx.Rate]) -> FxRatesOut:
    return FxRatesOut(provider=provider.name, base=fx.BASE, spread_bps=settings.fx_spread_bps,
                      max_rate_age_hours=settings.fx_max_rate_age_hours,
                      rates=[FxRateOut(currency=c, per_eur=r.per_eur, as_of=r.as_of,
                                       source=r.source) for c, r in sorted(table.items())])


def _text(scaled: int) -> str:
    return format(fx.from_scaled(scaled).normalize(), "f")


async def rates_table(session: AsyncSession, provider: fx.RatesProvider, settings: Settings,
                      now: datetime | None = None) -> FxRatesOut:
    return _out(provider, settings, await provider.rates(session, now or utcnow()))


async def _upsert(session: AsyncSession, currency: str, scaled: int,
                  admin_id: uuid.UUID) -> int | None:
    """Set one rate; the previous scaled rate (None when new)."""
    query = select(FxRate).where(FxRate.currency == currency).with_for_update()
    row = await session.scalar(query)
    if row is None:
        row = FxRate(id=uuid.uuid4(), currency=currency, per_eur_scaled=scaled, set_by=admin_id)
        try:
            async with session.begin_nested():
                session.add(row)
                await session.flush()
            return None
        except IntegrityError:  # set meanwhile by another admin: update theirs
            discard(session, row)
            row = await session.scalar(query)
            assert row is not None
    before = row.per_eur_scaled
    row.per_eur_scaled, row.set_by, row.updated_at = scaled, admin_id, utcnow()
    await session.flush()
    return before


async def set_rates(session: AsyncSession, admin: Actor, provider: fx.RatesProvider,
                    settings: Settings, body: FxRatesSet) -> FxRatesOut:
    """Set rates (units per 1 EUR). All or nothing: one refused currency changes none."""
    now = utcnow()
    table = await provider.rates(session, now)
    scaled: dict[str, int] = {}
    for currency, value in sorted(body.rates.items()):
        if not countries.is_iso_currency(currency):
            raise fx.InvalidRate(f"{currency} is not an ISO 4217 currency")
        if currency == fx.BASE:
            raise FxRateNotSettable("EUR is the base: its rate is 1")
        current = table.get(currency)
        if current is not None and current.source not in SETTABLE_SOURCES:
            raise FxRateNotSettable(f"{currency} comes from the {current.source} rates")
        scaled[currency] = fx.to_scaled(Decimal(value))
    changes = {}
    for currency, new in scaled.items():
        before = await _upsert(session, currency, new, admin.user_id)
        changes[currency] = {"before": None if before is None else _text(before),
                             "after": _text(new)}
    await audit.record(session, admin, "payments.fx_rates_set", "payment_fx_rates", None,
                       {"provider": provider.name, "rates": changes})
    return _out(provider, settings, await provider.rates(session, now))
