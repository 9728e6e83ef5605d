"""Monthly statements of the contractor's wallet and the client's escrow, verifiable offline.

A statement covers one account (owner, purpose, currency) and one calendar month (UTC) of
**posted** movements - holds are not movements until posted, exactly as the journal records
them. Each line is one posted transfer and carries the `seq` of its `payment_event` journal
entry; the month a line belongs to is decided by that entry's `recordedAt` (the provable time),
so the verifier can check it. The statement carries the digest it was made against (the head,
or `digestSeq` - a digest the user kept), every line's entry and its RFC 6962 inclusion proof.

`opening` = the account's posted balance at the start of the month, `closing` = opening +
credits - debits of the month; each line shows the balance after it.

Only the caller's own account is ever read (the "me" routes resolve the owner from the token),
so another user's statement cannot be asked for.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.clients import service as clients
from mindlinks.contractors import service as contractors
from mindlinks.ledger import schemas as ledger_schemas
from mindlinks.ledger import service as ledger
from mindlinks.payments import wallet
from mindlinks.payments.models import Account, Purpose, Transfer, TransferKind
from mindlinks.payments.statement_schemas import (
    InclusionPath,
    StatementBody,
    StatementJournal,
    StatementLine,
    StatementOut,
    StatementType,
)
from mindlinks.platform.db import utcnow
from mindlinks.platform.errors import ValidationFailed
from mindlinks.platform.money import from_minor
from mindlinks.platform.security import Actor

MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
MAX_LINES = 5000
# A transfer and its journal entry are written by the same call microseconds apart; the window
# read around the month is this much wider so a transfer stamped 23:59:59.999 whose entry was
# recorded after midnight lands in the month its entry says.
MARGIN = timedelta(minutes=5)
POSTED = (TransferKind.SINGLE, TransferKind.POST)
DEFAULT_CURRENCY = "USD"


class InvalidMonth(ValidationFailed):
    code, title = "statement_month_invalid", "Invalid statement month"


class FutureMonth(ValidationFailed):
    code, title = "statement_month_in_future", "Statement month in the future"


class StatementTooLarge(ValidationFailed):
    code, title = "statement_too_large", "Statement too large"


class StatementDigestInvalid(ValidationFailed):
    code, title = "statement_digest_invalid", "Digest cannot prove this statement"


def month_bounds(month: str, now: datetime) -> tuple[datetime, datetime]:
    match = MONTH.match(month or "")
    if match is None:
        raise InvalidMonth("month is YYYY-MM, e.g. 2026-10")
    year, number = int(match[1]), int(match[2])
    if year < 2000:
        raise InvalidMonth("month is YYYY-MM from 2000-01")
    start = datetime(year, number, 1, tzinfo=UTC)
    if start > now:
        raise FutureMonth(f"{month} has not begun")
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
    return start, end


@dataclass(frozen=True, slots=True)
class Owner:
    type: StatementType
    owner_type: str
    owner_id: uuid.UUID
    purpose: str
    holder: str


async def contractor_owner(session: AsyncSession, actor: Actor) -> Owner:
    contractor_id = await wallet.contractor_id_of(session, actor)
    profile = await contractors.profile_by_user(session, actor.user_id)
    holder = (profile.name if profile is not None else None) or "Contractor"
    return Owner("contractor_wallet", "contractor", contractor_id, Purpose.CONTRACTOR_WALLET,
                 holder)


async def client_owner(session: AsyncSession, actor: Actor) -> Owner:
    company = await clients.own_company(session, actor)
    return Owner("client_escrow", "client", company.id, Purpose.CLIENT_ESCROW,
                 company.legal_name)


async def _account(session: AsyncSession, owner: Owner, currency: str | None) -> tuple[
        Account | None, str]:
    query = select(Account).where(Account.owner_type == owner.owner_type,
                                  Account.owner_id == owner.owner_id,
                                  Account.purpose == owner.purpose)
    if currency is not None:
        return await session.scalar(query.where(Account.currency == currency)), currency
    if owner.owner_type == "contractor":
        main = await wallet.main_currency(session, owner.owner_id)
        return await session.scalar(query.where(Account.currency == main)), main
    first = await session.scalar(query.order_by(Account.currency).limit(1))
    return first, first.currency if first is not None else DEFAULT_CURRENCY


def _signed(account_id: uuid.UUID) -> Any:
    return case((Transfer.credit_account_id == account_id, Transfer.amount),
                else_=-Transfer.amount)


async def _movements(session: AsyncSession, account_id: uuid.UUID, start: datetime,
                     end: datetime) -> tuple[int, list[tuple[Transfer, ledger.LedgerEntry]]]:
    touching = or_(Transfer.debit_account_id == account_id,
                   Transfer.credit_account_id == account_id)
    cutoff = start - MARGIN
    before = await session.scalar(select(func.coalesce(func.sum(_signed(account_id)), 0))
                                  .where(touching, Transfer.kind.in_(POSTED),
                                         Transfer.created_at < cutoff))
    window = (await session.scalars(
        select(Transfer).where(touching, Transfer.kind.in_(POSTED), Transfer.created_at >= cutoff,
                               Transfer.created_at < end + MARGIN)
        .order_by(Transfer.created_at, Transfer.id).limit(MAX_LINES + 1))).all()
    if len(window) > MAX_LINES:
        raise StatementTooLarge(f"A statement holds at most {MAX_LINES} movements")
    entries = await ledger.recorded_entries(session, "payment_transfer", [t.id for t in window],
                                            entry_type=ledger.EntryType.PAYMENT_EVENT)
    by_transfer = {e.entity_id: e for e in entries}
    opening = int(before or 0)
    lines = []
    for row in window:
        entry = by_transfer.get(str(row.id))
        if entry is None:
            raise ledger.JournalBroken(f"Posted transfer {row.id} has no journal entry")
        if entry.recorded_at < start:
            opening += row.amount if row.credit_account_id == account_id else -row.amount
        elif entry.recorded_at < end:
            lines.append((row, entry))
    lines.sort(key=lambda pair: pair[1].seq)
    return opening, lines


async def statement(session: AsyncSession, owner: Owner, month: str, *,
                    currency: str | None = None, digest_seq: int | None = None) -> StatementOut:
    """The owner's statement of `month`: opening, every posted movement with its journal seq,
    closing, and the journal material that proves each line against a digest."""
    now = utcnow()
    start, end = month_bounds(month, now)
    account, currency = await _account(session, owner, currency.upper() if currency else None)
    opening, pairs = (0, []) if account is None else await _movements(
        session, account.id, start, end)
    balance, credits, debits, lines = opening, 0, 0, []
    for row, entry in pairs:
        credit = row.credit_account_id == account.id  # type: ignore[union-attr]
        balance += row.amount if credit else -row.amount
        credits += row.amount if credit else 0
        debits += 0 if credit else row.amount
        lines.append(StatementLine(
            seq=entry.seq, transfer_id=row.id, recorded_at=entry.recorded_at, code=row.code,
            reference=row.reference, direction="credit" if credit else "debit",
            amount_minor=row.amount, amount=from_minor(row.amount, currency),
            balance_after_minor=balance, balance_after=from_minor(balance, currency)))
    seqs = [line.seq for line in lines]
    if digest_seq is not None and seqs and digest_seq < max(seqs):
        raise StatementDigestInvalid(
            f"Digest {digest_seq} predates this statement's last movement (entry {max(seqs)})")
    try:
        digest, paths = await ledger.inclusion_proofs(session, seqs, digest_seq)
    except ledger.JournalEntryNotFound as exc:
        raise StatementDigestInvalid(f"The journal has no digest at {digest_seq}") from exc
    body = StatementBody(
        type=owner.type, account_id=account.id if account else None, owner_id=owner.owner_id,
        holder=owner.holder, currency=currency, month=month, period_start=start,
        period_end=end, complete=end <= now, generated_at=now,
        opening_balance_minor=opening, closing_balance_minor=balance,
        total_credits_minor=credits, total_debits_minor=debits,
        opening_balance=from_minor(opening, currency),
        closing_balance=from_minor(balance, currency), lines=lines)
    journal = StatementJournal(
        digest=ledger_schemas.Digest.of(digest),
        entries=[ledger_schemas.Entry.of(entry) for _, entry in pairs],
        proofs=[InclusionPath(seq=s, leaf_index=s - 1, tree_size=digest.seq,
                              audit_path=[h.hex() for h in paths[s]]) for s in seqs])
    return StatementOut(statement=body, journal=journal)
