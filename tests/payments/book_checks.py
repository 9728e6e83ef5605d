"""The book's invariants over a whole database, shared by the property tests and the batch
tests: cached account sums equal a replay of the transfers, each currency sums to zero (posted
and pending apart), no guarded account is overdrawn, no pending transfer is resolved twice."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import select

from mindlinks.payments.models import Account, Transfer, TransferKind


async def assert_book_consistent(s: Any) -> None:
    rows = {a.id: a for a in (await s.scalars(
        select(Account).execution_options(populate_existing=True))).all()}
    transfers = (await s.scalars(select(Transfer))).all()
    by_id = {t.id: t for t in transfers}
    # [debits_pending, debits_posted, credits_pending, credits_posted] per account
    replay: dict[uuid.UUID, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for t in transfers:
        d, c = replay[t.debit_account_id], replay[t.credit_account_id]
        if t.kind == TransferKind.PENDING:
            d[0] += t.amount
            c[2] += t.amount
            continue
        if t.kind in (TransferKind.POST, TransferKind.VOID):
            held = by_id[t.pending_id].amount
            d[0] -= held
            c[2] -= held
        if t.kind in (TransferKind.SINGLE, TransferKind.POST):
            d[1] += t.amount
            c[3] += t.amount
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for a in rows.values():
        cached = [a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted]
        assert cached == replay[a.id], (a.purpose, cached, replay[a.id])
        totals[a.currency][0] += a.credits_posted - a.debits_posted
        totals[a.currency][1] += a.credits_pending - a.debits_pending
        if not a.may_go_negative:
            assert a.debits_pending + a.debits_posted <= a.credits_posted, a.purpose
    assert all(t == [0, 0] for t in totals.values()), totals
    resolutions = Counter(t.pending_id for t in transfers if t.pending_id is not None)
    assert all(n == 1 for n in resolutions.values()), resolutions
