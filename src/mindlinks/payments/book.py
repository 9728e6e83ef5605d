"""The book: double entry in integer minor units, after TigerBeetle (see docs/payments.md).

Public interface (other domains call it through `payments.service`):

- `account(session, owner_type, owner_id, purpose, currency)` - get or create; idempotent, also
  when two transactions create the same account at once (unique key + savepoint).
- `transfer(session, debit=, credit=, amount=, code=, reference=, pending=, expires_at=)` - one
  balanced, immutable movement. `reference` is the business action's idempotency key: the same
  reference with the same accounts, amount, code and phase returns the first transfer; anything
  else under that reference is 409 `reference_conflict`.
- `post_pending(session, reference, amount=None, post_reference=None)` - post all or part of a
  pending transfer (the rest is released); `void_pending(session, reference)` - release it.
- `balances(session, account)` -> `Balance`.

Rules:
- A guarded account (`may_go_negative` false) obeys `debits_pending + debits_posted + amount <=
  credits_posted` when debited: a hold counts against the balance at once. Breaking it is 422
  `insufficient_funds` (the request is well-formed, the account just cannot pay it; 409 is kept
  for conflicts with another request or an earlier use of a reference).
- The four sums on the account row change only here, inside the transfer's transaction, with
  the rows locked by `SELECT ... FOR UPDATE` in id order on PostgreSQL (so two transfers over
  the same two accounts cannot deadlock); SQLite serialises writers with BEGIN IMMEDIATE.
- Every posted movement (a single transfer, a post) is also a `payment_event` journal entry.
  Lock order: the journal's append lock first, then the accounts in id order (a posting
  transfer takes the journal's lock before the accounts, as the payroll does), so a
  transaction that posts never waits for the journal while holding an account row.
"""

from __future__ import annotations

import secrets
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    String,
    Table,
    Uuid,
    bindparam,
    case,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert, Update
from sqlalchemy.sql.elements import BindParameter

from mindlinks.ledger import service as ledger
from mindlinks.payments.models import (
    PLATFORM_OWNER,
    UNGUARDED,
    Account,
    PendingStatus,
    Transfer,
    TransferKind,
)
from mindlinks.platform.db import discard, in_list, named_insert, new_id, records, utcnow
from mindlinks.platform.errors import (
    Conflict,
    InsufficientFunds,
    NotFound,
    ValidationFailed,
)

__all__ = [
    "HOLD_WRITES", "Account", "AmountExceedsPending", "Balance", "CurrencyMismatch",
    "InsufficientFunds", "LockedSums", "PendingExpired", "PendingResolved", "PostOrder",
    "ReferenceConflict", "Transfer", "TransferNotFound", "account", "balances", "hold_params",
    "post_many", "post_pending", "transfer", "void_pending",
]

MAX_REFERENCE = 255
MAX_CODE = 50
# Far below 2**63 so that no sum of a realistic number of transfers overflows a BIGINT.
MAX_AMOUNT = 10**15


class ReferenceConflict(Conflict):
    code, title = "reference_conflict", "Reference already used for another transfer"


class PendingResolved(Conflict):
    code, title = "pending_not_pending", "The pending transfer is already posted or voided"


class PendingExpired(Conflict):
    code, title = "pending_expired", "The pending transfer has expired"


class TransferNotFound(NotFound):
    code = "transfer_not_found"


class CurrencyMismatch(ValidationFailed):
    code, title = "currency_mismatch", "Accounts of different currencies"


class AmountExceedsPending(ValidationFailed):
    code, title = "amount_exceeds_pending", "Amount exceeds the pending amount"


class AccountNotFound(NotFound):
    code, title = "account_not_found", "Account not found"


class InvalidReference(ValidationFailed):
    code, title = "invalid_reference", "Invalid transfer reference"


class InvalidTransferCode(ValidationFailed):
    code, title = "invalid_code", "Invalid transfer code"


class InvalidAmount(ValidationFailed):
    code, title = "invalid_amount", "Invalid amount"


class SameAccount(ValidationFailed):
    code, title = "same_account", "Same account on both sides"


