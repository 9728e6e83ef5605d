"""Payroll runs (issue 13 §3, seed 002 PAYMENT_PAYROLL / PAYMENT_PAYROLL_ITEMS).

A run gathers, per client company, pay date and currency, every invoice whose hold is due
(`dueDate <= pay date`) and not yet paid or being paid; each becomes an item. Approving it
(automatically - the default company setting - or by the client) lets `process` post each
item's hold to the contractor's wallet and mark the invoice paid.

States: `draft -> approved -> processing -> completed | partially_failed` (TRANSITIONS). An
item that cannot be paid (escrow short, hold voided, contractor suspended, invoice no longer
payable) fails alone; its invoice is picked up again by the next day's run. Never twice: the
money moves by posting the invoice's one pending transfer under `payroll:invoice:{id}` (the
book returns the first post for a replay, and a pending transfer posts once); the item row is
locked while it is paid, and `invoices.mark_paid` is idempotent.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    Uuid,
    and_,
    bindparam,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contractors import service as contractors
from mindlinks.invoices import service as invoices
from mindlinks.ledger import service as ledger
from mindlinks.payments import book, holds
from mindlinks.payments.models import Purpose
from mindlinks.payments.payroll_models import (
    FundingStatus,
    InvoiceHold,
    ItemStatus,
    Payroll,
    PayrollItem,
    PayrollSetting,
    PayrollStatus,
)
from mindlinks.platform import collector
from mindlinks.platform.bulk import insert_many
from mindlinks.platform.db import Database, in_list, new_id, records, utcnow
from mindlinks.platform.errors import Conflict, InvalidTransition
from mindlinks.platform.events import emit, emit_many
from mindlinks.platform.money import from_minor

S = PayrollStatus
TRANSITIONS: dict[str, dict[str, str]] = {
    "approve": {S.DRAFT: S.APPROVED},
    "process": {S.APPROVED: S.PROCESSING},
    "complete": {S.PROCESSING: S.COMPLETED},
    "fail_partly": {S.PROCESSING: S.PARTIALLY_FAILED},
}
# Items paid per transaction: the escrow's row lock (and the journal's append lock) is held
# for one batch, not one run. A batch costs ~30 statements whatever its size, so larger
# batches mean fewer round trips and commits: 500 took 6,400 statements for 100k items, 2,000
# take 1,600; beyond that the locks are held for seconds while the gain flattens.
BATCH = 2000


def next_status(payroll: Payroll, action: str) -> str:
    target = TRANSITIONS[action].get(payroll.status)
    if target is None:
        raise InvalidTransition(f"A payroll that is {payroll.status} cannot be {action}d")
    return target


def pay_reference(invoice_id: uuid.UUID) -> str:
    return f"payroll:invoice:{invoice_id}"


async def auto_approve(session: AsyncSession, client_id: uuid.UUID) -> bool:
    setting = await session.get(PayrollSetting, client_id)
    return True if setting is None else setting.auto_approve


async def _locked(session: AsyncSession, payroll_id: uuid.UUID) -> Payroll | None:
    return await session.scalar(select(Payroll).where(Payroll.id == payroll_id)
                                .with_for_update().execution_options(populate_existing=True))


def _due_holds(pay_date: date) -> ColumnElement[bool]:
    """Open holds due by `pay_date` whose invoice has no pending or paid item anywhere."""
    busy = select(PayrollItem.id).where(
        PayrollItem.invoice_id == InvoiceHold.invoice_id,
        PayrollItem.status.in_((ItemStatus.PENDING, ItemStatus.PAID))).exists()
    return and_(InvoiceHold.status.in_(holds.OPEN), InvoiceHold.due_date <= pay_date, ~busy)


async def due_groups(session: AsyncSession, pay_date: date) -> Sequence[tuple[uuid.UUID, str]]:
    rows = await session.execute(select(InvoiceHold.client_id, InvoiceHold.currency)
                                 .where(_due_holds(pay_date)).distinct()
                                 .order_by(InvoiceHold.client_id, InvoiceHold.currency))
    return [(r[0], r[1]) for r in rows]


async def prepare(session: AsyncSession, client_id: uuid.UUID, currency: str,
                  pay_date: date) -> Payroll:
    """Get or create the run of (client, date, currency); while it is a draft, add the due
    invoices it lacks and recount it; approve it if the company approves automatically."""
    payroll = await session.scalar(select(Payroll).where(
        Payroll.client_id == client_id, Payroll.pay_date == pay_date,
        Payroll.currency == currency))
    if payroll is None:
        payroll = Payroll(id=new_id(), client_id=client_id, pay_date=pay_date,
                          period=pay_date.strftime("%Y-%m"), currency=currency,
                          contractor_count=0, total_amount=0, status=S.DRAFT)
        try:
            async with session.begin_nested():
                session.add(payroll)
                await session.flush()
        except IntegrityError:  # created by a concurrent run: read below
            if payroll in session:
                session.expunge(payroll)
    locked = await session.scalar(select(Payroll).where(
        Payroll.client_id == client_id, Payroll.pay_date == pay_date,
        Payroll.currency == currency).with_for_update().execution_options(populate_existing=True))
    assert locked is not None
    if locked.status != S.DRAFT:
        return locked
    due = (await session.execute(
        select(InvoiceHold.invoice_id, InvoiceHold.contractor_id, InvoiceHold.contract_id,
               InvoiceHold.amount)
        .where(InvoiceHold.client_id == client_id, InvoiceHold.currency == currency,
               _due_holds(pay_date))
        .order_by(InvoiceHold.issued_at, InvoiceHold.id))).all()
    now = utcnow()
    if due:
        await insert_many(session, _I, [
            {"id": new_id(), "payroll_id": locked.id, "invoice_id": r.invoice_id,
             "contractor_id": r.contractor_id, "contract_id": r.contract_id, "amount": r.amount,
             "currency": currency, "status": ItemStatus.PENDING, "created_at": now,
             "updated_at": now} for r in due])
    count, total = (await session.execute(
        select(func.count(func.distinct(PayrollItem.contractor_id)),
               func.coalesce(func.sum(PayrollItem.amount), 0))
        .where(PayrollItem.payroll_id == locked.id))).one()
    locked.contractor_count, locked.total_amount = int(count), int(total)
    if count and await auto_approve(session, client_id):
        locked.status = next_status(locked, "approve")
        locked.approved_at = now
    await session.flush()
    return locked


async def _fail(item: PayrollItem, reason: str) -> bool:
    item.status, item.failure_reason = ItemStatus.FAILED, reason
    return False


async def pay_item(session: AsyncSession, item_id: uuid.UUID, paid_at: datetime) -> bool:
    """Pay one item, or fail it alone. True when this call paid it."""
    item = await session.scalar(select(PayrollItem).where(PayrollItem.id == item_id)
                                .with_for_update().execution_options(populate_existing=True))
    if item is None or item.status != ItemStatus.PENDING:
        return False
    hold = await holds.hold_of(session, item.invoice_id, for_update=True)
    if hold is None or hold.status == FundingStatus.VOIDED:
        return await _fail(item, "hold_voided")
    if hold.status == FundingStatus.RELEASED:
        return await _fail(item, "already_paid")
    profile = await contractors.profile_by_user(session, hold.contractor_user_id)
    if profile is None or profile.status == contractors.ContractorStatus.SUSPENDED:
        return await _fail(item, "contractor_suspended")
    if hold.status == FundingStatus.AWAITING_FUNDING and not await holds.try_hold(session, hold):
        return await _fail(item, "insufficient_funds")
    try:
        async with session.begin_nested():
            # mark_paid first: a cancelled invoice (event not delivered yet) refuses before
            # any money moves.
            await invoices.mark_paid(session, item.invoice_id, paid_at)
            post = await book.post_pending(session, hold.reference,
                                           post_reference=pay_reference(item.invoice_id),
                                           at=paid_at)
    except (InvalidTransition, book.PendingResolved, book.PendingExpired):
        fresh = await session.scalar(select(PayrollItem).where(PayrollItem.id == item_id)
                                     .execution_options(populate_existing=True))
        assert fresh is not None
        return await _fail(fresh, "invoice_not_payable")
    hold.status = FundingStatus.RELEASED
    item.status, item.transfer_id, item.paid_at = ItemStatus.PAID, post.id, paid_at
    await session.flush()
    await emit(session, "payment.received", _received(item, hold))
    return True


async def finish(session: AsyncSession, payroll_id: uuid.UUID) -> Payroll | None:
    payroll = await _locked(session, payroll_id)
    if payroll is None or payroll.status != S.PROCESSING:
        return payroll
    counts: dict[str, int] = {status: count for status, count in (await session.execute(
        select(PayrollItem.status, func.count()).where(PayrollItem.payroll_id == payroll_id)
        .group_by(PayrollItem.status))).all()}
    if counts.get(ItemStatus.PENDING):
        return payroll
    payroll.status = next_status(
        payroll, "fail_partly" if counts.get(ItemStatus.FAILED) else "complete")
    payroll.completed_at = utcnow()
    await session.flush()
    return payroll


async def start(session: AsyncSession, payroll_id: uuid.UUID) -> bool:
    """`approved -> processing`; True when there is work (also for a run left processing)."""
    payroll = await _locked(session, payroll_id)
    if payroll is None:
        return False
    if payroll.status == S.APPROVED:
        payroll.status = next_status(payroll, "process")
        await session.flush()
    return payroll.status == S.PROCESSING


async def pending_items(session: AsyncSession, payroll_id: uuid.UUID) -> list[uuid.UUID]:
    return list((await session.scalars(select(PayrollItem.id).where(
        PayrollItem.payroll_id == payroll_id, PayrollItem.status == ItemStatus.PENDING)
        .order_by(PayrollItem.created_at, PayrollItem.id))).all())


async def pay_batch(session: AsyncSession, item_ids: Sequence[uuid.UUID],
                    paid_at: datetime) -> int:
    """Pay a batch of items set-based, with the guarantees of `pay_item`; returns how many
    this call paid.

    The rows are locked in the order `pay_item` locks them (items, holds, invoices, the
    journal, then the book's accounts in id order). An item is paid here when everything
    `pay_item` checks holds for it - its hold is held (or awaiting funding that the escrow
    covers now), the contractor is not suspended, the invoice is payable, the pending
    transfer still pending and unexpired, its post reference unused: then `book.post_many`
    posts all of them in a few statements, `invoices.mark_paid_many` pays their invoices and
    one statement per table records the rest. Every other item goes through `pay_item`
    afterwards, in the same transaction, and is paid, replayed or failed alone exactly as
    before."""
    rank = {item_id: k for k, item_id in enumerate(dict.fromkeys(item_ids))}
    ids = sorted(rank)
    if not ids:
        return 0
    items = records(await session.execute(
        select(_I.c.id, _I.c.payroll_id, _I.c.invoice_id, _I.c.contractor_id,
               _I.c.contract_id, _I.c.amount, _I.c.currency)
        .where(in_list(session, _I.c.id, ids), _I.c.status == ItemStatus.PENDING)
        .order_by(_I.c.id).with_for_update()))
    items.sort(key=lambda i: rank[i.id])  # the caller's order: who is placed first, who fails
    if not items:
        return 0
    by_invoice = {h.invoice_id: h for h in records(await session.execute(
        select(_H.c.id, _H.c.invoice_id, _H.c.status, _H.c.reference, _H.c.client_id,
               _H.c.contractor_id, _H.c.contractor_user_id, _H.c.client_name, _H.c.amount,
               _H.c.currency)
        .where(in_list(session, _H.c.invoice_id, [i.invoice_id for i in items]))
        .order_by(_H.c.id).with_for_update()))}
    open_holds = [h for h in by_invoice.values() if h.status in holds.OPEN]
    active = await contractors.active_users(
        session, list({h.contractor_user_id for h in open_holds}))
    payable = await invoices.lock_payable(session, [h.invoice_id for h in open_holds])
    candidates = [(i, by_invoice[i.invoice_id]) for i in items
                  if i.invoice_id in payable and by_invoice[i.invoice_id].status in holds.OPEN
                  and by_invoice[i.invoice_id].contractor_user_id in active]
    orders = await _post_orders(session, candidates)
    await ledger.lock_for_append(session)  # before the accounts, as `pay_item` takes them
    # Each post carries its item's `paid_at`: earnings read the items, history the posts.
    posted = await book.post_many(session, list(orders.values()), at=paid_at)
    paid = [(i, h) for i, h in candidates if pay_reference(i.invoice_id) in posted]
    if paid:
        await invoices.mark_paid_many(session, [i.invoice_id for i, _ in paid], paid_at)
        await session.execute(update(_H).where(in_list(session, _H.c.id, [h.id for _, h in paid]))
                              .values(status=FundingStatus.RELEASED, updated_at=paid_at))
        if session.get_bind().dialect.name == "postgresql":  # one execution, not one a row
            await session.execute(_PAY_ITEMS_UNNEST, {
                "ids": [i.id for i, _ in paid], "paid_at": paid_at, "status": ItemStatus.PAID,
                "transfer_ids": [posted[pay_reference(i.invoice_id)] for i, _ in paid]})
        else:
            await session.execute(_PAY_ITEM, [
                {"item_id": i.id, "transfer_id": posted[pay_reference(i.invoice_id)],
                 "paid_at": paid_at} for i, _ in paid])
        await emit_many(session, "payment.received", [_received(i, h) for i, h in paid])
    done = {i.id for i, _ in paid}
    count = len(done)
    for item in items:  # the rest one by one: paid, replayed or failed alone
        if item.id not in done:
            count += await pay_item(session, item.id, paid_at)
    return count


_I = cast(Table, PayrollItem.__table__)
_H = cast(Table, InvoiceHold.__table__)
_PAY_ITEM = (update(_I).where(_I.c.id == bindparam("item_id"))
             .values(status=ItemStatus.PAID, transfer_id=bindparam("transfer_id"),
                     paid_at=bindparam("paid_at"), updated_at=bindparam("paid_at")))
_PAY_ITEMS_UNNEST = text(
    "UPDATE payment_payroll_items AS i SET status = :status, transfer_id = v.transfer_id, "
    "paid_at = :paid_at, updated_at = :paid_at "
    "FROM unnest(:ids, :transfer_ids) AS v(id, transfer_id) WHERE i.id = v.id",
).bindparams(bindparam("ids", type_=ARRAY(Uuid())), bindparam("transfer_ids", type_=ARRAY(Uuid())),
             bindparam("paid_at", type_=_I.c.paid_at.type))


async def _post_orders(session: AsyncSession, candidates: list[tuple[Any, Any]]
                       ) -> dict[uuid.UUID, book.PostOrder]:
    """The book's orders by item id: post the held ones; place and post the ones awaiting
    funding (when their wallet exists - otherwise `pay_item` creates it)."""
    waiting = [h for _, h in candidates if h.status == FundingStatus.AWAITING_FUNDING]
    accounts: dict[tuple[str, uuid.UUID, str, str], uuid.UUID] = {}
    if waiting:
        accounts = await book.account_ids(
            session, [("client", h.client_id, Purpose.CLIENT_ESCROW, h.currency)
                      for h in waiting]
            + [("contractor", h.contractor_id, Purpose.CONTRACTOR_WALLET, h.currency)
               for h in waiting])
    orders: dict[uuid.UUID, book.PostOrder] = {}
    for item, hold in candidates:
        place = None
        if hold.status == FundingStatus.AWAITING_FUNDING:
            escrow = accounts.get(("client", hold.client_id, Purpose.CLIENT_ESCROW,
                                   hold.currency))
            wallet = accounts.get(("contractor", hold.contractor_id,
                                   Purpose.CONTRACTOR_WALLET, hold.currency))
            if escrow is None or wallet is None:
                continue
            place = (escrow, wallet, hold.amount, holds.HOLD_CODE)
        orders[item.id] = book.PostOrder(hold.reference, pay_reference(item.invoice_id), place)
    return orders


def _received(item: Any, hold: Any) -> dict[str, Any]:
    return {"paymentId": item.id, "userId": hold.contractor_user_id,
            "amount": str(from_minor(item.amount, item.currency)), "amountMinor": item.amount,
            "currency": item.currency, "contractId": item.contract_id,
            "clientName": hold.client_name, "invoiceId": item.invoice_id,
            "payrollId": item.payroll_id, "contractorId": item.contractor_id}


async def process_in(session: AsyncSession, payroll_id: uuid.UUID) -> int:
    """The whole run in the caller's transaction (the client's approve request)."""
    if not await start(session, payroll_id):
        return 0
    now, paid = utcnow(), 0
    ids = await pending_items(session, payroll_id)
    for i in range(0, len(ids), BATCH):
        with collector.paused():
            paid += await pay_batch(session, ids[i:i + BATCH], now)
    await finish(session, payroll_id)
    return paid


async def process(db: Database, payroll_id: uuid.UUID) -> int:
    """The job's way: one short transaction per batch of items."""
    async with db.session() as s:
        if not await start(s, payroll_id):
            return 0
        ids = await pending_items(s, payroll_id)
    paid = 0
    for i in range(0, len(ids), BATCH):
        # No garbage collection while a batch runs: it would scan the batch's live rows again
        # and again (platform/collector.py); collections resume between batches.
        with collector.paused():
            async with db.session() as s:
                paid += await pay_batch(s, ids[i:i + BATCH], utcnow())
    async with db.session() as s:
        await finish(s, payroll_id)
    return paid


