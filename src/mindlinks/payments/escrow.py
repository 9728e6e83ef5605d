"""Client escrow and funding: one escrow account per client company and currency; deposits
through the payments provider, whose money arrives only through its signed webhook
(`payments/webhooks.py`).

Definitions (docs/payments.md): `balance` = posted credits - posted debits; `pendingPayments` =
pending debits (holds for issued invoices); `availableBalance` = balance - pendingPayments.
"""

from __future__ import annotations

import uuid

from babel.numbers import is_currency
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.clients import service as clients
from mindlinks.payments import book
from mindlinks.payments import repository as repo
from mindlinks.payments.models import Deposit, DepositStatus, Purpose, Transfer
from mindlinks.payments.providers import PaymentsProvider
from mindlinks.payments.schemas import (
    BankInstructions,
    DepositCreate,
    DepositOut,
    Escrow,
    EscrowBalance,
    EscrowTransaction,
)
from mindlinks.platform import audit
from mindlinks.platform.api import Page, PageParams
from mindlinks.platform.errors import Conflict, NotFound, ValidationFailed
from mindlinks.platform.money import from_minor, to_minor
from mindlinks.platform.security import Actor
from mindlinks.settings import get_settings


class AmountOutOfRange(ValidationFailed):
    code, title = "amount_out_of_range", "Amount out of range"


class DepositConflict(Conflict):
    code, title = "deposit_conflict", "Deposit conflict"


class DepositNotFound(NotFound):
    code = "deposit_not_found"


class UnsupportedCurrency(ValidationFailed):
    code, title = "unsupported_currency", "Unsupported currency"


async def escrow_account(session: AsyncSession, client_id: uuid.UUID,
                         currency: str) -> book.Account:
    return await book.account(session, "client", client_id, Purpose.CLIENT_ESCROW, currency)


async def _company_id(session: AsyncSession, actor: Actor) -> uuid.UUID:
    return (await clients.own_company(session, actor)).id


def _transaction(row: Transfer, account_ids: set[uuid.UUID]) -> EscrowTransaction:
    return EscrowTransaction(
        id=row.id, code=row.code, kind=row.kind, reference=row.reference,
        direction="credit" if row.credit_account_id in account_ids else "debit",
        amount=from_minor(row.amount, row.currency), currency=row.currency,
        status=row.status, created_at=row.created_at)


async def escrow(session: AsyncSession, actor: Actor, params: PageParams) -> Escrow:
    client_id = await _company_id(session, actor)
    accounts = await repo.escrow_accounts(session, client_id)
    balances = []
    for a in accounts:
        posted = a.credits_posted - a.debits_posted
        balances.append(EscrowBalance(
            currency=a.currency, balance=from_minor(posted, a.currency),
            pending_payments=from_minor(a.debits_pending, a.currency),
            available_balance=from_minor(posted - a.debits_pending, a.currency)))
    ids = [a.id for a in accounts]
    rows, total = await repo.transfers_page(session, ids, offset=params.offset,
                                            limit=params.limit)
    data = [_transaction(r, set(ids)) for r in rows]
    return Escrow(balances=balances,
                  transactions=Page[EscrowTransaction].build(data, total, params))


async def transaction(session: AsyncSession, actor: Actor,
                      transfer_id: uuid.UUID) -> EscrowTransaction:
    client_id = await _company_id(session, actor)
    ids = [a.id for a in await repo.escrow_accounts(session, client_id)]
    row = await repo.transfer_of(session, ids, transfer_id)
    if row is None:
        raise book.TransferNotFound("No such transaction")
    return _transaction(row, set(ids))


def deposit_out(row: Deposit, *, client_secret: str | None = None,
                hosted_url: str | None = None,
                instructions: dict[str, str] | None = None) -> DepositOut:
    return DepositOut(
        id=row.id, amount=from_minor(row.amount, row.currency), currency=row.currency,
        method=row.method, status=row.status, provider=row.provider,
        payment_intent_id=row.provider_ref, client_secret=client_secret,
        hosted_url=hosted_url, bank_reference=row.bank_reference,
        bank_instructions=BankInstructions.model_validate(instructions)
        if instructions else None, created_at=row.created_at)


async def create_deposit(session: AsyncSession, actor: Actor, provider: PaymentsProvider,
                         body: DepositCreate, idempotency_key: str) -> DepositOut:
    """Ask the provider for a PaymentIntent and record the deposit (`requires_payment`).
    Nothing is credited here: the escrow grows only when the provider's signed webhook says
    the payment succeeded. The provider call carries the request's Idempotency-Key (scoped by
    the user), so a retried request gets the same intent."""
    client_id = await _company_id(session, actor)
    if not is_currency(body.currency):  # CLDR's list of ISO 4217 codes
        raise UnsupportedCurrency(f"{body.currency} is not a currency")
    amount = to_minor(body.amount, body.currency)
    limit = get_settings().payments_deposit_max_minor
    if not 0 < amount <= limit:
        raise AmountOutOfRange(f"A deposit is at most {from_minor(limit, body.currency)} "
                               f"{body.currency}")
    await escrow_account(session, client_id, body.currency)
    intent = await provider.create_deposit(
        amount=amount, currency=body.currency, method=body.method,
        idempotency_key=f"deposit:{actor.user_id}:{idempotency_key}",
        metadata={"clientId": str(client_id)})
    known = await repo.deposit_by_ref(session, provider.name, intent.provider_ref)
    if known is not None:  # a retry the provider answered with the intent we already hold
        if (known.client_id, known.amount, known.currency) != (client_id, amount,
                                                                body.currency):
            raise DepositConflict("The provider returned a payment intent of another deposit")
        return deposit_out(known, client_secret=intent.client_secret,
                           hosted_url=intent.hosted_url,
                           instructions=intent.bank_instructions or None)
    row = Deposit(id=uuid.uuid4(), client_id=client_id, requested_by=actor.user_id,
                  amount=amount, currency=body.currency, method=body.method,
                  provider=provider.name, provider_ref=intent.provider_ref,
                  status=DepositStatus.REQUIRES_PAYMENT, bank_reference=intent.bank_reference)
    session.add(row)
    await session.flush()
    await audit.record(session, actor, "payments.deposit.created", "payment_deposit", row.id,
                       {"amountMinor": amount, "currency": body.currency,
                        "method": body.method})
    return deposit_out(row, client_secret=intent.client_secret, hosted_url=intent.hosted_url,
                       instructions=intent.bank_instructions or None)


async def deposit(session: AsyncSession, actor: Actor, deposit_id: uuid.UUID) -> DepositOut:
    row = await repo.deposit_of(session, await _company_id(session, actor), deposit_id)
    if row is None:
        raise DepositNotFound("No such deposit")
    return deposit_out(row)
