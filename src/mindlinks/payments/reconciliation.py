"""Reconciliation: the book against the provider's own records, one UTC day at a time.

The book's side is every posted transfer that touches a `processor_clearing` account (the
"world": money that entered or left through the provider). Debiting clearing is money **in**
(a deposit, a payout that came back); crediting it is money **out** (a payout). The provider's
side comes from a `ProviderRecords` implementation: the sandbox's own store
(`payment_sandbox_records`) or Stripe's balance transactions.

Both sides are matched by our book reference (Stripe: derived from the PaymentIntent of the
charge, or the `reference` metadata of a payout/transfer). Each difference raises one system
alert (`platform/alerts.py`), keyed by provider, kind and reference, so re-running a day - or
the neighbouring day, which sees the same item - raises nothing new:

- `missing_at_provider` - the book moved money the provider never reports;
- `missing_in_book` - the provider moved money the book does not have (or a second record for
  one reference: `duplicate_at_provider`);
- `amount_mismatch`, `currency_mismatch`, `direction_mismatch` - both have it, differently.

A movement near midnight may be on one side on day D and on the other on D+1, so both sides
are read over [D-1, D+2) and an item belongs to day D when either side has it on D.
Payouts (withdrawals): the book moves `withdrawal:{id}:payout` out of clearing when the payout
is paid and `withdrawal:{id}:reversal` back when it fails after paid; the sandbox payout store
and Stripe's Connect transfers are read with the same references.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol

import stripe
import structlog
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.payments import payouts
from mindlinks.payments.models import Account, Purpose, SandboxRecord, Transfer, TransferKind
from mindlinks.payments.providers import ProviderUnavailable
from mindlinks.platform import alerts
from mindlinks.platform.db import utcnow
from mindlinks.platform.errors import ValidationFailed
from mindlinks.settings import Settings

log = structlog.get_logger("mindlinks.payments.reconciliation")
SOURCE = "payments.reconciliation"
Direction = Literal["in", "out"]
# What the provider's record kinds mean for the clearing account.
IN_KINDS = frozenset({"deposit", "payout_reversal"})
OUT_KINDS = frozenset({"payout", "refund"})
PAYOUT_KINDS = frozenset({"payout", "payout_reversal"})
GRACE = timedelta(days=1)


class FutureDay(ValidationFailed):
    code, title = "reconciliation_day_in_future", "That day has not begun"


@dataclass(frozen=True, slots=True)
class ProviderRecord:
    """What the provider says moved: its id, our kind, a positive amount in minor units, the
    currency, our book reference when the record names one, and when it happened."""

    id: str
    kind: str
    amount_minor: int
    currency: str
    reference: str | None
    occurred_at: datetime

    @property
    def direction(self) -> Direction:
        return "in" if self.kind in IN_KINDS else "out"


@dataclass(frozen=True, slots=True)
class BookRecord:
    transfer_id: uuid.UUID
    reference: str
    code: str
    direction: Direction
    amount_minor: int
    currency: str
    occurred_at: datetime


DifferenceKind = Literal["missing_at_provider", "missing_in_book", "duplicate_at_provider",
                         "amount_mismatch", "currency_mismatch", "direction_mismatch"]


@dataclass(frozen=True, slots=True)
class Difference:
    kind: DifferenceKind
    reference: str
    book: BookRecord | None
    provider: ProviderRecord | None

    def details(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "reference": self.reference}
        if self.book is not None:
            out["book"] = {"transferId": str(self.book.transfer_id), "code": self.book.code,
                           "direction": self.book.direction,
                           "amountMinor": self.book.amount_minor,
                           "currency": self.book.currency,
                           "at": self.book.occurred_at.isoformat()}
        if self.provider is not None:
            out["provider"] = {"id": self.provider.id, "kind": self.provider.kind,
                               "direction": self.provider.direction,
                               "amountMinor": self.provider.amount_minor,
                               "currency": self.provider.currency,
                               "at": self.provider.occurred_at.isoformat()}
        return out


@dataclass(slots=True)
class Report:
    day: date
    provider: str
    book_movements: int = 0
    provider_movements: int = 0
    differences: list[Difference] = field(default_factory=list)
    alerts_raised: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "provider": self.provider,
                "bookMovements": self.book_movements,
                "providerMovements": self.provider_movements,
                "differences": [d.details() for d in self.differences],
                "alertsRaised": self.alerts_raised}


class ProviderRecords(Protocol):
    """The provider's account of what moved between `start` (inclusive) and `end`."""

    name: str

    async def records(self, session: AsyncSession, start: datetime,
                      end: datetime) -> list[ProviderRecord]: ...


# --- the sandbox's own store ----------------------------------------------------------------


