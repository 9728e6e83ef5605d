"""The book's rules, called as other domains call them (`payments.service`)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mindlinks.ledger.models import LedgerEntry
from mindlinks.payments import service as book
from mindlinks.payments.models import Purpose
from mindlinks.platform.db import Database, utcnow
from mindlinks.platform.errors import ValidationFailed


async def _pair(s, currency: str = "USD") -> tuple[book.Account, book.Account]:  # type: ignore[no-untyped-def]
    world = await book.account(s, "platform", None, Purpose.PROCESSOR_CLEARING, currency)
    escrow = await book.account(s, "client", uuid.uuid4(), Purpose.CLIENT_ESCROW, currency)
    return world, escrow


async def test_account_is_get_or_create_and_guarded_by_purpose(database: Database) -> None:
    owner = uuid.uuid4()
    async with database.session() as s:
        first = await book.account(s, "client", owner, Purpose.CLIENT_ESCROW, "usd")
    async with database.session() as s:
        again = await book.account(s, "client", owner, Purpose.CLIENT_ESCROW, "USD")
        world = await book.account(s, "platform", None, Purpose.PROCESSOR_CLEARING, "USD")
    assert again.id == first.id and first.currency == "USD"
    assert not first.may_go_negative and world.may_go_negative


async def test_a_deposit_moves_money_once_per_reference(database: Database) -> None:
    async with database.session() as s:
        world, escrow = await _pair(s)
        t1 = await book.transfer(s, debit=world, credit=escrow, amount=500_00, code="deposit",
                                 reference="deposit:pi_1")
        t2 = await book.transfer(s, debit=world, credit=escrow, amount=500_00, code="deposit",
                                 reference="deposit:pi_1")
        assert t1.id == t2.id
        with pytest.raises(book.ReferenceConflict):
            await book.transfer(s, debit=world, credit=escrow, amount=499_99, code="deposit",
                                reference="deposit:pi_1")
        bal = await book.balances(s, escrow)
        assert (bal.credits_posted, bal.available) == (500_00, 500_00)
        assert (await book.balances(s, world)).posted == -500_00
        journal = await s.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.entity_type == "payment_transfer"))
        assert journal == 1


async def test_a_guarded_account_cannot_pay_more_than_it_holds_counting_holds(
        database: Database) -> None:
    async with database.session() as s:
        world, escrow = await _pair(s)
        hold_to = await book.account(s, "client", uuid.uuid4(), Purpose.CLIENT_ESCROW, "USD")
        await book.transfer(s, debit=world, credit=escrow, amount=100, code="deposit",
                            reference="d1")
        await book.transfer(s, debit=escrow, credit=hold_to, amount=60, code="hold",
                            reference="h1", pending=True)
        with pytest.raises(book.InsufficientFunds):  # 60 held + 41 > 100
            await book.transfer(s, debit=escrow, credit=world, amount=41, code="refund",
                                reference="r1")
        await book.transfer(s, debit=escrow, credit=world, amount=40, code="refund",
                            reference="r2")
        assert (await book.balances(s, escrow)).available == 0
        with pytest.raises(book.InsufficientFunds):
            await book.transfer(s, debit=escrow, credit=world, amount=1, code="refund",
                                reference="r3")


async def test_partial_post_releases_the_rest_and_void_releases_all(database: Database) -> None:
    async with database.session() as s:
        world, escrow = await _pair(s)
        wallet = await book.account(s, "contractor", uuid.uuid4(), Purpose.CONTRACTOR_WALLET,
                                    "USD")
        await book.transfer(s, debit=world, credit=escrow, amount=1000, code="deposit",
                            reference="d")
        await book.transfer(s, debit=escrow, credit=wallet, amount=700, code="payroll",
                            reference="hold:a", pending=True)
        assert (await book.balances(s, escrow)).available == 300
        posted = await book.post_pending(s, "hold:a", amount=500)
        assert posted.amount == 500
        assert (await book.post_pending(s, "hold:a", amount=500)).id == posted.id  # replay
        with pytest.raises(book.ReferenceConflict):
            await book.post_pending(s, "hold:a", amount=400)
        with pytest.raises(book.PendingResolved):
            await book.void_pending(s, "hold:a")
        assert (await book.balances(s, escrow)).available == 500
        assert (await book.balances(s, wallet)).available == 500
        await book.transfer(s, debit=escrow, credit=wallet, amount=500, code="payroll",
                            reference="hold:b", pending=True)
        with pytest.raises(book.AmountExceedsPending):
            await book.post_pending(s, "hold:b", amount=501)
        void = await book.void_pending(s, "hold:b")
        assert (await book.void_pending(s, "hold:b")).id == void.id
        with pytest.raises(book.PendingResolved):
            await book.post_pending(s, "hold:b")
        bal = await book.balances(s, escrow)
        assert (bal.available, bal.debits_pending) == (500, 0)


async def test_an_expired_hold_cannot_be_posted_and_the_job_voids_it(database: Database) -> None:
    from mindlinks.payments import jobs

    async with database.session() as s:
        world, escrow = await _pair(s)
        await book.transfer(s, debit=world, credit=escrow, amount=100, code="deposit",
                            reference="d")
        await book.transfer(s, debit=escrow, credit=world, amount=100, code="hold",
                            reference="h", pending=True, expires_at=utcnow() - timedelta(1))
        with pytest.raises(book.PendingExpired):
            await book.post_pending(s, "h")
    assert await jobs.expire_holds(database) == 1
    assert await jobs.expire_holds(database) == 0
    async with database.session() as s:
        assert (await book.balances(s, escrow)).available == 100
        with pytest.raises(book.PendingResolved):
            await book.post_pending(s, "h")


async def test_malformed_transfers_are_refused(database: Database) -> None:
    async with database.session() as s:
        world, escrow = await _pair(s)
        _, eur = await _pair(s, "EUR")
        for bad in (0, -5, 1.5, True):
            with pytest.raises(ValidationFailed):
                await book.transfer(s, debit=world, credit=escrow, amount=bad,  # type: ignore[arg-type]
                                    code="deposit", reference=f"bad:{bad}")
        with pytest.raises(book.CurrencyMismatch):
            await book.transfer(s, debit=world, credit=eur, amount=1, code="x", reference="m")
        with pytest.raises(ValidationFailed):
            await book.transfer(s, debit=world, credit=world, amount=1, code="x", reference="s")
        with pytest.raises(ValidationFailed):
            await book.transfer(s, debit=world, credit=escrow, amount=1, code="x",
                                reference="r" * 256)
        with pytest.raises(book.TransferNotFound):
            await book.post_pending(s, "nothing")


async def test_the_expiry_job_leaves_a_hold_voided_by_hand_as_voided(
        database: Database) -> None:
    from mindlinks.payments import jobs
    from mindlinks.payments.book import expire_pending
    from mindlinks.payments.models import Transfer

    async with database.session() as s:
        world, escrow = await _pair(s)
        await book.transfer(s, debit=world, credit=escrow, amount=100, code="deposit",
                            reference="d")
        await book.transfer(s, debit=escrow, credit=world, amount=100, code="hold",
                            reference="h", pending=True, expires_at=utcnow() - timedelta(1))
        pending = await s.scalar(select(Transfer).where(Transfer.reference == "h"))
        assert pending is not None
        await book.void_pending(s, "h")
        # The job picked the hold before the void committed: it must not relabel it.
        assert await expire_pending(s, pending) is None
        assert (await s.scalar(select(Transfer.status).where(Transfer.reference == "h"))) \
            == "voided"
    assert await jobs.expire_holds(database) == 0


async def test_the_database_refuses_a_one_legged_or_unbalanced_transfer(
        database: Database) -> None:
    """RELIABILITY 2: a transfer is one row carrying both legs and one amount, so the database
    itself refuses a row missing a leg, with both legs on one account, with a leg on no account,
    or with a zero or negative amount; and a guarded account's sums cannot be pushed past
    zero by hand (the `guarded_not_overdrawn` backstop). Written straight to the tables with
    the app's own connection: nothing is stored, the sums are unchanged."""
    from sqlalchemy import insert, update
    from sqlalchemy.exc import IntegrityError

    from mindlinks.payments.models import Account, Transfer

    async with database.session() as s:
        world, escrow = await _pair(s)
        await book.transfer(s, debit=world, credit=escrow, amount=100, code="deposit",
                            reference="d")
    before = (world.id, escrow.id)
    now = utcnow()

    def row(reference: str, **changes: object) -> dict[str, object]:
        return {"id": uuid.uuid4(), "reference": reference, "code": "deposit",
                "kind": "single", "debit_account_id": world.id,
                "credit_account_id": escrow.id, "amount": 10, "currency": "USD",
                "status": "posted", "created_at": now, "updated_at": now, **changes}

    bad = [row("one-leg", credit_account_id=None), row("other-leg", debit_account_id=None),
           row("same", credit_account_id=world.id), row("nowhere", credit_account_id=uuid.uuid4()),
           row("zero", amount=0), row("negative", amount=-10), row("no-amount", amount=None)]
    # The same row with both legs is accepted (then rolled back): the refusals are the rules.
    async with database.engine.connect() as conn, conn.begin() as tx:
        await conn.execute(insert(Transfer.__table__).values(**row("good")))
        await tx.rollback()
    for values in bad:
        with pytest.raises(IntegrityError):
            async with database.engine.begin() as conn:
                await conn.execute(insert(Transfer.__table__).values(**values))
    overdraw = update(Account.__table__).where(Account.id == escrow.id).values(
        debits_posted=Account.credits_posted + 1)
    negative = update(Account.__table__).where(Account.id == escrow.id).values(credits_posted=-1)
    for statement in (overdraw, negative):
        with pytest.raises(IntegrityError):
            async with database.engine.begin() as conn:
                await conn.execute(statement)
    async with database.session() as s:
        refs = (await s.scalars(select(Transfer.reference))).all()
        assert refs == ["d"]
        sums = {a.id: (a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted)
                for a in (await s.scalars(select(Account).where(Account.id.in_(before)))).all()}
        assert sums == {world.id: (0, 100, 0, 0), escrow.id: (0, 0, 0, 100)}
