"""FX rates: the ECB adapter against a recorded ECB document (respx), cross rates through EUR,
pegs, admin-set rates for what the ECB does not publish, staleness, rounding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from mindlinks.payments import fx
from mindlinks.payments.fees import percent_part
from mindlinks.payments.quotes_models import FxRate
from mindlinks.platform.money import currency_exponent

URL = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"
# The ECB's eurofxref-daily.xml as published for 2024-06-28 (a Friday).
DOCUMENT = (Path(__file__).parent / "data" / "eurofxref-daily-2024-06-28.xml").read_bytes()
PUBLISHED = datetime(2024, 6, 28, 14, 0, tzinfo=UTC)  # 16:00 Frankfurt (CEST)
MAX_AGE = timedelta(hours=100)


def ecb(refresh: int = 3600) -> fx.EcbRates:
    return fx.EcbRates(url=URL, timeout=5, refresh_seconds=refresh)


def test_the_recorded_document_parses_exactly():
    doc = fx.parse_ecb(DOCUMENT)
    assert doc.day.isoformat() == "2024-06-28" and doc.as_of == PUBLISHED
    assert len(doc.rates) == 30
    assert doc.rates["USD"] == Decimal("1.0705") and doc.rates["GBP"] == Decimal("0.84638")
    assert all(isinstance(v, Decimal) for v in doc.rates.values())


@pytest.mark.parametrize("body", [
    b"<html>maintenance</html>",
    b"not xml at all",
    DOCUMENT.replace(b"rate='1.0705'", b"rate='-1'"),
    DOCUMENT.replace(b"rate='1.0705'", b"rate='NaN'"),
    DOCUMENT.replace(b"currency='USD'", b"currency='usd'"),
    # An entity expansion (billion laughs) is refused before it is expanded.
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
])
def test_a_document_that_is_not_the_ecb_s_is_refused(body):
    with pytest.raises(ValueError):
        fx.parse_ecb(body)


@respx.mock
async def test_cross_rates_go_through_eur_and_the_document_is_cached(database):
    route = respx.get(URL).mock(return_value=httpx.Response(200, content=DOCUMENT))
    provider = ecb()
    now = PUBLISHED + timedelta(hours=2)
    async with database.session() as session:
        table = await provider.rates(session, now)
        again = await provider.rates(session, now + timedelta(minutes=30))
    assert route.call_count == 1  # cached for fx_refresh_seconds
    assert table == again
    usd_gbp = fx.cross(table, "USD", "GBP", now=now, max_age=MAX_AGE)
    assert usd_gbp.rate == Decimal("0.7906398879")  # 0.84638 / 1.0705, 10 places half-even
    assert usd_gbp.as_of == PUBLISHED and usd_gbp.source == "ecb"
    assert fx.cross(table, "EUR", "USD", now=now, max_age=MAX_AGE).rate == Decimal("1.0705")
    # AED is not published; its peg to USD (3.6725) gives it through USD.
    aed = fx.cross(table, "USD", "AED", now=now, max_age=MAX_AGE)
    assert aed.rate == Decimal("3.6725") and aed.source == "ecb+ecb_peg"
    # EGP is neither published nor pegged: no rate until an admin sets one.
    with pytest.raises(fx.FxPairUnsupported):
        fx.cross(table, "USD", "EGP", now=now, max_age=MAX_AGE)


@respx.mock
async def test_an_admin_rate_fills_a_gap_but_never_replaces_a_published_one(database):
    respx.get(URL).mock(return_value=httpx.Response(200, content=DOCUMENT))
    set_at = PUBLISHED + timedelta(hours=1)
    async with database.session() as session:
        for currency, value in (("EGP", "51.2"), ("USD", "9")):
            session.add(FxRate(currency=currency, per_eur_scaled=fx.to_scaled(Decimal(value)),
                               created_at=set_at, updated_at=set_at))
    async with database.session() as session:
        table = await ecb().rates(session, PUBLISHED + timedelta(hours=2))
    assert table["EGP"] == fx.Rate(Decimal("51.2"), set_at, "manual")
    assert table["USD"].per_eur == Decimal("1.0705")  # the ECB's, not the hand-set 9
    usd_egp = fx.cross(table, "USD", "EGP", now=PUBLISHED + timedelta(hours=2), max_age=MAX_AGE)
    assert usd_egp.rate == Decimal("47.8281177020") and usd_egp.source == "ecb+manual"


@respx.mock
async def test_rates_older_than_the_limit_are_refused_with_fx_rates_stale(database):
    respx.get(URL).mock(return_value=httpx.Response(200, content=DOCUMENT))
    async with database.session() as session:
        table = await ecb().rates(session, PUBLISHED)
    # Over a weekend (Friday's rates on Monday afternoon) they are still usable.
    monday = PUBLISHED + timedelta(days=3)
    assert fx.cross(table, "USD", "GBP", now=monday, max_age=MAX_AGE).rate > 0
    with pytest.raises(fx.FxRatesStale) as stale:
        fx.cross(table, "USD", "GBP", now=PUBLISHED + MAX_AGE + timedelta(seconds=1),
                 max_age=MAX_AGE)
    assert stale.value.status == 503 and stale.value.code == "fx_rates_stale"
    # Same currency: no rate needed, never stale.
    assert fx.cross(table, "USD", "USD", now=PUBLISHED + timedelta(days=30),
                    max_age=MAX_AGE).rate == 1


@respx.mock
async def test_a_failed_refresh_keeps_the_cached_rates_until_they_are_stale(database):
    route = respx.get(URL)
    route.side_effect = [httpx.Response(200, content=DOCUMENT), httpx.ConnectError("down"),
                         httpx.Response(503), httpx.Response(200, content=b"<garbage/>")]
    provider = ecb(refresh=60)
    async with database.session() as session:
        first = await provider.rates(session, PUBLISHED)
        for hours in (1, 2, 3):  # three failed refreshes: the cached document is served
            assert await provider.rates(session, PUBLISHED + timedelta(hours=hours)) == first
    assert route.call_count == 4
    later = PUBLISHED + timedelta(hours=101)
    with pytest.raises(fx.FxRatesStale):
        fx.cross(first, "USD", "GBP", now=later, max_age=MAX_AGE)


@respx.mock
async def test_no_document_at_all_is_fx_rates_unavailable(database):
    respx.get(URL).mock(return_value=httpx.Response(500))
    async with database.session() as session:
        with pytest.raises(fx.FxRatesUnavailable) as refused:
            await ecb().rates(session, PUBLISHED)
    assert refused.value.status == 503 and refused.value.code == "fx_rates_unavailable"


async def test_sandbox_rates_are_fixed_and_admin_rows_override_them(database):
    now = datetime(2030, 1, 1, tzinfo=UTC)
    async with database.session() as session:
        table = await fx.SandboxRates().rates(session, now)
        assert table["USD"] == fx.Rate(Decimal("1.08"), now, "sandbox")
        session.add(FxRate(currency="USD", per_eur_scaled=fx.to_scaled(Decimal("1.25"))))
    later = now + timedelta(days=999)
    async with database.session() as session:
        table = await fx.SandboxRates().rates(session, later)
    assert table["USD"].per_eur == Decimal("1.25") and table["EUR"].per_eur == 1
    # Fixed rates do not age: set long ago, they are as of the moment they are read.
    assert fx.cross(table, "EUR", "USD", now=later, max_age=MAX_AGE).rate == Decimal("1.25")


def test_amounts_convert_once_rounding_down_for_payouts_and_half_up_for_fees():
    rate = Decimal("47.8281176997")
    # 100.00 USD -> 4782.81176997 EGP -> 4782.81 (down)
    assert fx.convert_minor(10_000, "USD", "EGP", rate) == 478_281
    # JPY has no decimals, KWD three: the exponents are applied exactly.
    assert fx.convert_minor(1_000, "JPY", "KWD", Decimal("0.0019")) == 1_900
    assert fx.convert_minor(199, "USD", "JPY", Decimal("1.5")) == 2  # 2.985 -> 2
    assert fx.convert_minor(199, "USD", "JPY", Decimal("1.5"), rounding=ROUND_HALF_UP) == 3
    with pytest.raises(ValueError):
        fx.convert_minor(1, "USD", "EUR", Decimal(1), rounding="ROUND_CEILING")


CURRENCIES = st.sampled_from(["USD", "EGP", "JPY", "KWD", "EUR"])


@settings(max_examples=200, deadline=None)
@given(amount=st.integers(1, 10**12), scaled=st.integers(1, 10**17), source=CURRENCIES,
       target=CURRENCIES, bps=st.integers(0, 10_000))
def test_rounding_never_pays_out_more_than_the_exact_amount(amount, scaled, source, target,
                                                            bps):
    """RELIABILITY 8, over random amounts and rates (10 decimals, as stored): a payout is the
    exact product rounded down - never a minor unit more than the rate gives, never a whole unit
    less - and a fee is within half a unit of exact, a half going to the platform."""
    rate = Decimal(scaled).scaleb(-10)
    exact = Fraction(amount) * Fraction(rate) * Fraction(10) ** (
        currency_exponent(target) - currency_exponent(source))
    out = fx.convert_minor(amount, source, target, rate)
    assert out <= exact < out + 1
    fee = fx.convert_minor(amount, source, target, rate, rounding=ROUND_HALF_UP)
    assert fee - Fraction(1, 2) <= exact < fee + Fraction(1, 2)
    percent = percent_part(amount, bps)
    assert percent - Fraction(1, 2) <= Fraction(amount * bps, 10_000) < percent + Fraction(1, 2)


@pytest.mark.parametrize("value", ["0", "-1", "1.00000000001", "10000001", "Infinity"])
def test_a_rate_with_more_than_ten_decimals_or_out_of_range_is_refused(value):
    with pytest.raises(fx.InvalidRate):
        fx.to_scaled(Decimal(value))