class InvalidExpiry(ValidationFailed):
    code, title = "invalid_expiry", "Invalid expiry"


@dataclass(frozen=True, slots=True)
class Balance:
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int

    @property
    def available(self) -> int:
        """What a credit-normal (guarded) account can still pay: posted credits minus posted
        and pending debits."""
        return self.credits_posted - self.debits_posted - self.debits_pending

    @property
    def posted(self) -> int:
        return self.credits_posted - self.debits_posted


async def account(session: AsyncSession, owner_type: str, owner_id: uuid.UUID | None,
                  purpose: str, currency: str, *, sorts_after: uuid.UUID | None = None
                  ) -> Account:
    """`sorts_after`: a new account gets an id greater than this one, so that locking the two
    in id order - as every transfer does - takes that one first (a caller that already holds
    its lock and then writes to the new account keeps the order)."""
    owner = owner_id or PLATFORM_OWNER
    currency = currency.upper()
    query = select(Account).where(Account.owner_type == owner_type, Account.owner_id == owner,
                                  Account.purpose == purpose, Account.currency == currency)
    found = await session.scalar(query)
    if found is not None:
        return found
    account_id = new_id() if sorts_after is None else uuid.UUID(
        int=sorts_after.int + 1 + secrets.randbelow(2**128 - 1 - sorts_after.int))
    row = Account(id=account_id, owner_type=owner_type, owner_id=owner, purpose=purpose,
                  currency=currency, may_go_negative=purpose in UNGUARDED, debits_pending=0,
                  debits_posted=0, credits_pending=0, credits_posted=0)
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:  # created meanwhile by a concurrent transaction
        discard(session, row)
        found = await session.scalar(query)
        assert found is not None
        return found
    return row


async def account_ids(session: AsyncSession, keys: Sequence[tuple[str, uuid.UUID, str, str]]
                      ) -> dict[tuple[str, uuid.UUID, str, str], uuid.UUID]:
    """Ids of the existing accounts among these (owner type, owner id, purpose, currency)
    keys - a read for batches; `account` creates one."""
    groups: dict[tuple[str, str, str], set[uuid.UUID]] = defaultdict(set)
    for owner_type, owner_id, purpose, currency in keys:
        groups[(owner_type, purpose, currency)].add(owner_id)
    found: dict[tuple[str, uuid.UUID, str, str], uuid.UUID] = {}
    for (owner_type, purpose, currency), owners in groups.items():
        rows = await session.execute(select(_A.c.id, _A.c.owner_id).where(
            _A.c.owner_type == owner_type, _A.c.purpose == purpose, _A.c.currency == currency,
            in_list(session, _A.c.owner_id, sorted(owners))))
        found.update({(owner_type, row.owner_id, purpose, currency): row.id for row in rows})
    return found


async def balances(session: AsyncSession, account: Account) -> Balance:
    row = await session.scalar(select(Account).where(Account.id == account.id)
                               .execution_options(populate_existing=True))
    if row is None:
        raise AccountNotFound("No such account")
    return Balance(row.debits_pending, row.debits_posted, row.credits_pending,
                   row.credits_posted)


async def _lock(session: AsyncSession, *ids: uuid.UUID) -> dict[uuid.UUID, Account]:
    """Lock the accounts in id order (no deadlock between two transfers) and read their sums
    fresh from the database (the identity map may hold stale ones)."""
    rows = (await session.scalars(
        select(Account).where(Account.id.in_(ids)).order_by(Account.id)
        .with_for_update().execution_options(populate_existing=True))).all()
    return {row.id: row for row in rows}


async def _by_reference(session: AsyncSession, reference: str) -> Transfer | None:
    return await session.scalar(select(Transfer).where(Transfer.reference == reference)
                                .execution_options(populate_existing=True))


def _check_reference(reference: str) -> None:
    if not reference or len(reference) > MAX_REFERENCE:
        raise InvalidReference(f"A reference has 1 to {MAX_REFERENCE} characters")


