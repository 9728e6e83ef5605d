"""Fee and FX quotes for withdrawals (issue 14 §2; docs/payments.md "Fee and FX quotes").

A quote prices one withdrawal before any money moves: the country rule's flat and percentage
fees (`payments.fees`, the same rule a withdrawal charges), the FX spread, the mid rate locked
for `fx_quote_ttl_seconds` (30 minutes) and what the bank receives:

    net           = amount - flat - percent                     (source currency)
    fee.fx        = net x spread_bps / 10000, half-up           (0 without conversion)
    targetAmount  = (net - fee.fx) x rate, rounded down         (target currency)

A quote is the contractor's own (another's is 404), for the contractor's own verified payout
account, and is taken once: `take_quote` flips `used_at` with a conditional UPDATE, so of any
number of concurrent takes exactly one wins.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contractors import service as contractors
from mindlinks.countries import service as countries
from mindlinks.countries.service import RuleView
from mindlinks.payments import fees, fx
from mindlinks.payments.quotes_models import RATE_SCALE, WithdrawalQuote
from mindlinks.payments.quotes_schemas import QuoteCreate, QuoteFee, QuoteOut
from mindlinks.payments.wallet import ContractorNotFound
from mindlinks.platform.db import utcnow
from mindlinks.platform.errors import Conflict, NotFound, TooManyRequests, ValidationFailed
from mindlinks.platform.money import from_minor, to_minor
from mindlinks.platform.security import Actor
from mindlinks.settings import Settings


class QuoteNotFound(NotFound):
    code, title = "quote_not_found", "Quote not found"


class QuoteExpired(Conflict):
    code, title = "quote_expired", "The quote has expired"


class QuoteUsed(Conflict):
    code, title = "quote_used", "The quote has already been used"


class QuoteMismatch(ValidationFailed):
    code, title = "quote_mismatch", "The request does not match the quote"


# The same codes (and titles) as the withdrawal's own checks: one rule, one answer.
class BelowMinimum(ValidationFailed):
    code, title = "amount_below_minimum", "Amount below the minimum withdrawal"


class PayoutCountryRequired(ValidationFailed):
    code, title = "payout_country_required", "Profile country required for withdrawals"


class TooManyQuotes(TooManyRequests):
    code, title = "too_many_open_quotes", "Too many open quotes"


@dataclass(frozen=True, slots=True)
class QuotePolicy:
    spread_bps: int
    ttl: timedelta
    max_rate_age: timedelta
    max_open: int

    @classmethod
    def from_settings(cls, settings: Settings) -> QuotePolicy:
        return cls(spread_bps=settings.fx_spread_bps,
                   ttl=timedelta(seconds=settings.fx_quote_ttl_seconds),
                   max_rate_age=fx.max_age(settings), max_open=settings.fx_max_open_quotes)


@dataclass(frozen=True, slots=True)
class Price:
    """A priced withdrawal in minor units: `amount`, the fees and `net` in `currency`;
    `target_amount` in `target_currency`."""

    amount: int
    currency: str
    flat: int
    percent: int
    fx_fee: int
    rate: fx.CrossRate
    target_amount: int
    target_currency: str

    @property
    def net(self) -> int:
        return self.amount - self.flat - self.percent

    @property
    def converted(self) -> int:
        return self.net - self.fx_fee


def payout_country(profile_country: str | None) -> str:
    """The country whose rule prices a contractor's withdrawals: the profile's (422
    `payout_country_required` without one). The quote and the withdrawal both ask here."""
    if not profile_country:
        raise PayoutCountryRequired("Set your country in your profile before withdrawing")
    return profile_country


async def withdrawal_rule(session: AsyncSession, profile_country: str | None) -> RuleView:
    """The rule that prices a contractor's withdrawal, as the withdrawal itself finds it: the
    profile's country (`payout_country`), `country_not_supported` when the platform does not
    serve it."""
    return await countries.require_active(session, payout_country(profile_country),
                                          field="country")


async def price(session: AsyncSession, rates: fx.RatesProvider, policy: QuotePolicy,
                rule: RuleView, *, amount: int, currency: str, target_currency: str,
                now: datetime) -> Price:
    """Itemise a withdrawal of `amount` minor units of `currency` paid in `target_currency`.
    The rule's flat fee and minimum are in `rule.fee_currency`; they are converted at mid
    (half-up), like any amount the contractor owes, before being compared or charged."""
    table: dict[str, fx.Rate] = {}
    if rule.fee_currency != currency or target_currency != currency:
        table = await rates.rates(session, now)

    def in_currency(minor: int) -> int:
        if rule.fee_currency == currency or minor == 0:
            return minor
        mid = fx.cross(table, rule.fee_currency, currency, now=now,
                       max_age=policy.max_rate_age)
        return fx.convert_minor(minor, rule.fee_currency, currency, mid.rate,
                                rounding=ROUND_HALF_UP)

    minimum = in_currency(rule.min_withdrawal)
    if amount < minimum:
        raise BelowMinimum(f"The minimum withdrawal is {from_minor(minimum, currency)} "
                           f"{currency}")
    fee = fees.withdrawal_fee(rule, amount)
    flat = in_currency(fee.flat)
    net = amount - flat - fee.percent
    if net <= 0:
        raise BelowMinimum("The fees would take the whole amount")
    if target_currency == currency:
        return Price(amount, currency, flat, fee.percent, 0, fx.CrossRate(
            Decimal(1), now, "none"), net, currency)
    rate = fx.cross(table, currency, target_currency, now=now, max_age=policy.max_rate_age)
    spread = fees.percent_part(net, policy.spread_bps)
    target_amount = fx.convert_minor(net - spread, currency, target_currency, rate.rate)
    if net - spread <= 0 or target_amount <= 0:
        raise BelowMinimum("Nothing would be left to pay out after conversion")
    return Price(amount, currency, flat, fee.percent, spread, rate, target_amount,
                 target_currency)


def quote_out(row: WithdrawalQuote) -> QuoteOut:
    c, t = row.currency, row.target_currency
    return QuoteOut(
        quote_id=row.id, amount=from_minor(row.amount, c), currency=c,
        fee=QuoteFee(flat=from_minor(row.fee_flat, c), percent=from_minor(row.fee_percent, c),
                     fx=from_minor(row.fee_fx, c)),
        rate=fx.from_scaled(row.rate_scaled), target_amount=from_minor(row.target_amount, t),
        target_currency=t, estimated_arrival=row.estimated_arrival, expires_at=row.expires_at,
        spread_bps=row.spread_bps, rate_source=row.rate_source, rates_as_of=row.rates_as_of,
        used=row.used_at is not None)


async def _profile(session: AsyncSession, actor: Actor) -> tuple[uuid.UUID, str | None]:
    profile = await contractors.profile_by_user(session, actor.user_id)
    if profile is None:
        raise ContractorNotFound("No contractor profile")
    return profile.id, profile.country


async def create_quote(session: AsyncSession, actor: Actor, rates: fx.RatesProvider,
                       policy: QuotePolicy, body: QuoteCreate,
                       now: datetime | None = None) -> QuoteOut:
    """Price a withdrawal for the actor's own verified payout account and store the quote,
    its rate locked for `policy.ttl`. Nothing else changes; no money moves."""
    now = now or utcnow()
    contractor_id, country = await _profile(session, actor)
    method = await contractors.payout_account(session, contractor_id, body.withdrawal_method_id)
    rule = await withdrawal_rule(session, country)
    currency = body.currency
    target = body.target_currency or currency
    amount = to_minor(body.amount, currency)
    open_quotes, first_expiry = (await session.execute(
        select(func.count(), func.min(WithdrawalQuote.expires_at)).where(
            WithdrawalQuote.contractor_id == contractor_id, WithdrawalQuote.used_at.is_(None),
            WithdrawalQuote.expires_at > now))).one()
    if open_quotes >= policy.max_open:
        wait = (first_expiry - now).total_seconds() if first_expiry else policy.ttl.seconds
        raise TooManyQuotes(f"At most {policy.max_open} open quotes; use or let one expire",
                            retry_after=int(wait) + 1)
    priced = await price(session, rates, policy, rule, amount=amount, currency=currency,
                         target_currency=target, now=now)
    row = WithdrawalQuote(
        id=uuid.uuid4(), contractor_id=contractor_id, withdrawal_method_id=method.id,
        amount=amount, currency=currency, fee_flat=priced.flat, fee_percent=priced.percent,
        fee_fx=priced.fx_fee, spread_bps=policy.spread_bps if target != currency else 0,
        rate_scaled=priced.rate.scaled, target_amount=priced.target_amount,
        target_currency=target, rate_source=priced.rate.source, rates_as_of=priced.rate.as_of,
        estimated_arrival=fees.estimated_arrival(now, rule), expires_at=now + policy.ttl,
        used_at=None, withdrawal_id=None, created_at=now, updated_at=now)
    session.add(row)
    await session.flush()
    return quote_out(row)


async def _own(session: AsyncSession, contractor_id: uuid.UUID,
               quote_id: uuid.UUID) -> WithdrawalQuote:
    row = await session.scalar(
        select(WithdrawalQuote).where(WithdrawalQuote.id == quote_id,
                                      WithdrawalQuote.contractor_id == contractor_id)
        .execution_options(populate_existing=True))
    if row is None:
        raise QuoteNotFound("No such quote")
    return row


async def get_quote(session: AsyncSession, actor: Actor, quote_id: uuid.UUID) -> QuoteOut:
    """The actor's own quote; another contractor's is 404 `quote_not_found`."""
    contractor_id, _ = await _profile(session, actor)
    return quote_out(await _own(session, contractor_id, quote_id))


async def take_quote(session: AsyncSession, *, contractor_id: uuid.UUID, quote_id: uuid.UUID,
                     amount: int, currency: str, method_id: uuid.UUID, now: datetime,
                     withdrawal_id: uuid.UUID | None = None) -> WithdrawalQuote:
    """Use the quote for a withdrawal of `amount` minor units of `currency` to `method_id`,
    once. 404 another's or unknown quote; 422 `quote_mismatch` when the withdrawal is not what
    was quoted; 409 `quote_used` / `quote_expired`. The conditional UPDATE (`used_at IS NULL
    AND expires_at > now`) is the single-use guarantee: on PostgreSQL a concurrent take waits
    on the row and then matches nothing; SQLite serialises writers."""
    row = await _own(session, contractor_id, quote_id)
    if (row.amount, row.currency, row.withdrawal_method_id) != (amount, currency.upper(),
                                                                 method_id):
        raise QuoteMismatch("Amount, currency and withdrawal method must be those quoted")
    if row.used_at is not None:
        raise QuoteUsed("The quote has already been used")
    if row.expires_at <= now:
        raise QuoteExpired("The quote has expired; ask for a new one")
    taken = await session.execute(
        update(WithdrawalQuote)
        .where(WithdrawalQuote.id == quote_id, WithdrawalQuote.contractor_id == contractor_id,
               WithdrawalQuote.used_at.is_(None), WithdrawalQuote.expires_at > now)
        .values(used_at=now, withdrawal_id=withdrawal_id, updated_at=now)
        .execution_options(synchronize_session=False))
    row = await _own(session, contractor_id, quote_id)
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        if row.used_at is None:  # not used, so the condition failed on the expiry
            raise QuoteExpired("The quote has expired; ask for a new one")
        raise QuoteUsed("The quote has already been used")
    return row


def rate_of(row: WithdrawalQuote) -> Decimal:
    return fx.from_scaled(row.rate_scaled)


__all__ = [
    "RATE_SCALE",
    "BelowMinimum",
    "PayoutCountryRequired",
    "Price",
    "QuoteExpired",
    "QuoteMismatch",
    "QuoteNotFound",
    "QuotePolicy",
    "QuoteUsed",
    "create_quote",
    "get_quote",
    "payout_country",
    "price",
    "take_quote",
    "withdrawal_rule",
]
