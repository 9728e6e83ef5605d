"""Property test of `book.post_many` (the payroll's batch): random batches mixing posts of open
holds, holds already posted or voided, placements larger or smaller than the escrow can cover,
and repeated references. After every batch: each currency sums to zero, the cached sums equal a
replay of the transfers, no guarded account is overdrawn, every pending transfer has at most
one resolution, and what `post_many` reports posted exists exactly once under its reference."""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from mindlinks.payments import book
from mindlinks.payments.models import PLATFORM_OWNER, Purpose, Transfer, TransferKind
from mindlinks.platform.db import Database
from tests.payments.book_checks import assert_book_consistent

EXAMPLES = int(os.environ.get("MINDLINKS_BOOK_EXAMPLES", "5"))

# One order of a batch: (kind, wallet index, amount, earlier index). `hold` posts a hold placed
# before the batch; `posted`/`voided` post one already resolved; `place` places and posts.
ORDER = st.tuples(st.sampled_from(["hold", "posted", "voided", "place", "repeat"]),
                  st.integers(0, 2), st.integers(1, 400), st.integers(0, 20))


async def _scenario(url: str, deposit: int, holds: list[int], batch: list[Any]) -> None:
    db = Database(url)
    client = uuid.uuid4()
    try:
        async with db.session() as s:
            world = await book.account(s, "platform", PLATFORM_OWNER,
                                       Purpose.PROCESSOR_CLEARING, "USD")
            escrow = await book.account(s, "client", client, Purpose.CLIENT_ESCROW, "USD")
            wallets = [await book.account(s, "contractor", uuid.uuid4(),
                                          Purpose.CONTRACTOR_WALLET, "USD") for _ in range(3)]
            await book.transfer(s, debit=world, credit=escrow, amount=deposit, code="deposit",
                                reference=f"deposit:{client}")
            placed: list[str] = []
            for k, amount in enumerate(holds):
                reference = f"hold:{client}:{k}"
                try:
                    await book.transfer(s, debit=escrow, credit=wallets[k % 3], amount=amount,
                                        code="invoice_hold", reference=reference, pending=True)
                except book.InsufficientFunds:
                    continue
                placed.append(reference)
            resolved = {}
            for k, reference in enumerate(placed):
                if k % 3 == 1:
                    await book.post_pending(s, reference, post_reference=f"pay:{reference}")
                    resolved[reference] = "posted"
                elif k % 3 == 2:
                    await book.void_pending(s, reference)
                    resolved[reference] = "voided"
            orders: list[book.PostOrder] = []
            for n, (kind, wallet, amount, earlier) in enumerate(batch):
                if kind == "place" or not placed:
                    reference = f"new:{client}:{n}"
                    orders.append(book.PostOrder(reference, f"pay:{reference}",
                                                 (escrow.id, wallets[wallet].id, amount,
                                                  "invoice_hold")))
                elif kind == "repeat" and orders:
                    orders.append(orders[earlier % len(orders)])
                else:
                    reference = placed[earlier % len(placed)]
                    orders.append(book.PostOrder(reference, f"pay:{reference}"))
            posted = await book.post_many(s, orders)
            # Only open holds and covered placements are posted; each reference once.
            for order in orders:
                if order.post_reference in posted and order.place is None:
                    assert resolved.get(order.pending_reference) is None
            assert len(posted) == len(set(posted))
        async with db.session() as s:
            for reference, transfer_id in posted.items():
                found = (await s.scalars(select(Transfer).where(
                    Transfer.reference == reference))).all()
                assert [t.id for t in found] == [transfer_id]
                assert found[0].kind == TransferKind.POST
            await assert_book_consistent(s)
    finally:
        await db.dispose()


def test_post_many_keeps_the_book_balanced(database_url: str) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    @given(deposit=st.integers(1, 2000), holds=st.lists(st.integers(1, 500), max_size=8),
           batch=st.lists(ORDER, min_size=1, max_size=12))
    def run(deposit: int, holds: list[int], batch: list[Any]) -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(_scenario(database_url, deposit, holds, batch))
        finally:
            loop.close()

    run()