def _same(first: Transfer, debit: Account, credit: Account, amount: int, code: str,
          kind: str) -> Transfer:
    if (first.debit_account_id, first.credit_account_id, first.amount, first.code,
            first.kind) != (debit.id, credit.id, amount, code, kind):
        raise ReferenceConflict(f"Reference {first.reference!r} was used for another transfer")
    return first


@dataclass(frozen=True, slots=True)
class LockedSums:
    """An account's row as read under its lock (`SELECT ... FOR UPDATE`, id order): what
    `hold_writes` needs of it."""

    id: uuid.UUID
    currency: str
    may_go_negative: bool
    debits_pending: int
    debits_posted: int
    credits_posted: int


def _overdraft_check(account: Account | LockedSums, amount: int) -> None:
    if account.may_go_negative:
        return
    if account.debits_pending + account.debits_posted + amount > account.credits_posted:
        raise InsufficientFunds("The account cannot cover this amount")


_JOURNALED = ("id", "reference", "code", "kind", "amount", "currency", "debit_account_id",
              "credit_account_id", "pending_id")


def _journal_entry(row: dict[str, Any]) -> ledger.NewEntry:
    return ledger.NewEntry(
        ledger.EntryType.PAYMENT_EVENT, "payment_transfer", row["id"], {
            "transferId": str(row["id"]), "reference": row["reference"], "code": row["code"],
            "kind": row["kind"], "amountMinor": row["amount"], "currency": row["currency"],
            "debitAccountId": str(row["debit_account_id"]),
            "creditAccountId": str(row["credit_account_id"]),
            "pendingId": str(row["pending_id"]) if row["pending_id"] else None})


async def _journal(session: AsyncSession, row: Transfer) -> None:
    await ledger.append_many(
        session, [_journal_entry({name: getattr(row, name) for name in _JOURNALED})])


async def _insert(session: AsyncSession, row: Transfer) -> Transfer | None:
    """Insert in a savepoint; None when the reference was taken meanwhile."""
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        discard(session, row)
        return None
    return row


async def transfer(session: AsyncSession, *, debit: Account, credit: Account, amount: int,
                   code: str, reference: str, pending: bool = False,
                   expires_at: datetime | None = None, new_reference: bool = False) -> Transfer:
    """`new_reference=True`: the caller guarantees no transfer can have this reference yet (it
    embeds an id minted in this transaction), so neither the replay lookup nor the savepoint
    around the insert is needed - three round trips fewer on the hot path of a withdrawal."""
    _check_reference(reference)
    if not code or len(code) > MAX_CODE:
        raise InvalidTransferCode(f"A code has 1 to {MAX_CODE} characters")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT:
        raise InvalidAmount("The amount must be a positive integer of minor units")
    if debit.id == credit.id:
        raise SameAccount("A transfer needs two different accounts")
    if debit.currency != credit.currency:
        raise CurrencyMismatch(f"{debit.currency} and {credit.currency} accounts")
    if expires_at is not None and not pending:
        raise InvalidExpiry("Only a pending transfer can expire")
    kind = TransferKind.PENDING if pending else TransferKind.SINGLE
    if not pending:  # a posted movement is journalled: the journal's lock before the accounts
        await ledger.lock_for_append(session)
    locked = await _lock(session, debit.id, credit.id)
    # Looked up under the locks only (one round trip: a replay is rare, a new transfer is the
    # common case): a concurrent transfer with this reference has committed by now.
    if not new_reference and (first := await _by_reference(session, reference)) is not None:
        return _same(first, debit, credit, amount, code, kind)
    d, c = locked[debit.id], locked[credit.id]
    _overdraft_check(d, amount)
    row = Transfer(id=new_id(), reference=reference, code=code, kind=kind,
                   debit_account_id=d.id, credit_account_id=c.id, amount=amount,
                   currency=d.currency, pending_id=None, expires_at=expires_at,
                   status=PendingStatus.PENDING if pending else PendingStatus.POSTED,
                   created_at=utcnow())
    if new_reference:
        session.add(row)  # flushed below with the sums (a clash would be a bug: an error)
    elif await _insert(session, row) is None:
        first = await _by_reference(session, reference)
        assert first is not None
        return _same(first, debit, credit, amount, code, kind)
    if pending:
        d.debits_pending += amount
        c.credits_pending += amount
    else:
        d.debits_posted += amount
        c.credits_posted += amount
        await _journal(session, row)
    await session.flush()
    return row