async def run(db: Database, pay_date: date | None = None) -> dict[str, int]:
    """The daily job: prepare every due run, then process every approved one."""
    pay_date = pay_date or utcnow().date()
    async with db.session() as s:
        groups = await due_groups(s, pay_date)
    for client_id, currency in groups:
        async with db.session() as s:
            await prepare(s, client_id, currency, pay_date)
    async with db.session() as s:
        ready = (await s.scalars(select(Payroll.id).where(
            Payroll.status.in_((S.APPROVED, S.PROCESSING)), Payroll.pay_date <= pay_date)
            .order_by(Payroll.pay_date, Payroll.id))).all()
    paid = 0
    for payroll_id in ready:
        paid += await process(db, payroll_id)
    return {"runs": len(ready), "paid": paid}


class PayrollNotApprovable(Conflict):
    code, title = "payroll_not_approvable", "Only a draft payroll can be approved"


async def approve(session: AsyncSession, payroll: Payroll, user_id: uuid.UUID) -> Payroll:
    locked = await _locked(session, payroll.id)
    assert locked is not None
    if locked.status != S.DRAFT:
        raise PayrollNotApprovable(f"The payroll is {locked.status}")
    locked.status = next_status(locked, "approve")
    locked.approved_by, locked.approved_at = user_id, utcnow()
    await session.flush()
    await process_in(session, locked.id)
    return locked


async def set_auto_approve(session: AsyncSession, client_id: uuid.UUID, value: bool) -> None:
    setting = await session.get(PayrollSetting, client_id)
    if setting is None:
        session.add(PayrollSetting(client_id=client_id, auto_approve=value))
    else:
        setting.auto_approve = value
    await session.flush()


