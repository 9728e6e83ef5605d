"""Property test of the book (hypothesis state machine): random sequences of transfers, holds,
posts, voids, replays and currency conversions (`payments.conversions.convert`: two linked
transfers through the FX liquidity accounts plus the spread to fee revenue), checking after
every step that each currency's accounts - the platform's FX and fee accounts included - sum
to zero,
that the sums cached on the account rows equal a replay of the immutable transfers, and that no
guarded account is overdrawn (pending debits counted).

Examples are kept few so the suite stays fast; `MINDLINKS_BOOK_EXAMPLES=500` goes deeper.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule
from sqlalchemy import select

from mindlinks.payments import conversions
from mindlinks.payments import service as book
from mindlinks.payments.models import Account, Purpose, Transfer, TransferKind
from mindlinks.platform.db import Database
from tests.payments.book_checks import assert_book_consistent

EXAMPLES = int(os.environ.get("MINDLINKS_BOOK_EXAMPLES", "5"))
# (owner type, purpose, currency): two currencies, guarded and unguarded accounts.
LAYOUT = [
    ("platform", Purpose.PROCESSOR_CLEARING, "USD"),
    ("client", Purpose.CLIENT_ESCROW, "USD"),
    ("client", Purpose.CLIENT_ESCROW, "USD"),
    ("contractor", Purpose.CONTRACTOR_WALLET, "USD"),
    ("platform", Purpose.PROCESSOR_CLEARING, "EUR"),
    ("client", Purpose.CLIENT_ESCROW, "EUR"),
]


def machine(url: str) -> type[RuleBasedStateMachine]:
    class Book(RuleBasedStateMachine):
        pendings = Bundle("pendings")
        references = Bundle("references")

        def __init__(self) -> None:
            super().__init__()
            self.loop = asyncio.new_event_loop()
            self.db = Database(url)
            # Fresh owners per example: each example has its own accounts in a shared database.
            owners = [uuid.uuid4() for _ in LAYOUT]
            self.accounts: list[Account] = self.run(self._accounts(owners))
            self.n = 0

        async def _accounts(self, owners: list[uuid.UUID]) -> list[Account]:
            async with self.db.session() as s:
                return [await book.account(s, t, o, p, c)
                        for (t, p, c), o in zip(LAYOUT, owners, strict=True)]

        def run(self, coro: Any) -> Any:
            return self.loop.run_until_complete(coro)

        def teardown(self) -> None:
            self.run(self.db.dispose())
            self.loop.close()

        async def _do(self, fn: Any, *args: Any, **kw: Any) -> Any:
            async with self.db.session() as s:
                try:
                    return await fn(s, *args, **kw)
                except (book.InsufficientFunds, book.PendingResolved):
                    return None

        @rule(target=references, data=st.data(), amount=st.integers(1, 5000),
              pending=st.booleans())
        def move(self, data: st.DataObject, amount: int, pending: bool) -> str:
            debit = data.draw(st.sampled_from(self.accounts))
            credit = data.draw(st.sampled_from(
                [a for a in self.accounts if a.currency == debit.currency and a.id != debit.id]))
            self.n += 1
            ref = f"t:{uuid.uuid4()}"

            async def go(s: Any) -> Any:
                return await book.transfer(s, debit=await s.get(Account, debit.id),
                                           credit=await s.get(Account, credit.id),
                                           amount=amount, code="test", reference=ref,
                                           pending=pending)
            self.run(self._do(go))
            return ref

        @rule(data=st.data(), converted=st.integers(1, 5000), spread=st.integers(0, 200),
              target_amount=st.integers(1, 5000))
        def convert(self, data: st.DataObject, converted: int, spread: int,
                    target_amount: int) -> None:
            source = data.draw(st.sampled_from(self.accounts))
            target = data.draw(st.sampled_from(
                [a for a in self.accounts if a.currency != source.currency]))
            ref = f"c:{uuid.uuid4()}"

            async def go(s: Any) -> None:
                src, tgt = await s.get(Account, source.id), await s.get(Account, target.id)
                before = (await book.balances(s, src), await book.balances(s, tgt))
                await conversions.convert(s, source=src, target=tgt, converted=converted,
                                          spread=spread, target_amount=target_amount,
                                          reference=ref)
                after = (await book.balances(s, src), await book.balances(s, tgt))
                # The source pays exactly converted + spread, the target gets target_amount.
                assert after[0].debits_posted - before[0].debits_posted == converted + spread
                assert after[1].credits_posted - before[1].credits_posted == target_amount
            self.run(self._do(go))

        @rule(target=pendings, ref=references)
        def remember(self, ref: str) -> str:
            return ref

        @rule(ref=references)
        def replay_returns_the_first(self, ref: str) -> None:
            async def go(s: Any) -> None:
                first = await s.scalar(select(Transfer).where(Transfer.reference == ref))
                if first is None:  # refused for insufficient funds
                    return
                again = await book.transfer(
                    s, debit=await s.get(Account, first.debit_account_id),
                    credit=await s.get(Account, first.credit_account_id), amount=first.amount,
                    code=first.code, reference=ref, pending=first.kind == TransferKind.PENDING)
                assert again.id == first.id
            self.run(self._do(go))

        @rule(ref=pendings, part=st.none() | st.integers(1, 5000))
        def post(self, ref: str, part: int | None) -> None:
            async def go(s: Any) -> None:
                first = await s.scalar(select(Transfer).where(Transfer.reference == ref))
                if first is None or first.kind != TransferKind.PENDING:
                    return
                amount = None if part is None else min(part, first.amount)
                await book.post_pending(s, ref, amount=amount, post_reference=f"{ref}:post:{amount}")
            self.run(self._do(go))

        @rule(ref=pendings)
        def void(self, ref: str) -> None:
            async def go(s: Any) -> None:
                first = await s.scalar(select(Transfer).where(Transfer.reference == ref))
                if first is not None and first.kind == TransferKind.PENDING:
                    await book.void_pending(s, ref)
            self.run(self._do(go))

        @invariant()
        def book_balances(self) -> None:
            self.run(self._check())

        async def _check(self) -> None:
            # Every account of the (per-test) database: conversions also move the platform's
            # FX liquidity and fee revenue accounts, shared by all examples.
            async with self.db.session() as s:
                await assert_book_consistent(s)

    return Book


def test_the_book_balances_after_every_step(database_url: str) -> None:
    Book = machine(database_url)
    Book.TestCase.settings = settings(
        max_examples=EXAMPLES, stateful_step_count=20, deadline=None,
        suppress_health_check=list(HealthCheck))
    Book.TestCase().runTest()