async def _resolve(session: AsyncSession, reference: str, resolution_reference: str,
                   kind: TransferKind, amount: int | None, *, replay: bool = True,
                   at: datetime | None = None) -> Transfer:
    _check_reference(resolution_reference)
    pending = await _by_reference(session, reference)
    if pending is None or pending.kind != TransferKind.PENDING:
        raise TransferNotFound(f"No pending transfer with reference {reference!r}")
    if kind == TransferKind.POST:
        # A post is journalled. Take the journal's lock before the accounts, in the order the
        # payroll takes them (`invoices.mark_paid` appends, then the post): locking the
        # accounts first and waiting for the journal deadlocked (40P01, a 500) against a
        # payroll run paying into the same wallet (test_payroll_concurrency, RELIABILITY 4).
        await ledger.lock_for_append(session)
    locked = await _lock(session, pending.debit_account_id, pending.credit_account_id)
    pending = await _by_reference(session, reference)  # fresh status, under the locks
    assert pending is not None
    post_amount = pending.amount if amount is None else amount
    if replay and (first := await _by_reference(session, resolution_reference)) is not None:
        if (first.pending_id, first.kind) != (pending.id, kind) or (
                kind == TransferKind.POST and first.amount != post_amount):
            raise ReferenceConflict(
                f"Reference {resolution_reference!r} was used for another transfer")
        return first
    if pending.status != PendingStatus.PENDING:
        raise PendingResolved(f"The pending transfer is {pending.status}")
    if kind == TransferKind.POST:
        if pending.expires_at is not None and pending.expires_at <= utcnow():
            raise PendingExpired("The hold expired before it was posted")
        if isinstance(amount, bool) or not 0 < post_amount <= pending.amount:
            raise AmountExceedsPending(
                f"Post between 1 and {pending.amount} minor units of this pending transfer")
    d, c = locked[pending.debit_account_id], locked[pending.credit_account_id]
    row = Transfer(id=new_id(), reference=resolution_reference, code=pending.code,
                   kind=kind, debit_account_id=d.id, credit_account_id=c.id,
                   amount=post_amount if kind == TransferKind.POST else pending.amount,
                   currency=pending.currency, pending_id=pending.id, expires_at=None,
                   status=PendingStatus.POSTED if kind == TransferKind.POST
                   else PendingStatus.VOIDED, created_at=at or utcnow())
    if await _insert(session, row) is None:
        raise PendingResolved("The pending transfer was resolved meanwhile")
    d.debits_pending -= pending.amount
    c.credits_pending -= pending.amount
    if kind == TransferKind.POST:
        d.debits_posted += post_amount
        c.credits_posted += post_amount
        pending.status = PendingStatus.POSTED
        await _journal(session, row)
    else:
        pending.status = PendingStatus.VOIDED
    await session.flush()
    return row


async def post_pending(session: AsyncSession, reference: str, *, amount: int | None = None,
                       post_reference: str | None = None,
                       at: datetime | None = None) -> Transfer:
    """Post `amount` (default: all) of the pending transfer `reference`; the rest goes back
    to the debit account. Replaying with the same post reference returns the first post.
    `at`: the post's time when the caller's business record carries it (a payroll item's
    `paid_at`: earnings read either, and both must fall in the same month); default now."""
    return await _resolve(session, reference, post_reference or f"{reference}:post",
                          TransferKind.POST, amount, at=at)


async def void_pending(session: AsyncSession, reference: str) -> Transfer:
    """Release the pending transfer `reference`. Replaying returns the first void."""
    return await _resolve(session, reference, f"{reference}:void", TransferKind.VOID, None)


