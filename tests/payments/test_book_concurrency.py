"""Concurrent transfers on one escrow account: 200 deposits, holds, posts and voids in a random
interleaving, at most 20 in flight. Whatever the order, the escrow is never overdrawn, every
currency sums to zero, and each hold is resolved at most once."""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

from sqlalchemy import func, select

from mindlinks.payments import service as book
from mindlinks.payments.models import Account, Purpose, Transfer, TransferKind
from mindlinks.platform.db import Database
from mindlinks.platform.errors import DomainError

OPERATIONS = 200


async def test_random_interleavings_on_one_escrow(database: Database) -> None:
    client, contractor = uuid.uuid4(), uuid.uuid4()
    async with database.session() as s:
        world = await book.account(s, "platform", uuid.uuid4(), Purpose.PROCESSOR_CLEARING,
                                   "USD")
        escrow = await book.account(s, "client", client, Purpose.CLIENT_ESCROW, "USD")
        wallet = await book.account(s, "contractor", contractor, Purpose.CONTRACTOR_WALLET,
                                    "USD")
    rng = random.Random(20261129)
    ops: list[tuple[str, int, int]] = [
        (rng.choice(["deposit", "hold", "hold", "post", "void"]), rng.randrange(40),
         rng.randint(1, 300)) for _ in range(OPERATIONS)]
    gate = asyncio.Semaphore(20)
    refused: dict[str, int] = {}

    async def run(op: str, key: int, amount: int) -> None:
        async with gate:
            try:
                async with database.session() as s:
                    if op == "deposit":
                        await book.transfer(s, debit=world, credit=escrow, amount=amount,
                                            code="deposit", reference=f"dep:{uuid.uuid4()}")
                    elif op == "hold":
                        await book.transfer(s, debit=escrow, credit=wallet, amount=amount,
                                            code="payroll", reference=f"hold:{key}",
                                            pending=True)
                    elif op == "post":
                        await book.post_pending(s, f"hold:{key}", post_reference=f"post:{key}")
                    else:
                        await book.void_pending(s, f"hold:{key}")
            except DomainError as exc:  # not enough funds yet, no such hold yet, resolved
                refused[exc.code] = refused.get(exc.code, 0) + 1

    await asyncio.gather(*(run(*op) for op in ops))
    assert set(refused) <= {"insufficient_funds", "transfer_not_found", "pending_not_pending",
                            "reference_conflict"}
    async with database.session() as s:
        rows: list[Any] = (await s.scalars(select(Account).where(
            Account.id.in_([world.id, escrow.id, wallet.id])))).all()
        assert sum(a.credits_posted - a.debits_posted for a in rows) == 0
        assert sum(a.credits_pending - a.debits_pending for a in rows) == 0
        e = next(a for a in rows if a.id == escrow.id)
        assert e.debits_pending + e.debits_posted <= e.credits_posted
        pending_sum = await s.scalar(select(func.coalesce(func.sum(Transfer.amount), 0)).where(
            Transfer.kind == TransferKind.PENDING, Transfer.status == "pending",
            Transfer.debit_account_id == escrow.id))
        assert e.debits_pending == pending_sum
        resolutions = await s.scalar(select(func.count()).select_from(Transfer).where(
            Transfer.pending_id.is_not(None)))
        resolved = await s.scalar(select(func.count()).select_from(Transfer).where(
            Transfer.kind == TransferKind.PENDING, Transfer.status != "pending"))
        assert resolutions == resolved
