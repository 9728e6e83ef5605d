"""The countries domain's public API.

Other domains ask here whether a country is served (`require_active`), which currency and tax
form apply (`get_rule`), and convert fee amounts between minor units and decimals
(`mindlinks.platform.money`). Admin changes are audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

import pycountry
from babel import Locale
from sqlalchemy import ColumnElement, FromClause, Join, Label, func
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.countries import repository as repo
from mindlinks.countries.models import CountryRule
from mindlinks.countries.schemas import CountryRule as CountryRuleOut
from mindlinks.countries.schemas import CountryRuleCreate, CountryRuleUpdate
from mindlinks.platform import audit
from mindlinks.platform.errors import Conflict, NotFound, ValidationFailed

# The money helpers live in platform/money.py; contracts still reach `to_minor`/`from_minor`
# through this module (`countries.from_minor`), which keeps working.
from mindlinks.platform.money import from_minor, to_minor, to_minor_rate
from mindlinks.platform.security import Actor


class CountryNotSupported(ValidationFailed):
    code, title = "country_not_supported", "Country not supported"


class UnknownCountry(ValidationFailed):
    code, title = "unknown_country", "Unknown country"


class UnknownCurrency(ValidationFailed):
    code, title = "unknown_currency", "Unknown currency"


class CountryRuleExists(Conflict):
    code = "country_rule_exists"


class CountryRuleNotFound(NotFound):
    code, title = "country_rule_not_found", "No rule for this country"


@dataclass(frozen=True)
class RuleView:
    """A rule as other domains see it (money in minor units)."""

    country_code: str
    country_name: str
    currency: str
    is_active: bool
    fee_currency: str
    withdrawal_fee_flat: int
    withdrawal_fee_bps: int
    min_withdrawal: int
    payout_days: int
    required_tax_form: str


def _view(row: CountryRule) -> RuleView:
    return RuleView(
        row.country_code, row.country_name, row.currency, row.is_active, row.fee_currency,
        row.withdrawal_fee_flat, row.withdrawal_fee_bps, row.min_withdrawal, row.payout_days,
        row.required_tax_form,
    )


# --- ISO data ---------------------------------------------------------------------------


def is_iso_country(code: str) -> bool:
    return len(code) == 2 and pycountry.countries.get(alpha_2=code.upper()) is not None


def is_iso_currency(code: str) -> bool:
    return len(code) == 3 and pycountry.currencies.get(alpha_3=code.upper()) is not None


def english_name(code: str) -> str:
    return str(Locale("en").territories.get(code.upper(), code.upper()))


def rule_out(row: CountryRule) -> CountryRuleOut:
    return CountryRuleOut(
        country_code=row.country_code,
        country_name=row.country_name,
        currency=row.currency,
        is_active=row.is_active,
        fee_currency=row.fee_currency,
        withdrawal_fee_flat=from_minor(row.withdrawal_fee_flat, row.fee_currency),
        withdrawal_fee_percent=(Decimal(row.withdrawal_fee_bps) / 100).quantize(Decimal("0.01")),
        min_withdrawal=from_minor(row.min_withdrawal, row.fee_currency),
        payout_days=row.payout_days,
        required_tax_form=row.required_tax_form,
        updated_by=str(row.updated_by) if row.updated_by else None,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


# --- reads for other domains ------------------------------------------------------------


async def get_rule(session: AsyncSession, code: str) -> RuleView | None:
    """The rule of `code` (active or not), or None if the platform has none."""
    row = await repo.get(session, code)
    return _view(row) if row else None


async def require_active(session: AsyncSession, code: str, *, field: str = "country") -> RuleView:
    """The rule of `code` if it is an ISO 3166-1 alpha-2 country the platform serves now;
    otherwise `UnknownCountry` / `CountryNotSupported` (422) naming `field`."""
    code = _iso_country(code, field)
    row = await repo.get(session, code)
    return _active(code, _view(row) if row else None, field)


def _iso_country(code: str, field: str) -> str:
    code = code.upper()
    if not is_iso_country(code):
        raise UnknownCountry(f"{code!r} is not an ISO 3166-1 alpha-2 country code",
                             errors=[{"field": field, "message": "unknown country",
                                      "code": "unknown_country"}])
    return code


def _active(code: str, rule: RuleView | None, field: str) -> RuleView:
    if rule is None or not rule.is_active:
        raise CountryNotSupported(f"Mind-Links does not serve {code} yet",
                                  errors=[{"field": field, "message": "country not supported",
                                           "code": "country_not_supported"}])
    return rule


_R = CountryRule.__table__.c
_RULE_FIELDS = tuple(f.name for f in fields(RuleView))


def rule_join(left: FromClause, code: ColumnElement[Any]) -> Join:
    """Core, no I/O: `left` LEFT JOINed to the rule of the country `code` (any case; its
    columns are `rule_columns()`): for a caller that reads the rule in its own statement (the
    withdrawal request), then applies `active_rule_of`. Rules are public data."""
    return left.outerjoin(CountryRule.__table__, _R.country_code == func.upper(code))


def rule_columns() -> list[Label[Any]]:
    return [_R[name].label(f"rule_{name}") for name in _RULE_FIELDS]


def active_rule_of(code: str, row: Mapping[str, Any], *, field: str = "country") -> RuleView:
    """`require_active` of a row read with `rule_join` / `rule_columns`: the same rules, the
    same errors."""
    code = _iso_country(code, field)
    rule = (None if row["rule_country_code"] is None
            else RuleView(*(row[f"rule_{name}"] for name in _RULE_FIELDS)))
    return _active(code, rule, field)


async def active_countries(session: AsyncSession) -> list[CountryRule]:
    """Every active country, by name."""
    return await repo.active(session)


# --- admin ------------------------------------------------------------------------------


async def list_rules(session: AsyncSession, *, offset: int, limit: int
                     ) -> tuple[list[CountryRule], int]:
    return await repo.page(session, offset=offset, limit=limit)


async def get_rule_row(session: AsyncSession, code: str) -> CountryRule:
    row = await repo.get(session, code)
    if row is None:
        raise CountryRuleNotFound("No rule for this country")
    return row


def _check_currency(code: str) -> str:
    code = code.upper()
    if not is_iso_currency(code):
        raise UnknownCurrency(f"{code!r} is not an ISO 4217 currency code")
    return code


def _default_currency(country: str) -> str:
    from babel.numbers import get_territory_currencies

    currencies = get_territory_currencies(country, tender=True, non_tender=False)
    if not currencies:
        raise UnknownCurrency(f"No current currency known for {country}; give one")
    return str(currencies[0])


async def create_rule(session: AsyncSession, actor: Actor, data: CountryRuleCreate) -> CountryRule:
    """A new rule; 409 `country_rule_exists` if the country has one. The currency defaults to
    the country's ISO 4217 currency and the tax form to W-9 (US) or W-8BEN (elsewhere)."""
    code = data.country_code.upper()
    if not is_iso_country(code):
        raise UnknownCountry(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    if await repo.get(session, code) is not None:
        raise CountryRuleExists(f"{code} already has a rule; update it instead")
    fee_currency = _check_currency(data.fee_currency)
    row = CountryRule(
        country_code=code,
        country_name=data.country_name or english_name(code),
        currency=_check_currency(data.currency or _default_currency(code)),
        is_active=data.is_active,
        fee_currency=fee_currency,
        withdrawal_fee_flat=to_minor(data.withdrawal_fee_flat, fee_currency),
        withdrawal_fee_bps=int(to_minor_rate(data.withdrawal_fee_percent)),
        min_withdrawal=to_minor(data.min_withdrawal, fee_currency),
        payout_days=data.payout_days,
        required_tax_form=data.required_tax_form or ("W-9" if code == "US" else "W-8BEN"),
        updated_by=actor.user_id,
    )
    session.add(row)
    await session.flush()
    await audit.record(session, actor, "country_rule.created", "country_rule", code,
                       {"currency": row.currency, "isActive": row.is_active})
    return row


async def update_rule(
    session: AsyncSession, actor: Actor, code: str, data: CountryRuleUpdate
) -> CountryRule:
    """Change the fields sent; the audit line records which ones."""
    row = await get_rule_row(session, code)
    changes = data.model_dump(exclude_unset=True)
    if "currency" in changes and changes["currency"] is not None:
        row.currency = _check_currency(changes["currency"])
    if changes.get("fee_currency") is not None:
        row.fee_currency = _check_currency(changes["fee_currency"])
    if changes.get("country_name") is not None:
        row.country_name = changes["country_name"]
    if changes.get("is_active") is not None:
        row.is_active = changes["is_active"]
    if changes.get("withdrawal_fee_flat") is not None:
        row.withdrawal_fee_flat = to_minor(changes["withdrawal_fee_flat"], row.fee_currency)
    if changes.get("withdrawal_fee_percent") is not None:
        row.withdrawal_fee_bps = to_minor_rate(changes["withdrawal_fee_percent"])
    if changes.get("min_withdrawal") is not None:
        row.min_withdrawal = to_minor(changes["min_withdrawal"], row.fee_currency)
    if changes.get("payout_days") is not None:
        row.payout_days = changes["payout_days"]
    if changes.get("required_tax_form") is not None:
        row.required_tax_form = changes["required_tax_form"]
    row.updated_by = actor.user_id
    await session.flush()
    await audit.record(session, actor, "country_rule.updated", "country_rule", row.country_code,
                       {"fields": sorted(k for k, v in changes.items() if v is not None)})
    return row


async def delete_rule(session: AsyncSession, actor: Actor, code: str) -> None:
    """Remove a rule. Prefer deactivating (`isActive: false`): existing profiles keep their
    country either way, but new profiles can no longer choose it."""
    row = await get_rule_row(session, code)
    await session.delete(row)
    await session.flush()
    await audit.record(session, actor, "country_rule.deleted", "country_rule", code, {})