async def expire_pending(session: AsyncSession, pending: Transfer) -> Transfer | None:
    """Void one expired hold (the expiry job); None when it was resolved meanwhile."""
    try:
        # No replay: a hold voided by hand meanwhile is not "expired".
        row = await _resolve(session, pending.reference, f"{pending.reference}:void",
                             TransferKind.VOID, None, replay=False)
    except PendingResolved:
        return None
    fresh = await _by_reference(session, pending.reference)
    if fresh is not None and fresh.status == PendingStatus.VOIDED:
        fresh.status = PendingStatus.EXPIRED
        await session.flush()
    return row


# --- many posts at once (the payroll) --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PostOrder:
    """One post of `post_many`: post the pending transfer `pending_reference` in full under
    `post_reference`. With `place` = (debit account id, credit account id, amount, code) the
    pending transfer does not exist yet and is placed first, in the same call (an invoice
    that was still awaiting funding): the debit account must cover it then."""

    pending_reference: str
    post_reference: str
    place: tuple[uuid.UUID, uuid.UUID, int, str] | None = None


_T = cast(Table, Transfer.__table__)
_A = cast(Table, Account.__table__)
_SUMS = ("debits_pending", "debits_posted", "credits_pending", "credits_posted")
# One statement per batch for the sums: each account's four deltas, applied in SQL to the
# locked row's current values (not written back from what this process read).
_ADD_SUMS = (update(_A).where(_A.c.id == bindparam("account_id"))
             .values(**{name: _A.c[name] + bindparam(f"d_{name}") for name in _SUMS},
                     updated_at=bindparam("now")))


