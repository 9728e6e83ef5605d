"""Money: integer minor units + ISO 4217 currency; parsing refuses what the currency cannot
hold, products round once with ROUND_HALF_EVEN, and currencies never mix."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mindlinks.platform.money import (
    CurrencyMismatch,
    Money,
    TooManyDecimals,
    currency_exponent,
    from_minor,
    to_minor,
    to_minor_rate,
)


def test_exponents_come_from_iso_4217():
    assert (currency_exponent("USD"), currency_exponent("jpy"), currency_exponent("KWD")) == (
        2, 0, 3)


@pytest.mark.parametrize(("amount", "currency", "minor"), [
    (Decimal("2.50"), "USD", 250), ("2.5", "usd", 250), (3, "EUR", 300),
    ("1500", "JPY", 1500), ("1.234", "KWD", 1234), ("0", "USD", 0),
])
def test_parse_scales_by_the_currency_exponent(amount, currency, minor):
    assert Money.parse(amount, currency) == Money(minor, currency.upper())


@pytest.mark.parametrize(("amount", "currency"), [
    ("2.505", "USD"), ("1.5", "JPY"), ("0.0001", "KWD"), (Decimal("0.001"), "EUR"),
])
def test_parse_refuses_more_decimals_than_the_currency_has(amount, currency):
    with pytest.raises(TooManyDecimals) as err:
        Money.parse(amount, currency)
    assert err.value.code == "too_many_decimals" and err.value.status == 422


@pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity", ""])
def test_parse_refuses_what_is_not_a_finite_decimal(bad):
    with pytest.raises(ValueError):
        Money.parse(bad, "USD")


def test_floats_and_bad_currencies_are_refused():
    with pytest.raises(TypeError):
        Money.parse(2.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(2.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Money(1, "usd")
    with pytest.raises(ValueError):
        Money(1, "US")


def test_to_decimal_and_str_keep_the_currency_decimals():
    assert Money(187500, "USD").to_decimal() == Decimal("1875.00")
    assert str(Money(187500, "USD").to_decimal()) == "1875.00"
    assert str(Money(5, "USD")) == "0.05 USD"
    assert str(Money(1500, "JPY")) == "1500 JPY"
    assert str(Money(-1234, "KWD")) == "-1.234 KWD"
    assert from_minor(250, "USD") == Decimal("2.50") and to_minor("2.50", "USD") == 250


def test_format_is_localised():
    assert Money(187500, "USD").format("en") == "$1,875.00"
    assert Money(187500, "EUR").format("de_DE") == "1.875,00\xa0€"
    assert Money(1500, "JPY").format("en") == "¥1,500"


def test_seed_example_hours_times_rate():
    # seed 000: 37.5 h x 50.00 USD = 1875.00 USD
    assert Money.parse("50.00", "USD").multiply(Decimal("37.5")) == Money(187500, "USD")


@pytest.mark.parametrize(("minor", "factor", "expected"), [
    (5, "0.5", 2),      # 2.5 -> 2 (to even)
    (15, "0.5", 8),     # 7.5 -> 8 (to even)
    (3, "0.5", 2),      # 1.5 -> 2
    (1, "0.5", 0),      # 0.5 -> 0
    (-5, "0.5", -2),    # symmetric for negatives
    (3333, "0.333", 1110),  # 1109.889 -> 1110
    (100, "1.005", 100),    # 100.5 -> 100
    (101, "1.005", 102),    # 101.505 -> 102 (not a tie)
])
def test_multiply_rounds_half_even_once(minor, factor, expected):
    assert Money(minor, "USD").multiply(Decimal(factor)) == Money(expected, "USD")


@given(st.integers(min_value=-10**15, max_value=10**15),
       st.decimals(min_value=0, max_value=1000, places=4, allow_nan=False, allow_infinity=False))
def test_multiply_is_within_half_a_minor_unit_of_the_exact_product(minor, factor):
    exact = Decimal(minor) * factor
    got = Money(minor, "USD").multiply(factor).minor
    assert abs(Decimal(got) - exact) <= Decimal("0.5")


def test_add_and_subtract_only_the_same_currency():
    a, b = Money(250, "USD"), Money(100, "USD")
    assert a + b == Money(350, "USD") and a - b == Money(150, "USD")
    assert b - a == Money(-150, "USD") and -a == Money(-250, "USD")
    assert b < a and a <= a
    with pytest.raises(CurrencyMismatch):
        _ = a + Money(100, "EUR")
    with pytest.raises(CurrencyMismatch):
        _ = a - Money(100, "EUR")
    with pytest.raises(CurrencyMismatch):
        _ = a < Money(100, "EUR")
    with pytest.raises(TypeError):
        _ = a + 1  # type: ignore[operator]


def test_fee_percent_to_basis_points():
    assert to_minor_rate(Decimal("1.25")) == 125
    with pytest.raises(TooManyDecimals):
        to_minor_rate(Decimal("1.255"))
