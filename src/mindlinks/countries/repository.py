"""Queries of country rules. Rules are public data: no tenant scoping."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.countries.models import CountryRule


async def get(session: AsyncSession, code: str) -> CountryRule | None:
    return await session.get(CountryRule, code.upper())


async def active(session: AsyncSession) -> list[CountryRule]:
    rows = await session.scalars(
        select(CountryRule).where(CountryRule.is_active.is_(True))
        .order_by(CountryRule.country_name)
    )
    return list(rows)


async def page(session: AsyncSession, *, offset: int, limit: int) -> tuple[list[CountryRule], int]:
    total = await session.scalar(select(func.count()).select_from(CountryRule)) or 0
    rows = await session.scalars(
        select(CountryRule).order_by(CountryRule.country_code).offset(offset).limit(limit)
    )
    return list(rows), int(total)
