"""FX rates: a provider Protocol, the sandbox (fixed rates an admin may set) and the ECB's daily
reference rates, plus the arithmetic that turns them into a locked quote rate.

Every rate is a `Decimal`: units of a currency per 1 EUR (the ECB's base), so a cross rate is
`per_eur[target] / per_eur[source]`, quantized to RATE_DECIMALS places (half-even: the mid rate
is neutral; the amounts computed from it round in the platform's favour, see `convert_minor`).
No float touches a rate or an amount. See docs/payments.md "Fee and FX quotes".

- `SandboxRates`: DEFAULT_RATES overlaid with the rows of `payment_fx_rates` (set through
  `PUT /api/admin/payments/fx-rates`). Fixed rates do not age: their as-of is "now".
- `EcbRates`: `eurofxref-daily.xml` fetched with httpx, parsed with defusedxml, cached in the
  process for `fx_refresh_seconds`; a failed refresh keeps the cached document. The document's
  date counts as 16:00 Frankfurt time (when the ECB publishes). Currencies the ECB does not
  publish come from PEGS (a fixed, official peg to a published currency) or, failing that,
  from an admin-set row (e.g. EGP), whose as-of is when it was set.
- `cross(...)`: 503 `fx_rates_stale` when either side's as-of is older than
  `fx_max_rate_age_hours`; 422 `fx_pair_unsupported` when a currency has no rate.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import (
    ROUND_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Decimal,
    InvalidOperation,
    localcontext,
)
from typing import Any, Protocol
from xml.etree.ElementTree import ParseError
from zoneinfo import ZoneInfo

import httpx
import structlog
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.payments.quotes_models import RATE_DECIMALS, FxRate
from mindlinks.platform.errors import ServiceUnavailable, ValidationFailed
from mindlinks.platform.money import currency_exponent
from mindlinks.settings import Settings

log = structlog.get_logger("mindlinks.payments.fx")

BASE = "EUR"
QUANTUM = Decimal(1).scaleb(-RATE_DECIMALS)
# The sandbox's fixed rates (units per 1 EUR), close to real ones so demo amounts look sane.
DEFAULT_RATES: dict[str, Decimal] = {
    "EUR": Decimal(1), "USD": Decimal("1.08"), "GBP": Decimal("0.85"),
    "EGP": Decimal("53.5"), "AED": Decimal("3.9663"), "SAR": Decimal("4.05"),
    "CAD": Decimal("1.47"), "CHF": Decimal("0.95"), "INR": Decimal("90.1"),
}
# Currencies the ECB does not publish but whose central bank pegs them to one it does:
# (anchor currency, units per 1 anchor). AED: Central Bank of the UAE, since 1997;
# SAR: Saudi Central Bank, since 1986.
PEGS: dict[str, tuple[str, Decimal]] = {
    "AED": ("USD", Decimal("3.6725")),
    "SAR": ("USD", Decimal("3.75")),
}
ECB_NS = "{http://www.ecb.int/vocabulary/2002-08-01/eurofxref}"
ECB_PUBLISHED_AT = time(16, 0)  # Frankfurt time, on TARGET working days
FRANKFURT = ZoneInfo("Europe/Berlin")
MAX_RATE = Decimal(10_000_000)  # per EUR; above any real currency, below BIGINT once scaled


class FxRatesStale(ServiceUnavailable):
    code, title = "fx_rates_stale", "Exchange rates are out of date"


class FxRatesUnavailable(ServiceUnavailable):
    code, title = "fx_rates_unavailable", "Exchange rates cannot be fetched"


class FxPairUnsupported(ValidationFailed):
    code, title = "fx_pair_unsupported", "No exchange rate for this currency"


@dataclass(frozen=True, slots=True)
class Rate:
    """Units of a currency per 1 EUR, as of when, from which source."""

    per_eur: Decimal
    as_of: datetime
    source: str


@dataclass(frozen=True, slots=True)
class CrossRate:
    """Target units per source unit (RATE_DECIMALS places), as of the older side."""

    rate: Decimal
    as_of: datetime
    source: str

    @property
    def scaled(self) -> int:
        return int(self.rate.scaleb(RATE_DECIMALS))


class RatesProvider(Protocol):
    name: str

    async def rates(self, session: AsyncSession, now: datetime) -> dict[str, Rate]:
        """Every rate the provider has now, by currency (EUR included, 1)."""
        ...


async def _manual_rows(session: AsyncSession) -> list[FxRate]:
    return list((await session.scalars(select(FxRate))).all())


def from_scaled(scaled: int) -> Decimal:
    return Decimal(scaled).scaleb(-RATE_DECIMALS)


def to_scaled(rate: Decimal) -> int:
    """A rate as an integer of 10**-RATE_DECIMALS; finer digits, zero or out of range: 422."""
    scaled = rate.scaleb(RATE_DECIMALS)
    if not rate.is_finite() or scaled != scaled.to_integral_value() or not 0 < rate <= MAX_RATE:
        raise InvalidRate(f"A rate is positive, at most {MAX_RATE} and has at most "
                          f"{RATE_DECIMALS} decimals")
    return int(scaled)


class InvalidRate(ValidationFailed):
    code, title = "invalid_fx_rate", "Invalid exchange rate"


class SandboxRates:
    """Fixed rates: DEFAULT_RATES, overridden by what an admin set. Never stale."""

    name = "sandbox"

    async def rates(self, session: AsyncSession, now: datetime) -> dict[str, Rate]:
        table = {c: Rate(v, now, self.name) for c, v in DEFAULT_RATES.items()}
        for row in await _manual_rows(session):
            table[row.currency] = Rate(from_scaled(row.per_eur_scaled), now, self.name)
        table[BASE] = Rate(Decimal(1), now, self.name)
        return table


@dataclass(frozen=True, slots=True)
class EcbDocument:
    day: date
    rates: dict[str, Decimal]

    @property
    def as_of(self) -> datetime:
        return datetime.combine(self.day, ECB_PUBLISHED_AT, FRANKFURT).astimezone(UTC)


def parse_ecb(body: bytes) -> EcbDocument:
    """The ECB's `eurofxref-daily.xml`: `<Cube time="YYYY-MM-DD">` holding one
    `<Cube currency="USD" rate="1.0867"/>` per currency. Anything else is a ValueError."""
    try:
        root = fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException) as exc:
        raise ValueError("not an ECB rates document") from exc
    days = [c for c in root.iter(f"{ECB_NS}Cube") if c.get("time")]
    if len(days) != 1:
        raise ValueError("expected exactly one dated Cube")
    day = date.fromisoformat(str(days[0].get("time")))
    rates: dict[str, Decimal] = {}
    for cube in days[0].iter(f"{ECB_NS}Cube"):
        currency, text = cube.get("currency"), cube.get("rate")
        if currency is None or text is None:
            continue
        if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
            raise ValueError(f"bad currency {currency!r}")
        try:
            value = Decimal(text)
        except InvalidOperation as exc:
            raise ValueError(f"bad rate {text!r}") from exc
        if not value.is_finite() or not 0 < value <= MAX_RATE:
            raise ValueError(f"bad rate {text!r}")
        rates[currency] = value
    if not rates:
        raise ValueError("no rates in the document")
    return EcbDocument(day, rates)


class EcbRates:
    """The ECB's daily reference rates, cached in the process (one fetch at a time)."""

    name = "ecb"

    def __init__(self, *, url: str, timeout: float, refresh_seconds: int,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.url = url
        self.timeout = timeout
        self.refresh = timedelta(seconds=refresh_seconds)
        self.transport = transport
        self._document: EcbDocument | None = None
        self._fetched_at: datetime | None = None
        self._lock = asyncio.Lock()

    async def _fetch(self) -> EcbDocument:
        async with httpx.AsyncClient(timeout=self.timeout, transport=self.transport) as http:
            response = await http.get(self.url, headers={"Accept": "application/xml"})
            response.raise_for_status()
        return parse_ecb(response.content)

    async def document(self, now: datetime) -> EcbDocument:
        if self._fresh(now):
            assert self._document is not None
            return self._document
        async with self._lock:
            if self._fresh(now):  # another task refreshed it while this one waited
                assert self._document is not None
                return self._document
            try:
                self._document = await self._fetch()
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("ecb_rates_fetch_failed", error=type(exc).__name__)
                if self._document is None:
                    raise FxRatesUnavailable("The ECB's rates could not be fetched") from exc
                # Keep the cached document; `cross` refuses it once it is too old. Try again
                # at the next request rather than after a whole refresh period.
                return self._document
            self._fetched_at = now
            return self._document

    def _fresh(self, now: datetime) -> bool:
        return (self._document is not None and self._fetched_at is not None
                and now - self._fetched_at < self.refresh)

    async def rates(self, session: AsyncSession, now: datetime) -> dict[str, Rate]:
        doc = await self.document(now)
        table = {c: Rate(v, doc.as_of, self.name) for c, v in doc.rates.items()}
        table[BASE] = Rate(Decimal(1), doc.as_of, self.name)
        for currency, (anchor, units) in PEGS.items():
            if currency not in table and anchor in table:
                table[currency] = Rate(table[anchor].per_eur * units, doc.as_of, "ecb_peg")
        for row in await _manual_rows(session):
            if row.currency not in table:
                table[row.currency] = Rate(from_scaled(row.per_eur_scaled), row.updated_at,
                                           "manual")
        return table


def cross(table: dict[str, Rate], source: str, target: str, *, now: datetime,
          max_age: timedelta) -> CrossRate:
    """Target units per source unit at mid, refusing a stale or missing side."""
    if source == target:
        return CrossRate(Decimal(1), now, "none")
    missing = [c for c in (source, target) if c not in table]
    if missing:
        raise FxPairUnsupported(f"No exchange rate for {', '.join(missing)}")
    a, b = table[source], table[target]
    as_of = min(a.as_of, b.as_of)
    if now - as_of > max_age:
        raise FxRatesStale(f"The {source}/{target} rate is from {as_of:%Y-%m-%d %H:%M} UTC, "
                           f"older than {int(max_age.total_seconds() // 3600)} hours")
    with localcontext() as ctx:
        ctx.prec = 50
        rate = (b.per_eur / a.per_eur).quantize(QUANTUM, rounding=ROUND_HALF_EVEN)
    if rate <= 0:
        raise FxPairUnsupported(f"The {source}/{target} rate is below {QUANTUM}")
    source_name = a.source if a.source == b.source else f"{a.source}+{b.source}"
    return CrossRate(rate, as_of, source_name[:20])


def convert_minor(amount: int, source: str, target: str, rate: Decimal, *,
                  rounding: str = ROUND_DOWN) -> int:
    """`amount` minor units of `source` in minor units of `target` at `rate`, rounded once.
    Down (the default) for what the platform pays out, half-up for a fee it converts."""
    if rounding not in (ROUND_DOWN, ROUND_HALF_UP):
        raise ValueError("round down (payouts) or half-up (fees)")
    shift = currency_exponent(target) - currency_exponent(source)
    with localcontext() as ctx:
        ctx.prec = 60
        value = (Decimal(amount) * rate).scaleb(shift)
        return int(value.quantize(Decimal(1), rounding=rounding))


def max_age(settings: Settings) -> timedelta:
    return timedelta(hours=settings.fx_max_rate_age_hours)


def get_rates_provider(app_state: Any) -> RatesProvider:
    """The application's rates provider (`app.state.fx_rates_provider`), built on first use
    (the ECB cache lives as long as the process)."""
    provider: RatesProvider | None = getattr(app_state, "fx_rates_provider", None)
    if provider is None:
        settings: Settings = app_state.settings
        if settings.fx_provider == "ecb":
            provider = EcbRates(url=settings.ecb_rates_url,
                                timeout=settings.fx_http_timeout_seconds,
                                refresh_seconds=settings.fx_refresh_seconds)
        else:
            provider = SandboxRates()
        app_state.fx_rates_provider = provider
    return provider


def production_problems(settings: Settings) -> list[str]:
    if settings.fx_provider == "sandbox":
        return ["MINDLINKS_FX_PROVIDER is 'sandbox'; production needs 'ecb'"]
    return []
