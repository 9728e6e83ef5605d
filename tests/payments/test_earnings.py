"""Earnings over posted work credits for every period (`all | year | month | week`): the total,
this and last calendar month, by month and by contract, compared with the same figures
computed in Python from the rows (service level; transfers spread over 14 months)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import insert

from mindlinks.auth.models import User
from mindlinks.contractors.models import ContractorProfile
from mindlinks.payments import book, earnings, holds
from mindlinks.payments.models import Purpose, Transfer
from mindlinks.payments.payroll_models import InvoiceHold, PayrollItem
from mindlinks.platform.db import utcnow
from mindlinks.platform.security import Actor, Role

pytestmark = pytest.mark.usefixtures("db_backend")


@pytest.mark.parametrize("period", ["all", "year", "month", "week"])
async def test_earnings_per_period_match_the_rows(app: Any, period: str):
    db = app.state.db
    now = utcnow()
    user, contractor, client = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    contracts = [(uuid.uuid4(), f"Client {k}") for k in range(3)]
    # Days back from now: this week, this month, last month, earlier this year or last year.
    ages = [0, 1, 3, 6, 9, 20, 31, 40, 45, 70, 200, 380, 420]
    credits = [(now - timedelta(days=d, minutes=5), 1000 + 7 * k, contracts[k % 3][0])
               for k, d in enumerate(ages)]
    async with db.session() as s:
        await s.execute(insert(User), [{
            "id": user, "email": f"earn-{user.hex}@example.com", "password_hash": "x",
            "role": "contractor", "status": "active", "email_verified": True,
            "mfa_enabled": False, "created_at": now, "updated_at": now}])
        await s.execute(insert(ContractorProfile), [{
            "id": contractor, "user_id": user, "email": f"earn-{user.hex}@example.com",
            "kyc_status": "verified", "status": "active", "created_at": now,
            "updated_at": now}])
        escrow = await book.account(s, "client", client, Purpose.CLIENT_ESCROW, "USD")
        wallet = await holds.wallet_account(s, contractor, "USD")
        transfers, items, hold_rows = [], [], []
        for at, amount, contract in credits:
            tid, invoice = uuid.uuid4(), uuid.uuid4()
            transfers.append({"id": tid, "reference": f"earn:{tid}", "code": holds.HOLD_CODE,
                              "kind": "post", "debit_account_id": escrow.id,
                              "credit_account_id": wallet.id, "amount": amount,
                              "currency": "USD", "status": "posted", "created_at": at,
                              "updated_at": at})
            items.append({"id": uuid.uuid4(), "payroll_id": uuid.uuid4(),
                          "contractor_id": contractor, "contract_id": contract,
                          "invoice_id": invoice, "amount": amount, "currency": "USD",
                          "status": "paid", "transfer_id": tid, "paid_at": at,
                          "created_at": at, "updated_at": at})
            hold_rows.append({"id": uuid.uuid4(), "invoice_id": invoice,
                              "client_id": client, "client_name": dict(contracts)[contract],
                              "contract_id": contract, "contractor_id": contractor,
                              "contractor_user_id": user, "amount": amount,
                              "currency": "USD", "issue_date": at.date(),
                              "due_date": at.date(), "issued_at": at, "status": "released",
                              "reference": f"hold:invoice:{invoice}", "created_at": at,
                              "updated_at": at})
        await s.execute(insert(Transfer), transfers)
        await s.execute(insert(PayrollItem), items)
        await s.execute(insert(InvoiceHold), hold_rows)

    actor = Actor(user_id=user, email="e@example.com", role=Role.CONTRACTOR)
    async with db.session() as s:
        result = await earnings.earnings(s, actor, period)

    start = earnings.period_start(period, now.date())
    this_month = now.strftime("%Y-%m")
    last_month = (now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    in_period = [c for c in credits if start is None or c[0] >= start]
    by_month: dict[str, int] = defaultdict(int)
    by_contract: dict[uuid.UUID, int] = defaultdict(int)
    for at, amount, contract in in_period:
        by_month[at.astimezone(UTC).strftime("%Y-%m")] += amount
        by_contract[contract] += amount

    def money(minor: int) -> Decimal:
        return Decimal(minor).scaleb(-2)

    month_of = [(c[0].astimezone(UTC).strftime("%Y-%m"), c[1]) for c in credits]
    assert result.total_earned == money(sum(a for _, a, _ in in_period))
    assert result.this_month == money(sum(a for m, a in month_of if m == this_month))
    assert result.last_month == money(sum(a for m, a in month_of if m == last_month))
    assert [(m.month, m.amount) for m in result.earnings_by_month] == [
        (m, money(a)) for m, a in sorted(by_month.items())]
    assert sorted((c.contract_id, c.client_name, c.amount)
                  for c in result.earnings_by_contract) == sorted(
        (c, dict(contracts)[c], money(a)) for c, a in by_contract.items())
    assert result.currency == "USD"
