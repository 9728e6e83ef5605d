"""Milestones of an active milestone contract (seed 002 §4 CONTRACT_MILESTONES).

`pending -> submitted -> approved | rejected`, and a rejected milestone is resubmitted
(`rejected -> submitted`). The contractor submits; the client approves (recording
`approvedBy`) or rejects with a reason. An approval emits `milestone.approved` for payments.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contracts import repository as repo
from mindlinks.contracts.models import ContractMilestone, ContractStatus, MilestoneStatus
from mindlinks.contracts.schemas import MilestoneReject, MilestoneSubmit
from mindlinks.contracts.service import get_for, require_role
from mindlinks.countries.service import from_minor
from mindlinks.platform import audit
from mindlinks.platform.db import utcnow
from mindlinks.platform.errors import InvalidTransition, NotFound
from mindlinks.platform.events import emit
from mindlinks.platform.security import Actor, Role
from mindlinks.platform.states import StateMachine

M = MilestoneStatus

MILESTONE_TRANSITIONS: dict[str, dict[str, str]] = {
    "submit": {M.PENDING: M.SUBMITTED, M.REJECTED: M.SUBMITTED},
    "approve": {M.SUBMITTED: M.APPROVED},
    "reject": {M.SUBMITTED: M.REJECTED},
}
MILESTONE_STATES = StateMachine.from_actions(MILESTONE_TRANSITIONS)


class MilestoneNotFound(NotFound):
    code = "milestone_not_found"


async def _load(
    session: AsyncSession, actor: Actor, contract_id: uuid.UUID, milestone_id: uuid.UUID,
    action: str,
) -> tuple[ContractMilestone, str, str]:
    contract = await get_for(session, actor, contract_id, for_update=True)
    milestone = await repo.milestone(session, contract.id, milestone_id)
    if milestone is None:
        raise MilestoneNotFound("No such milestone")
    if contract.status != ContractStatus.ACTIVE:
        raise InvalidTransition(f"Milestones of a {contract.status} contract cannot change")
    target = MILESTONE_STATES.after(milestone.status, action,
                                    f"A {milestone.status} milestone cannot be {action}ed")
    return milestone, target, contract.currency


async def submit(
    session: AsyncSession, actor: Actor, contract_id: uuid.UUID, milestone_id: uuid.UUID,
    data: MilestoneSubmit,
) -> tuple[ContractMilestone, str]:
    """The contractor submits (or resubmits a rejected) milestone of an active contract."""
    require_role(actor, Role.CONTRACTOR)
    milestone, target, currency = await _load(session, actor, contract_id, milestone_id,
                                              "submit")
    resubmitted = milestone.status == M.REJECTED
    milestone.status = target
    milestone.submission_note, milestone.attachments = data.note, list(data.attachments)
    milestone.submitted_at = utcnow()
    milestone.rejection_reason = None
    await session.flush()
    await audit.record(session, actor, "milestone.resubmitted" if resubmitted
                       else "milestone.submitted", "contract_milestone", milestone.id,
                       {"contractId": str(contract_id)})
    await emit(session, "milestone.submitted", {
        "milestoneId": milestone.id, "contractId": contract_id, "resubmitted": resubmitted,
    })
    return milestone, currency


async def approve(
    session: AsyncSession, actor: Actor, contract_id: uuid.UUID, milestone_id: uuid.UUID
) -> tuple[ContractMilestone, str]:
    """The client approves a submitted milestone; emits `milestone.approved`."""
    require_role(actor, Role.CLIENT)
    milestone, target, currency = await _load(session, actor, contract_id, milestone_id,
                                              "approve")
    contract = await get_for(session, actor, contract_id)
    milestone.status = target
    milestone.approved_by, milestone.approved_at = actor.user_id, utcnow()
    await session.flush()
    await audit.record(session, actor, "milestone.approved", "contract_milestone", milestone.id,
                       {"contractId": str(contract_id)})
    await emit(session, "milestone.approved", {
        "milestoneId": milestone.id, "contractId": contract_id,
        "contractorId": contract.contractor_id, "userId": contract.contractor_user_id,
        "clientId": contract.client_id, "approvedBy": actor.user_id,
        "amount": str(from_minor(milestone.amount_minor, currency)), "currency": currency,
        "amountMinor": milestone.amount_minor,
    })
    return milestone, currency


async def reject(
    session: AsyncSession, actor: Actor, contract_id: uuid.UUID, milestone_id: uuid.UUID,
    data: MilestoneReject,
) -> tuple[ContractMilestone, str]:
    """The client rejects a submitted milestone with a reason (the contractor may resubmit)."""
    require_role(actor, Role.CLIENT)
    milestone, target, currency = await _load(session, actor, contract_id, milestone_id,
                                              "reject")
    milestone.status = target
    milestone.rejection_reason, milestone.rejected_at = data.reason, utcnow()
    await session.flush()
    await audit.record(session, actor, "milestone.rejected", "contract_milestone", milestone.id,
                       {"contractId": str(contract_id)})
    await emit(session, "milestone.rejected", {
        "milestoneId": milestone.id, "contractId": contract_id, "reason": data.reason,
    })
    return milestone, currency
