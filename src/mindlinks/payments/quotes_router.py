"""Routes of fee and FX quotes (contractor) and of FX rates (admin). No queries, no rules."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request, status

from mindlinks.payments import fx, fx_admin, quotes
from mindlinks.payments.quotes_schemas import FxRatesOut, FxRatesSet, QuoteCreate, QuoteOut
from mindlinks.platform.api import SessionDep, domain_router
from mindlinks.platform.security import AdminUser, CurrentContractor
from mindlinks.settings import Settings


async def _rates(request: Request) -> fx.RatesProvider:
    return fx.get_rates_provider(request.app.state)


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


RatesDep = Annotated[fx.RatesProvider, Depends(_rates)]
AppSettings = Annotated[Settings, Depends(_settings)]

contractor = domain_router(prefix="/api/payments/contractor/me/withdrawals",
                           tags=["Payment Service"])
admin = domain_router(prefix="/api/admin/payments", tags=["Payment Service"])


@contractor.post("/quote", response_model=QuoteOut, status_code=status.HTTP_201_CREATED)
async def create_quote(session: SessionDep, actor: CurrentContractor, rates: RatesDep,
                       settings: AppSettings, body: QuoteCreate) -> QuoteOut:
    return await quotes.create_quote(session, actor, rates,
                                     quotes.QuotePolicy.from_settings(settings), body)


@contractor.get("/quotes/{quote_id}", response_model=QuoteOut)
async def get_quote(session: SessionDep, actor: CurrentContractor,
                    quote_id: uuid.UUID) -> QuoteOut:
    return await quotes.get_quote(session, actor, quote_id)


@admin.get("/fx-rates", response_model=FxRatesOut)
async def get_rates(session: SessionDep, actor: AdminUser, rates: RatesDep,
                    settings: AppSettings) -> FxRatesOut:
    return await fx_admin.rates_table(session, rates, settings)


@admin.put("/fx-rates", response_model=FxRatesOut)
async def set_rates(session: SessionDep, actor: AdminUser, rates: RatesDep,
                    settings: AppSettings, body: FxRatesSet) -> FxRatesOut:
    return await fx_admin.set_rates(session, actor, rates, settings, body)


routers = [contractor, admin]
