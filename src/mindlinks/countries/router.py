"""`GET /api/countries` (public) and admin CRUD under `/api/admin/country-rules`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Response, status

from mindlinks.countries import service
from mindlinks.countries.schemas import Country, CountryRule, CountryRuleCreate, CountryRuleUpdate
from mindlinks.platform.api import Page, PageDep, SessionDep, domain_router
from mindlinks.platform.security import AdminUser

public = domain_router(prefix="/api/countries", tags=["Countries"])
admin = domain_router(prefix="/api/admin/country-rules", tags=["Countries"])

CodePath = Annotated[str, Path(min_length=2, max_length=2, description="ISO 3166-1 alpha-2")]


@public.get("", response_model=list[Country])
async def list_countries(session: SessionDep) -> list[Country]:
    """Active countries a contractor or company may be based in."""
    return [Country.model_validate(r) for r in await service.active_countries(session)]


@admin.get("", response_model=Page[CountryRule])
async def list_rules(session: SessionDep, _: AdminUser, page: PageDep) -> Page[CountryRule]:
    rows, total = await service.list_rules(session, offset=page.offset, limit=page.limit)
    return Page[CountryRule].build([service.rule_out(r) for r in rows], total, page)


@admin.post("", response_model=CountryRule, status_code=status.HTTP_201_CREATED)
async def create_rule(session: SessionDep, actor: AdminUser, body: CountryRuleCreate
                      ) -> CountryRule:
    return service.rule_out(await service.create_rule(session, actor, body))


@admin.get("/{code}", response_model=CountryRule)
async def get_rule(session: SessionDep, _: AdminUser, code: CodePath) -> CountryRule:
    return service.rule_out(await service.get_rule_row(session, code))


@admin.put("/{code}", response_model=CountryRule)
async def update_rule(session: SessionDep, actor: AdminUser, code: CodePath, body: CountryRuleUpdate
                      ) -> CountryRule:
    return service.rule_out(await service.update_rule(session, actor, code, body))


@admin.delete("/{code}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_rule(session: SessionDep, actor: AdminUser, code: CodePath) -> Response:
    await service.delete_rule(session, actor, code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


routers = [public, admin]
