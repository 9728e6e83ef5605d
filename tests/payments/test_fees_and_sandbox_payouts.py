"""The withdrawal fee's rounding and arrival dates (payments/fees.py), and the sandbox payout
store's one-payout-per-key guarantee across concurrent callers."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from pathlib import Path

import pytest

from mindlinks.countries.service import RuleView
from mindlinks.payments.fees import add_business_days, percent_part, withdrawal_fee
from mindlinks.payments.payouts import PayoutRefused, PayoutRequest, SandboxPayouts

EG = RuleView("EG", "Egypt", "EGP", True, "USD", 0, 50, 2000, 3, "W-8BEN")


def test_the_percentage_is_rounded_once_half_up() -> None:
    assert withdrawal_fee(EG, 500_000).total == 2_500  # the seed: 5,000.00 -> 25.00
    assert percent_part(1, 5_000) == 1  # 0.5 minor unit -> 1 (half-up, to the platform)
    assert percent_part(3, 5_000) == 2  # 1.5 -> 2
    assert percent_part(1, 4_999) == 0  # 0.4999 -> 0
    assert percent_part(10**15, 10_000) == 10**15  # integers only, no float drift
    with pytest.raises(ValueError):
        percent_part(-1, 50)


def test_arrival_counts_business_days() -> None:
    assert add_business_days(date(2024, 12, 2), 3) == date(2024, 12, 5)  # Monday -> Thursday
    assert add_business_days(date(2024, 12, 6), 3) == date(2024, 12, 11)  # Friday -> Wednesday
    assert add_business_days(date(2024, 12, 7), 3) == date(2024, 12, 11)  # Saturday too


def _request(key: str, amount: int = 1000) -> PayoutRequest:
    return PayoutRequest(withdrawal_id=uuid.uuid4(), idempotency_key=key, amount=amount,
                         currency="USD", contractor_id=uuid.uuid4(),
                         bank_account_id=uuid.uuid4(), account_holder_name="Ada Lovelace",
                         country="US", bank_currency="USD", account_number="000123456789")


async def test_concurrent_calls_with_one_key_make_one_payout(tmp_path: Path) -> None:
    store = SandboxPayouts(tmp_path / "payouts", "whsec_test")
    results = await asyncio.gather(*(store.create_payout(_request("withdrawal:k"))
                                     for _ in range(20)))
    assert len({r.payout_ref for r in results}) == 1
    [payout] = store.all()
    assert payout.requests >= 1  # counted best-effort; every call got the first payout
    assert len(list((tmp_path / "payouts").glob("*"))) == 1  # no temporary file left behind
    # A new store on the same directory (a restarted process) still knows it.
    again = await SandboxPayouts(tmp_path / "payouts", "whsec_test").create_payout(
        _request("withdrawal:k"))
    assert again.payout_ref == payout.payout_ref
    with pytest.raises(PayoutRefused):  # the key reused for another amount
        await store.create_payout(_request("withdrawal:k", amount=999))