class SandboxRecords:
    """Deposits from the sandbox's table; payouts from the sandbox payout provider's own store
    (`payments/payouts.py`, files outside our database): the one installed on the session, else
    the store under `payouts_root` (the CLI and jobs, with nothing installed)."""

    name = "sandbox"

    def __init__(self, payouts_root: Path | None = None) -> None:
        self._payouts_root = payouts_root

    def _payout_store(self, session: AsyncSession) -> payouts.SandboxPayouts | None:
        installed = payouts.installed(session)
        if isinstance(installed, payouts.SandboxPayouts):
            return installed
        if self._payouts_root is not None:
            return payouts.SandboxPayouts(self._payouts_root, secret="")  # reads only
        return None

    async def records(self, session: AsyncSession, start: datetime,
                      end: datetime) -> list[ProviderRecord]:
        rows = (await session.scalars(
            select(SandboxRecord).where(SandboxRecord.occurred_at >= start,
                                        SandboxRecord.occurred_at < end)
            .order_by(SandboxRecord.occurred_at, SandboxRecord.record_id))).all()
        out = [ProviderRecord(r.record_id, r.kind, r.amount, r.currency, r.reference,
                              r.occurred_at) for r in rows]
        if (store := self._payout_store(session)) is not None:
            out += await asyncio.to_thread(sandbox_payout_records, store, start, end)
        return sorted(out, key=lambda r: (r.occurred_at, r.id))


def sandbox_payout_records(store: payouts.SandboxPayouts, start: datetime,
                           end: datetime) -> list[ProviderRecord]:
    """A payout the bank paid is money out (`{key}:payout`); one that failed after it was paid
    came back (`{key}:reversal`). In transit or failed before paid: nothing moved yet, as in
    the book (the hold is still pending, or was voided)."""
    out = []
    for p in store.all():
        at = datetime.fromtimestamp(p.created, UTC)
        if not start <= at < end or "paid" not in p.history:
            continue
        out.append(ProviderRecord(p.payout_ref, "payout", p.amount, p.currency.upper(),
                                  f"{p.idempotency_key}:payout", at))
        if p.status == "failed":
            out.append(ProviderRecord(f"{p.payout_ref}:failure", "payout_reversal", p.amount,
                                      p.currency.upper(), f"{p.idempotency_key}:reversal", at))
    return out


# --- Stripe: balance transactions -------------------------------------------------------------

# Balance transaction `type` -> our kind. Fees, adjustments, and the rest are not movements of
# the clearing account in our book (Stripe's fee is its cost, not our customer's money).
STRIPE_KINDS = {"charge": "deposit", "payment": "deposit", "payout": "payout",
                "payout_cancel": "payout_reversal", "payout_failure": "payout_reversal",
                "transfer": "payout", "transfer_cancel": "payout_reversal",
                "transfer_refund": "payout_reversal", "refund": "refund",
                "payment_refund": "refund"}


def _get(obj: Any, name: str) -> Any:
    """A field of an expanded Stripe object or of a plain dict; None for an unexpanded id
    string or a missing field."""
    if isinstance(obj, stripe.StripeObject):
        obj = obj.to_dict()
    if isinstance(obj, Mapping):
        return obj.get(name)
    return None


def stripe_reference(kind: str, source: Any, provider_name: str = "stripe") -> str | None:
    """Our book reference for a balance transaction's (expanded) source."""
    metadata = _get(source, "metadata") or {}
    if (ref := _get(metadata, "reference")) is not None:
        return str(ref)
    if kind in PAYOUT_KINDS and (withdrawal := _get(metadata, "withdrawalId")) is not None:
        # The withdrawal's book references: `withdrawal:{id}:payout` when the money leaves
        # (the Connect transfer), `withdrawal:{id}:reversal` when it comes back.
        return f"withdrawal:{withdrawal}:{'payout' if kind == 'payout' else 'reversal'}"
    if kind == "deposit":
        intent = _get(source, "payment_intent")
        intent_id = intent if isinstance(intent, str) else _get(intent, "id")
        if intent_id:
            return f"deposit:{provider_name}:{intent_id}"
    return None