async def post_many(session: AsyncSession, orders: Sequence[PostOrder], *,
                    at: datetime | None = None) -> dict[str, uuid.UUID]:
    """Post many pending transfers at once, with the guarantees of `post_pending` (and, for a
    `place` order, of `transfer(pending=True)` first): each post once under its reference,
    the accounts locked in id order, the overdraft rule, one `payment_event` journal entry
    per post, every currency summing to zero.

    Set-based: a few statements for the whole batch, not a few per order. An order that
    cannot be done here - its post reference is already used, its pending transfer is not
    pending or has expired (or, for `place`, exists already), its accounts are missing or of
    different currencies, or the debit account cannot cover a placement - is left out of the
    result untouched: the caller settles it one by one (`post_pending` / `transfer`), which
    replays, refuses or fails it with the usual error. Returns {post reference: post id}."""
    if not orders:
        return {}
    for order in orders:
        _check_reference(order.post_reference)
        _check_reference(order.pending_reference)
    pending_refs = [o.pending_reference for o in orders]
    post_refs = [o.post_reference for o in orders]
    # The accounts first (a transfer's accounts never change), then everything that decides
    # under their locks: statuses only change with those accounts locked.
    account_ids: set[uuid.UUID] = set()
    for order in orders:
        if order.place is not None:
            account_ids.update(order.place[:2])
    account_ids.update(*(await session.execute(
        select(_T.c.debit_account_id, _T.c.credit_account_id)
        .where(in_list(session, _T.c.reference, pending_refs),
               _T.c.kind == TransferKind.PENDING))).all())
    locked = {row.id: row for row in records(await session.execute(
        select(_A.c.id, _A.c.currency, _A.c.may_go_negative, *(_A.c[n] for n in _SUMS))
        .where(in_list(session, _A.c.id, sorted(account_ids))).order_by(_A.c.id)
        .with_for_update()))}
    used = {row.reference: row for row in records(await session.execute(
        select(_T.c.id, _T.c.reference, _T.c.kind, _T.c.status, _T.c.expires_at, _T.c.code,
               _T.c.debit_account_id, _T.c.credit_account_id, _T.c.amount, _T.c.currency)
        .where(in_list(session, _T.c.reference, pending_refs + post_refs))))}
    now = utcnow()
    # The rows' time: the caller's (`at`, a payroll's `paid_at`) or now; expiry is always now.
    stamp = at or now
    delta: dict[uuid.UUID, dict[str, int]] = defaultdict(lambda: dict.fromkeys(_SUMS, 0))
    placed: list[dict[str, Any]] = []
    posts: list[dict[str, Any]] = []
    resolved: list[uuid.UUID] = []
    seen: set[str] = set()
    for order in orders:
        if order.post_reference in used or order.post_reference in seen:
            continue  # posted already (or twice in this batch): the caller replays it
        if order.place is None:
            pending = used.get(order.pending_reference)
            if (pending is None or pending.kind != TransferKind.PENDING
                    or pending.status != PendingStatus.PENDING
                    or (pending.expires_at is not None and pending.expires_at <= now)
                    or pending.debit_account_id not in locked
                    or pending.credit_account_id not in locked):
                continue
            pending_id, amount, code = pending.id, pending.amount, pending.code
            debit, credit, currency = (pending.debit_account_id, pending.credit_account_id,
                                       pending.currency)
            delta[debit]["debits_pending"] -= amount
            delta[credit]["credits_pending"] -= amount
            resolved.append(pending_id)
        else:
            debit, credit, amount, code = order.place
            d, c = locked.get(debit), locked.get(credit)
            if (order.pending_reference in used or order.pending_reference in seen
                    or d is None or c is None or d.currency != c.currency or debit == credit
                    or isinstance(amount, bool) or not 0 < amount <= MAX_AMOUNT):
                continue
            # The overdraft rule against the locked sums plus what this batch already took.
            taken = delta[debit]
            if not d.may_go_negative and (
                    d.debits_pending + taken["debits_pending"] + d.debits_posted
                    + taken["debits_posted"] + amount > d.credits_posted
                    + taken["credits_posted"]):
                continue
            pending_id, currency = new_id(), d.currency
            placed.append({"id": pending_id, "reference": order.pending_reference,
                           "code": code, "kind": TransferKind.PENDING,
                           "debit_account_id": debit, "credit_account_id": credit,
                           "amount": amount, "currency": currency, "pending_id": None,
                           "status": PendingStatus.POSTED, "expires_at": None,
                           "created_at": stamp, "updated_at": stamp})
            seen.add(order.pending_reference)
        seen.add(order.post_reference)
        delta[debit]["debits_posted"] += amount
        delta[credit]["credits_posted"] += amount
        posts.append({"id": new_id(), "reference": order.post_reference, "code": code,
                      "kind": TransferKind.POST, "debit_account_id": debit,
                      "credit_account_id": credit, "amount": amount, "currency": currency,
                      "pending_id": pending_id, "status": PendingStatus.POSTED,
                      "expires_at": None, "created_at": stamp, "updated_at": stamp})
    if not posts:
        return {}
    await ledger.append_many(session, [_journal_entry(row) for row in posts])
    postgres = session.get_bind().dialect.name == "postgresql"
    for rows in (placed, posts):
        if rows and postgres:
            await session.execute(_INSERT_UNNEST, {
                **{f"a_{name}": [row[name] for row in rows] for name in _UNNESTED},
                "kind": rows[0]["kind"], "status": PendingStatus.POSTED, "now": stamp})
        elif rows:
            await session.execute(insert(_T), rows)
    if resolved:
        await session.execute(update(_T).where(in_list(session, _T.c.id, resolved))
                              .values(status=PendingStatus.POSTED, updated_at=stamp))
    changed = sorted(delta.items())
    if postgres:
        await session.execute(_ADD_SUMS_UNNEST, {
            "ids": [account_id for account_id, _ in changed], "now": stamp,
            **{f"d_{n}": [sums[n] for _, sums in changed] for n in _SUMS}})
    else:
        await session.execute(_ADD_SUMS, [
            {"account_id": account_id, "now": stamp, **{f"d_{n}": sums[n] for n in _SUMS}}
            for account_id, sums in changed])
    return {row["reference"]: row["id"] for row in posts}


# PostgreSQL: a batch's rows as one array per column, unnested by the server - one execution
# of one statement, where an executemany runs the statement once per row (issue 13 §4).
_UNNESTED: dict[str, Any] = {"id": Uuid(), "reference": String(), "code": String(),
             "debit_account_id": Uuid(), "credit_account_id": Uuid(), "amount": BigInteger(),
             "currency": String(), "pending_id": Uuid()}
