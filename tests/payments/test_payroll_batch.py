"""The set-based payroll batch (`payroll.pay_batch`) keeps every guarantee of the item-by-item
path: in one run (one batch) with a held invoice, a suspended contractor, an invoice awaiting
funding the escrow covers, one it does not cover, and a hold already posted under the item's
reference, the payable items are paid once, each unpayable one fails alone with its reason,
the book sums to zero per currency, and every post has one journal entry."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from mindlinks.auth.models import User
from mindlinks.contractors.models import ContractorProfile
from mindlinks.invoices.models import Invoice
from mindlinks.ledger.models import LedgerEntry
from mindlinks.payments import book, holds, payroll
from mindlinks.payments.models import PLATFORM_OWNER, Account, Purpose, Transfer, TransferKind
from mindlinks.payments.payroll_models import FundingStatus, InvoiceHold, PayrollItem
from mindlinks.platform.events import OutboxEvent
from tests.payments.book_checks import assert_book_consistent

pytestmark = pytest.mark.usefixtures("db_backend")

PAY_DATE = date(2026, 6, 1)


async def _user(s: Any, role: str) -> uuid.UUID:
    now, user = datetime.now(UTC), uuid.uuid4()
    await s.execute(insert(User), [{
        "id": user, "email": f"batch-{user.hex}@example.com", "password_hash": "x",
        "role": role, "status": "active", "email_verified": True,
        "mfa_enabled": False, "created_at": now, "updated_at": now}])
    return user


async def _contractor(s: Any, n: int, status: str = "active") -> tuple[uuid.UUID, uuid.UUID]:
    now = datetime.now(UTC)
    user, contractor = await _user(s, "contractor"), uuid.uuid4()
    await s.execute(insert(ContractorProfile), [{
        "id": contractor, "user_id": user, "email": f"batch{n}-{user.hex[:6]}@example.com",
        "kyc_status": "verified", "status": status, "created_at": now, "updated_at": now}])
    return user, contractor


async def _invoice(s: Any, n: int, client: tuple[uuid.UUID, uuid.UUID], user: uuid.UUID,
                   contractor: uuid.UUID, amount: int, *, held: bool) -> uuid.UUID:
    now = datetime.now(UTC) - timedelta(minutes=10 - n)  # issued in this order
    invoice = uuid.uuid4()
    await s.execute(insert(Invoice), [{
        "id": invoice, "source_key": f"batch:{invoice}", "contract_id": contractor,
        "contractor_id": contractor, "contractor_user_id": user, "client_id": client[0],
        "client_user_id": client[1], "client_name": "Acme", "contractor_name": "Ada",
        "contract_title": "Work", "invoice_number": f"INV-2026-{n:03d}",
        "amount_minor": amount, "currency": "USD", "status": "sent", "net_terms_days": 14,
        "issue_date": PAY_DATE - timedelta(days=14), "due_date": PAY_DATE, "issued_at": now,
        "created_at": now, "updated_at": now}])
    escrow = await book.account(s, "client", client[0], Purpose.CLIENT_ESCROW, "USD")
    wallet = await holds.wallet_account(s, contractor, "USD")
    reference = holds.hold_reference(invoice)
    if held:
        await book.transfer(s, debit=escrow, credit=wallet, amount=amount,
                            code=holds.HOLD_CODE, reference=reference, pending=True)
    s.add(InvoiceHold(
        id=uuid.uuid4(), invoice_id=invoice, invoice_number=f"INV-2026-{n:03d}",
        client_id=client[0], client_user_id=client[1], client_name="Acme",
        contract_id=contractor, contractor_id=contractor, contractor_user_id=user,
        amount=amount, currency="USD", issue_date=PAY_DATE - timedelta(days=14),
        due_date=PAY_DATE, period_end=None, issued_at=now,
        status=FundingStatus.HELD if held else FundingStatus.AWAITING_FUNDING,
        reference=reference))
    await s.flush()
    return invoice


async def test_a_batch_pays_the_payable_items_once_and_fails_each_other_one_alone(app: Any):
    db = app.state.db
    async with db.session() as s:
        client = (uuid.uuid4(), await _user(s, "client"))
        world = await book.account(s, "platform", PLATFORM_OWNER, Purpose.PROCESSOR_CLEARING,
                                   "USD")
        escrow = await book.account(s, "client", client[0], Purpose.CLIENT_ESCROW, "USD")
        # 450.00: three holds of 100.00 leave 150.00 available - enough for the 100.00
        # invoice awaiting funding, not for the 200.00 one (in either order).
        await book.transfer(s, debit=world, credit=escrow, amount=45000, code="deposit",
                            reference=f"deposit:{client[0]}")
        people = [await _contractor(s, n, "suspended" if n == 1 else "active")
                  for n in range(5)]
        inv = {}
        for n, (name, amount, held) in enumerate([
                ("paid", 10000, True), ("suspended", 10000, True),
                ("funded_now", 10000, False), ("short", 20000, False),
                ("posted_before", 10000, True)]):
            inv[name] = await _invoice(s, n, client, *people[n], amount, held=held)
        # A post already made under the item's own reference (the hold row still says held):
        # the batch must not post again; the item path replays it.
        first_post = await book.post_pending(s, holds.hold_reference(inv["posted_before"]),
                                             post_reference=payroll.pay_reference(
                                                 inv["posted_before"]))
        entries_before = await s.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.entry_type == "payment_event"))

    report = await payroll.run(db, PAY_DATE)
    assert report == {"runs": 1, "paid": 3}
    assert (await payroll.run(db, PAY_DATE))["paid"] == 0  # a re-run pays nothing

    async with db.session() as s:
        items = {i.invoice_id: i for i in (await s.scalars(select(PayrollItem))).all()}
        outcome = {name: (items[i].status, items[i].failure_reason) for name, i in inv.items()}
        assert outcome == {
            "paid": ("paid", None), "suspended": ("failed", "contractor_suspended"),
            "funded_now": ("paid", None), "short": ("failed", "insufficient_funds"),
            "posted_before": ("paid", None)}
        assert items[inv["posted_before"]].transfer_id == first_post.id
        # One post per paid invoice, under its reference; the short one holds nothing.
        for name in ("paid", "funded_now", "posted_before"):
            post = await s.scalar(select(Transfer).where(
                Transfer.reference == payroll.pay_reference(inv[name])))
            assert post is not None and post.kind == TransferKind.POST
            assert items[inv[name]].transfer_id == post.id
        assert await s.scalar(select(Transfer).where(
            Transfer.reference == holds.hold_reference(inv["short"]))) is None
        posts = await s.scalar(select(func.count()).select_from(Transfer).where(
            Transfer.kind == TransferKind.POST))
        assert posts == 3
        statuses = {h.invoice_id: h.status for h in (
            await s.scalars(select(InvoiceHold))).all()}
        assert statuses[inv["paid"]] == statuses[inv["funded_now"]] == FundingStatus.RELEASED
        assert statuses[inv["posted_before"]] == FundingStatus.RELEASED
        assert statuses[inv["suspended"]] == FundingStatus.HELD
        assert statuses[inv["short"]] == FundingStatus.AWAITING_FUNDING
        invoice_status = {r.id: r.status for r in (
            await s.execute(select(Invoice.id, Invoice.status))).all()}
        assert {n for n, i in inv.items() if invoice_status[i] == "paid"} == {
            "paid", "funded_now", "posted_before"}

        escrow_row = await s.get(Account, escrow.id, populate_existing=True)
        assert escrow_row is not None
        # 450 in; 300 posted out (paid, funded_now, posted_before); 100 still held.
        assert (escrow_row.credits_posted, escrow_row.debits_posted,
                escrow_row.debits_pending) == (45000, 30000, 10000)
        await assert_book_consistent(s)
        # One journal entry per post made by the run (the earlier post had its own).
        entries = await s.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.entry_type == "payment_event"))
        assert entries - entries_before == 2
        received = (await s.scalars(select(OutboxEvent.payload).where(
            OutboxEvent.name == "payment.received"))).all()
        assert sorted(p["invoiceId"] for p in received) == sorted(
            str(inv[n]) for n in ("paid", "funded_now", "posted_before"))
