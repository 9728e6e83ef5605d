"""Money: an integer of minor units plus an ISO 4217 currency, never a float.

Every domain that handles amounts uses this module:

- `Money.parse(Decimal("2.50") | "2.50", "USD")` -> `Money(250, "USD")`; an amount with more
  decimals than the currency has (`2.505` USD, `1.5` JPY) is refused with `TooManyDecimals`
  (422 `too_many_decimals`) rather than silently rounded: the user meant something we cannot
  pay.
- `money.to_decimal()` / `str(money)` / `money.format("en")` to show it.
- `money.multiply(rate)` for "hours x hourly rate" style amounts: the exact product is rounded
  once, to the currency's minor unit, with ROUND_HALF_EVEN (banker's rounding), so half-cent
  results do not drift upwards on average over many lines.
- `+` / `-` only between the same currency (`CurrencyMismatch` otherwise); a result may be
  negative (a correction), callers that must not go below zero check it.

The exponent of a currency (USD 2, JPY 0, KWD 3) comes from CLDR via Babel.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation, localcontext
from functools import lru_cache
from typing import Annotated

from babel.numbers import format_currency, get_currency_precision
from pydantic import PlainSerializer

from mindlinks.platform.errors import ValidationFailed

__all__ = [
    "CurrencyMismatch", "JsonNumber", "Money", "TooManyDecimals", "currency_exponent",
    "from_minor", "to_minor", "to_minor_rate",
]

# A decimal shown in JSON as a number (`1875.0`), not a string: the seeds' shapes use numbers.
# The value is exact (a float holds every amount below 2**53 minor units exactly as a decimal
# string of its digits), only the trailing zeros are lost in the JSON text.
JsonNumber = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


class TooManyDecimals(ValidationFailed):
    code, title = "too_many_decimals", "Amount has more decimals than its currency"


class CurrencyMismatch(ValueError):
    """Adding or comparing amounts of two currencies is a programming error, not user input."""


@lru_cache(maxsize=512)
def currency_exponent(currency: str) -> int:
    """Digits after the decimal point of `currency` (USD 2, VND 0, KWD 3), from CLDR."""
    return int(get_currency_precision(currency.upper()))


def _as_decimal(amount: Decimal | str | int) -> Decimal:
    if isinstance(amount, float):  # a float has already lost the amount the user meant
        raise TypeError("money is never a float; pass a Decimal or a string")
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(amount)
    except InvalidOperation as exc:
        raise ValueError(f"{amount!r} is not a decimal amount") from exc
    if not value.is_finite():
        raise ValueError("an amount must be finite")
    return value


def to_minor(amount: Decimal | str | int, currency: str) -> int:
    """`Decimal("2.50")`, USD -> 250; more decimals than the currency has is a 422
    `too_many_decimals`."""
    exponent = currency_exponent(currency)
    scaled = _as_decimal(amount).scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise TooManyDecimals(f"{currency.upper()} amounts have at most {exponent} decimals")
    return int(scaled)


def from_minor(amount: int, currency: str) -> Decimal:
    """250, USD -> `Decimal("2.50")` (always with the currency's number of decimals)."""
    exponent = currency_exponent(currency)
    return Decimal(amount).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


def to_minor_rate(percent: Decimal) -> int:
    """`1.25` % -> 125 basis points; finer than a basis point is a 422."""
    scaled = _as_decimal(percent) * 100
    if scaled != scaled.to_integral_value():
        raise TooManyDecimals("A fee percentage has at most two decimals")
    return int(scaled)


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in integer minor units of an ISO 4217 currency (upper case)."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise TypeError("Money.minor is an int of minor units")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise ValueError(f"{self.currency!r} is not an ISO 4217 currency code")

    @classmethod
    def parse(cls, amount: Decimal | str | int, currency: str) -> Money:
        """The amount in `currency`'s major units; refuses more decimals than it has."""
        currency = currency.upper()
        return cls(to_minor(amount, currency), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency.upper())

    @property
    def exponent(self) -> int:
        return currency_exponent(self.currency)

    def to_decimal(self) -> Decimal:
        """The amount in major units with the currency's decimals (`Decimal("1875.00")`)."""
        return from_minor(self.minor, self.currency)

    def multiply(self, factor: Decimal | str | int) -> Money:
        """`self x factor` rounded once to the minor unit with ROUND_HALF_EVEN.

        E.g. 50.00 USD x 37.5 = 1875.00 USD; 0.05 USD x 0.5 = 0.02 USD (2.5 cents → 2, to
        even). The product is exact before the single rounding (Decimal arithmetic with enough
        precision for any amount the platform stores)."""
        with localcontext() as ctx:
            ctx.prec = 80  # exact for any stored amount times any accepted rate
            product = Decimal(self.minor) * _as_decimal(factor)
            rounded = product.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
        return Money(int(rounded), self.currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError("Money can only be combined with Money")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.minor <= other.minor

    def __str__(self) -> str:
        """`1875.00 USD`: exact, locale-free (logs, journal text, e-mails' plain part)."""
        return f"{self.to_decimal()} {self.currency}"

    def format(self, locale: str = "en") -> str:
        """Shown to a person in `locale` (`$1,875.00`, `1.875,00 €`), via Babel/CLDR."""
        return str(format_currency(self.to_decimal(), self.currency, locale=locale,
                                   currency_digits=True))