class StripeRecords:
    """`GET /v1/balance_transactions?created[gte]&created[lt]&expand[]=data.source`, every
    page. Amounts are Stripe's gross `amount` (signed; we keep its absolute value)."""

    name = "stripe"

    def __init__(self, client: stripe.StripeClient) -> None:
        self._client = client

    async def records(self, session: AsyncSession, start: datetime,
                      end: datetime) -> list[ProviderRecord]:
        params: Any = {"created": {"gte": int(start.timestamp()), "lt": int(end.timestamp())},
                       "limit": 100, "expand": ["data.source"]}
        out: list[ProviderRecord] = []
        try:
            page = await self._client.v1.balance_transactions.list_async(params=params)
            async for txn in page.auto_paging_iter():
                kind = STRIPE_KINDS.get(str(txn.type))
                if kind is None or not txn.amount:
                    continue
                out.append(ProviderRecord(
                    str(txn.id), kind, abs(int(txn.amount)), str(txn.currency).upper(),
                    stripe_reference(kind, txn.source),
                    datetime.fromtimestamp(int(txn.created), UTC)))
        except stripe.StripeError as exc:
            log.warning("stripe_error", error=type(exc).__name__)
            raise ProviderUnavailable("The payments provider could not be read") from exc
        return out


def records_provider(settings: Settings) -> ProviderRecords:
    if settings.payments_provider == "stripe":
        return StripeRecords(stripe.StripeClient(settings.stripe_api_key or ""))
    return SandboxRecords(settings.data_dir / "sandbox" / "payouts")


# --- the book's side --------------------------------------------------------------------------


async def book_records(session: AsyncSession, start: datetime,
                       end: datetime) -> list[BookRecord]:
    clearing = {a.id for a in (await session.scalars(select(Account).where(
        Account.purpose == Purpose.PROCESSOR_CLEARING))).all()}
    if not clearing:
        return []
    rows = (await session.scalars(select(Transfer).where(
        or_(Transfer.debit_account_id.in_(clearing), Transfer.credit_account_id.in_(clearing)),
        Transfer.kind.in_((TransferKind.SINGLE, TransferKind.POST)),
        Transfer.created_at >= start, Transfer.created_at < end)
        .order_by(Transfer.created_at, Transfer.id))).all()
    return [BookRecord(r.id, r.reference, r.code,
                       "in" if r.debit_account_id in clearing else "out", r.amount,
                       r.currency, r.created_at) for r in rows]


# --- comparison -------------------------------------------------------------------------------


def _on(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment < end


def compare(book: Iterable[BookRecord], provider: Iterable[ProviderRecord], start: datetime,
            end: datetime) -> list[Difference]:
    """The differences that belong to [start, end): a pure function of both sides (each read
    with a grace period around the day)."""
    by_ref: dict[str, BookRecord] = {b.reference: b for b in book}
    seen: set[str] = set()
    out: list[Difference] = []
    for p in provider:
        b = by_ref.get(p.reference) if p.reference is not None else None
        if not (_on(p.occurred_at, start, end) or (b and _on(b.occurred_at, start, end))):
            if p.reference is not None:
                seen.add(p.reference)
            continue
        ref = p.reference or p.id
        if b is None:
            out.append(Difference("missing_in_book", ref, None, p))
            continue
        if b.reference in seen:
            out.append(Difference("duplicate_at_provider", f"{ref}#{p.id}", b, p))
            continue
        seen.add(b.reference)
        if p.currency != b.currency:
            out.append(Difference("currency_mismatch", ref, b, p))
        elif p.direction != b.direction:
            out.append(Difference("direction_mismatch", ref, b, p))
        elif p.amount_minor != b.amount_minor:
            out.append(Difference("amount_mismatch", ref, b, p))
    for b in by_ref.values():
        if b.reference not in seen and _on(b.occurred_at, start, end):
            out.append(Difference("missing_at_provider", b.reference, b, None))
    return out


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, UTC)
    return start, start + timedelta(days=1)


async def reconcile(session: AsyncSession, records: ProviderRecords, day: date) -> Report:
    """Compare one UTC day and raise an alert per difference (once: alerts are keyed).
    Reads only, apart from the alerts; safe to run again, late, or twice at once."""
    start, end = day_bounds(day)
    if start > utcnow():
        raise FutureDay(f"{day.isoformat()} has not begun")
    book = await book_records(session, start - GRACE, end + GRACE)
    theirs = await records.records(session, start - GRACE, end + GRACE)
    report = Report(day, records.name,
                    book_movements=sum(_on(b.occurred_at, start, end) for b in book),
                    provider_movements=sum(_on(p.occurred_at, start, end) for p in theirs))
    report.differences = compare(book, theirs, start, end)
    for diff in report.differences:
        raised = await alerts.raise_alert(
            session, source=SOURCE, kind=diff.kind,
            key=f"{SOURCE}:{records.name}:{diff.kind}:{diff.reference}",
            summary=f"{diff.kind.replace('_', ' ')}: {diff.reference} ({day.isoformat()})",
            details={"day": day.isoformat(), "providerName": records.name, **diff.details()})
        report.alerts_raised += raised is not None
    log.info("reconciled", day=day.isoformat(), provider=records.name,
             differences=len(report.differences), alerts=report.alerts_raised)
    return report


