"""What the invoices domain needs to know about contracts, as plain values (no ORM rows leave
the domain): the payment periods that are due, and the parties and terms of a contract.

Re-exported by `service`; invoices import them from there.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contracts.models import Contract, ContractMilestone, ContractPayment, ContractStatus

# A period that was due while the contract ran is owed even after it completed or was
# terminated (termination already removed the periods after its effective date).
_BILLABLE = (ContractStatus.ACTIVE, ContractStatus.COMPLETED, ContractStatus.TERMINATED)


@dataclass(frozen=True, slots=True)
class BillingContract:
    contract_id: uuid.UUID
    type: str
    title: str
    client_id: uuid.UUID
    client_user_id: uuid.UUID
    contractor_id: uuid.UUID
    contractor_user_id: uuid.UUID
    currency: str
    rate_minor: int


@dataclass(frozen=True, slots=True)
class DuePeriod:
    """One `contract_payment_schedule` row and the days it covers (`period_start` is the day
    after the previous row's due date, or the contract's start)."""

    schedule_id: uuid.UUID
    contract: BillingContract
    period_start: date
    period_end: date  # = the row's due date
    amount_minor: int | None  # fixed: the rate per period; hourly: None


@dataclass(frozen=True, slots=True)
class BillingMilestone:
    milestone_id: uuid.UUID
    contract: BillingContract
    title: str
    amount_minor: int
    status: str
    approved_on: date | None


def _billing(contract: Contract) -> BillingContract:
    return BillingContract(
        contract_id=contract.id, type=contract.type, title=contract.title,
        client_id=contract.client_id, client_user_id=contract.client_user_id,
        contractor_id=contract.contractor_id, contractor_user_id=contract.contractor_user_id,
        currency=contract.currency, rate_minor=contract.rate_minor,
    )


async def due_periods(
    session: AsyncSession, until: date, types: tuple[str, ...] = ("fixed", "hourly")
) -> list[DuePeriod]:
    """Every schedule row due on or before `until` of a billable contract of `types`, oldest
    first per contract."""
    rows = (await session.execute(
        select(ContractPayment, Contract)
        .join(Contract, Contract.id == ContractPayment.contract_id)
        .where(Contract.status.in_(_BILLABLE), Contract.type.in_(types),
               ContractPayment.due_date <= until)
        .order_by(ContractPayment.contract_id, ContractPayment.due_date)
    )).all()
    out: list[DuePeriod] = []
    previous: dict[uuid.UUID, date] = {}
    for payment, contract in rows:
        start = previous.get(contract.id)
        start = start + timedelta(days=1) if start else contract.start_date
        previous[contract.id] = payment.due_date
        out.append(DuePeriod(payment.id, _billing(contract), start, payment.due_date,
                             payment.amount_minor))
    return out


async def billing_contract(session: AsyncSession, contract_id: uuid.UUID) -> BillingContract | None:
    contract = await session.get(Contract, contract_id)
    return _billing(contract) if contract is not None else None


async def billing_milestone(
    session: AsyncSession, milestone_id: uuid.UUID
) -> BillingMilestone | None:
    row = (await session.execute(
        select(ContractMilestone, Contract)
        .join(Contract, Contract.id == ContractMilestone.contract_id)
        .where(ContractMilestone.id == milestone_id)
    )).first()
    if row is None:
        return None
    milestone, contract = row
    return BillingMilestone(
        milestone_id=milestone.id, contract=_billing(contract), title=milestone.title,
        amount_minor=milestone.amount_minor, status=milestone.status,
        approved_on=milestone.approved_at.date() if milestone.approved_at else None,
    )
