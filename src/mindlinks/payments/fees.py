"""Withdrawal fees and arrival dates: one place that both the withdrawal and the quote use, so
what a contractor is quoted is exactly what a withdrawal charges.

The fee comes from the contractor's country rule (`countries.RuleView`): `flat + amount x bps /
10000`, all in minor units of the withdrawal currency. Rounding: the percentage part is rounded
half-up to the minor unit, once, on the percentage part only (the flat part is already whole).
Half-up, not `Money.multiply`'s half-even: a fee's half cent goes to the platform, the side
that bears the payout's cost. A withdrawal whose fee would take all of it is refused by the
caller (below the minimum).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from mindlinks.countries.service import RuleView


@dataclass(frozen=True)
class WithdrawalFee:
    """Itemised fee in minor units of the withdrawal currency."""

    flat: int
    percent: int

    @property
    def total(self) -> int:
        return self.flat + self.percent


def percent_part(amount: int, bps: int) -> int:
    """`amount x bps / 10000` rounded half-up, in integers (no float ever touches money)."""
    if amount < 0 or bps < 0:
        raise ValueError("amount and bps must not be negative")
    return (amount * bps + 5_000) // 10_000


def withdrawal_fee(rule: RuleView, amount: int) -> WithdrawalFee:
    """The rule's fee for `amount` minor units. The flat part is in `rule.fee_currency`; a
    caller withdrawing another currency converts it first (see quotes)."""
    return WithdrawalFee(flat=rule.withdrawal_fee_flat,
                         percent=percent_part(amount, rule.withdrawal_fee_bps))


def add_business_days(start: date, days: int) -> date:
    """`days` working days after `start` (Saturday and Sunday skipped; public holidays are not
    modelled and are documented as such)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def estimated_arrival(now: datetime, rule: RuleView) -> date:
    """When the money should be in the bank: the rule's `payout_days` business days after
    the request (a request made on a weekend starts counting on Monday)."""
    return add_business_days(now.date(), rule.payout_days)
