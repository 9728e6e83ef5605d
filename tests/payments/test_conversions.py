"""Conversion in the book: two linked transfers through the FX liquidity accounts and the spread
as its own transfer; all or none; replay-safe; each currency still sums to zero."""

from __future__ import annotations

import uuid
from collections import defaultdict

import pytest
from sqlalchemy import select

from mindlinks.payments import conversions
from mindlinks.payments import service as book
from mindlinks.payments.models import Account, Purpose, Transfer
from tests.payments.book_checks import assert_book_consistent


async def _wallets(session, owner: uuid.UUID) -> tuple[Account, Account]:
    usd = await book.account(session, "contractor", owner, Purpose.CONTRACTOR_WALLET, "USD")
    egp = await book.account(session, "contractor", owner, Purpose.CONTRACTOR_WALLET, "EGP")
    world = await book.account(session, "platform", None, Purpose.PROCESSOR_CLEARING, "USD")
    await book.transfer(session, debit=world, credit=usd, amount=10_000, code="test",
                        reference=f"fund:{owner}")
    return usd, egp


async def _sums(session) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for a in (await session.scalars(select(Account)
                                    .execution_options(populate_existing=True))).all():
        totals[a.currency] += a.credits_posted - a.debits_posted
    return dict(totals)


async def _posted(session, purpose: str, currency: str) -> int:
    acc = await book.account(session, "platform", None, purpose, currency)
    return (await book.balances(session, acc)).posted


async def test_a_conversion_moves_each_currency_within_itself(database):
    owner = uuid.uuid4()
    async with database.session() as s:
        usd, egp = await _wallets(s, owner)
        done = await conversions.convert(s, source=usd, target=egp, converted=9_000, spread=45,
                                         target_amount=433_521, reference="w:1")
        assert (done.out.code, done.spread.code, done.into.code) == (
            "fx_conversion", "fx_spread", "fx_conversion")
    async with database.session() as s:
        assert (await book.balances(s, usd)).posted == 10_000 - 9_000 - 45
        assert (await book.balances(s, egp)).posted == 433_521
        assert await _posted(s, Purpose.FX_LIQUIDITY, "USD") == 9_000
        assert await _posted(s, Purpose.FX_LIQUIDITY, "EGP") == -433_521
        assert await _posted(s, Purpose.PLATFORM_FEE_REVENUE, "USD") == 45
        assert await _sums(s) == {"USD": 0, "EGP": 0}
        # The same reference again returns the first conversion and moves nothing more.
        again = await conversions.convert(s, source=usd, target=egp, converted=9_000,
                                          spread=45, target_amount=433_521, reference="w:1")
        assert again.into.id == done.into.id
        assert await s.scalar(select(Transfer.id).where(Transfer.reference == "w:1:fx:in"))
        assert (await book.balances(s, egp)).posted == 433_521


async def test_a_conversion_the_source_cannot_pay_moves_nothing(database):
    owner = uuid.uuid4()
    async with database.session() as s:
        usd, egp = await _wallets(s, owner)
    async with database.session() as s:
        # 9,990 converted fits, 9,990 + 20 of spread does not: the first leg is undone too.
        with pytest.raises(book.InsufficientFunds):
            await conversions.convert(s, source=usd, target=egp, converted=9_990, spread=20,
                                      target_amount=1, reference="w:2")
        assert (await book.balances(s, usd)).posted == 10_000
        assert (await book.balances(s, egp)).posted == 0
        assert await s.scalar(select(Transfer.id).where(
            Transfer.reference.like("w:2:%"))) is None
        assert await _sums(s) == {"USD": 0, "EGP": 0}


async def test_a_conversion_needs_two_currencies_and_sane_amounts(database):
    owner = uuid.uuid4()
    async with database.session() as s:
        usd, egp = await _wallets(s, owner)
        with pytest.raises(book.CurrencyMismatch):
            await conversions.convert(s, source=usd, target=usd, converted=1, spread=0,
                                      target_amount=1, reference="w:3")
        for converted, spread, target_amount in ((0, 0, 1), (1, -1, 1), (1, 0, 0)):
            with pytest.raises(Exception) as refused:
                await conversions.convert(s, source=usd, target=egp, converted=converted,
                                          spread=spread, target_amount=target_amount,
                                          reference=f"w:4:{converted}:{spread}")
            assert getattr(refused.value, "code", None) == "invalid_amount"


async def test_a_fault_after_the_first_legs_leaves_no_leg(database, monkeypatch):
    """RELIABILITY 7: the conversion's legs are linked - a fault injected after the out and
    spread legs (here: the in leg raises) undoes them too, even when the caller catches the
    error and commits the rest of its transaction."""
    owner = uuid.uuid4()
    async with database.session() as s:
        usd, egp = await _wallets(s, owner)
        usd_id, egp_id = usd.id, egp.id
    from mindlinks.payments import book as book_module

    real = book_module.transfer

    async def faulty(session, **kw):
        if kw["reference"].endswith(":fx:in"):
            raise RuntimeError("injected fault")
        return await real(session, **kw)

    monkeypatch.setattr(book_module, "transfer", faulty)
    async with database.session() as s:
        usd, egp = await s.get(Account, usd_id), await s.get(Account, egp_id)
        with pytest.raises(RuntimeError):
            await conversions.convert(s, source=usd, target=egp, converted=9_000, spread=45,
                                      target_amount=433_521, reference="w:5")
        # The caller's own work after the fault commits; none of the conversion does (the
        # savepoint's rollback expired the rows it touched: read them again).
        usd = await s.get(Account, usd_id, populate_existing=True)
        world = await book.account(s, "platform", None, Purpose.PROCESSOR_CLEARING, "USD")
        await real(s, debit=world, credit=usd, amount=1, code="test", reference="after")
    monkeypatch.undo()
    async with database.session() as s:
        assert await s.scalar(select(Transfer.id).where(Transfer.reference.like("w:5:%"))) is None
        assert (await book.balances(s, usd)).posted == 10_001
        assert (await book.balances(s, egp)).posted == 0
        assert await _posted(s, Purpose.FX_LIQUIDITY, "USD") == 0
        assert await _posted(s, Purpose.PLATFORM_FEE_REVENUE, "USD") == 0
        assert await _sums(s) == {"USD": 0, "EGP": 0}
        await assert_book_consistent(s)