_INSERT_UNNEST = text(
    "INSERT INTO payment_transfers (id, reference, code, kind, debit_account_id, "
    "credit_account_id, amount, currency, pending_id, status, expires_at, created_at, "
    "updated_at) SELECT v.id, v.reference, v.code, :kind, v.debit_account_id, "
    "v.credit_account_id, v.amount, v.currency, v.pending_id, :status, NULL, :now, :now "
    "FROM unnest(:a_id, :a_reference, :a_code, :a_debit_account_id, :a_credit_account_id, "
    ":a_amount, :a_currency, :a_pending_id) AS v(id, reference, code, debit_account_id, "
    "credit_account_id, amount, currency, pending_id)",
).bindparams(*(bindparam(f"a_{name}", type_=ARRAY(t)) for name, t in _UNNESTED.items()),
             bindparam("now", type_=_T.c.created_at.type))
_ADD_SUMS_UNNEST = text(
    "UPDATE payment_accounts AS a SET debits_pending = a.debits_pending + v.dp, "
    "debits_posted = a.debits_posted + v.dpo, credits_pending = a.credits_pending + v.cp, "
    "credits_posted = a.credits_posted + v.cpo, updated_at = :now "
    "FROM unnest(:ids, :d_debits_pending, :d_debits_posted, :d_credits_pending, "
    ":d_credits_posted) AS v(id, dp, dpo, cp, cpo) WHERE a.id = v.id",
).bindparams(bindparam("ids", type_=ARRAY(Uuid())),
             *(bindparam(f"d_{n}", type_=ARRAY(BigInteger())) for n in _SUMS),
             bindparam("now", type_=_A.c.updated_at.type))


# --- a hold written with its caller's other writes (the withdrawal request) -----------------



# The hold's two writes, parameters `hold_*` (see `hold_params`): the transfer, and one UPDATE
# adding the amount to the debit's and the credit's pending sums in SQL - applied to the
# locked rows' values, not written back from what was read.
_debit: BindParameter[uuid.UUID] = bindparam("hold_debit_account_id")
_credit: BindParameter[uuid.UUID] = bindparam("hold_credit_account_id")
HOLD_WRITES: tuple[Insert | Update, ...] = (
    named_insert(_T, "hold_"),
    update(_A).where(_A.c.id.in_([_debit, _credit])).values(
        debits_pending=_A.c.debits_pending + case((_A.c.id == _debit, bindparam("hold_amount")),
                                                  else_=0),
        credits_pending=_A.c.credits_pending + case(
            (_A.c.id == _credit, bindparam("hold_amount")), else_=0),
        updated_at=bindparam("hold_updated_at")),
)


def hold_params(debit: LockedSums, credit: LockedSums, *, amount: int, code: str,
                reference: str, now: datetime) -> dict[str, Any]:
    """`transfer(pending=True, new_reference=True)` for a caller that has locked both
    accounts itself (in id order, their sums read in that same statement) and sends the
    writes (`HOLD_WRITES`, with these parameters) with its own in one round trip: the same
    checks - the overdraft rule against the locked sums - before anything is written. The
    reference must be new (it embeds an id minted by the caller). Of `credit` only the id and
    currency are read: a credit never overdraws."""
    _check_reference(reference)
    if not code or len(code) > MAX_CODE:
        raise InvalidTransferCode(f"A code has 1 to {MAX_CODE} characters")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT:
        raise InvalidAmount("The amount must be a positive integer of minor units")
    if debit.id == credit.id:
        raise SameAccount("A transfer needs two different accounts")
    if debit.currency != credit.currency:
        raise CurrencyMismatch(f"{debit.currency} and {credit.currency} accounts")
    _overdraft_check(debit, amount)
    row = {"id": new_id(), "reference": reference, "code": code,
           "kind": TransferKind.PENDING, "debit_account_id": debit.id,
           "credit_account_id": credit.id, "amount": amount, "currency": debit.currency,
           "pending_id": None, "status": PendingStatus.PENDING, "expires_at": None,
           "created_at": now, "updated_at": now}
    return {f"hold_{name}": value for name, value in row.items()}
