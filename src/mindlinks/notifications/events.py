"""Subscribers: which event notifies whom (seed 000's EventBridge table, plus the security
notices). The payload contract of each event is in docs/events.md.

Recipients: `userId` is the contractor's user account; `clientUserId` the client company's
user account. A subscriber skips a recipient it cannot resolve (unknown or inactive account)
rather than failing the delivery forever. Each subscriber is idempotent: `notify` creates at
most one notification per (event, recipient) and one delivery per (event, recipient, channel).
"""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.notifications import recipients, service
from mindlinks.notifications.catalogue import KINDS, variables_from_payload
from mindlinks.notifications.delivery import Notifier
from mindlinks.platform.events import Event, subscriber

log = structlog.get_logger("mindlinks.notifications")

# Payload keys copied into the notification's `data` (ids and amounts only).
DATA_KEYS = ("contractorId", "clientId", "contractId", "timesheetId", "paymentId", "invoiceId",
             "withdrawalId", "amount", "currency", "hours", "kycStatus")


async def _send(
    session: AsyncSession, event: Event, kind_type: str, user_id: uuid.UUID | None
) -> None:
    recipient = await recipients.resolve(session, user_id)
    if recipient is None:
        log.warning("notification_recipient_unknown", event_name=event.name, kind=kind_type)
        return
    kind = KINDS[kind_type]
    await service.notify(
        session, Notifier.of(session), recipient, kind_type,
        variables_from_payload(kind, event.payload),
        data={k: event.payload[k] for k in DATA_KEYS if k in event.payload},
        event_id=event.id, occurred_at=event.occurred_at,
    )


def _user(event: Event) -> uuid.UUID | None:
    """`userId`: the contractor (or, for auth events, the user) concerned."""
    return recipients.as_uuid(event.payload.get("userId"))


def _client(event: Event) -> uuid.UUID | None:
    return recipients.as_uuid(event.payload.get("clientUserId"))


@subscriber("contractor.profile.updated", name="notifications.contractor_profile_updated")
async def on_profile_updated(session: AsyncSession, event: Event) -> None:
    await _send(session, event, "profile_updated", _user(event))


@subscriber("contractor.kyc.completed", name="notifications.contractor_kyc_completed")
async def on_kyc_completed(session: AsyncSession, event: Event) -> None:
    await _send(session, event, "kyc_completed", _user(event))


@subscriber("client.company.claim_contested", name="notifications.company_claim_contested")
async def on_company_claim_contested(session: AsyncSession, event: Event) -> None:
    # The earlier claimant of a registry number hears that another account claimed it.
    await _send(session, event, "company_claim_contested", _client(event))


@subscriber("contract.ready_for_signature", name="notifications.contract_ready_for_signature")
async def on_contract_ready(session: AsyncSession, event: Event) -> None:
    await _send(session, event, "contract_ready_to_sign", _user(event))


@subscriber("contract.signed", name="notifications.contract_signed")
async def on_contract_signed(session: AsyncSession, event: Event) -> None:
    # The other party hears about a signature: the client when the contractor signed, the
    # contractor when the client did.
    if event.payload.get("signedBy") == "client":
        await _send(session, event, "contract_signed", _user(event))
    else:
        await _send(session, event, "contract_signed", _client(event))


@subscriber("timesheet.submitted", name="notifications.timesheet_submitted")
async def on_timesheet_submitted(session: AsyncSession, event: Event) -> None:
    await _send(session, event, "timesheet_submitted", _client(event))


@subscriber("timesheet.approved", name="notifications.timesheet_approved")
async def on_timesheet_approved(session: AsyncSession, event: Event) -> None:
    await _send(session, event, "timesheet_approved", _user(event))


@subscriber("timesheet.rejected", name="notifications.timesheet_rejected")
async def on_timesheet_rejected(session: AsyncSession, event: Event) -> None:
    await _send(session, event, "timesheet_rejected", _user(event))


@subscriber("timesheet.reminder", name="notifications.timesheet_reminder")
async def on_timesheet_reminder(session: AsyncSession, event: Event) -> None:
    await _send(session, event, "timesheet_reminder", _user(event))


@subscriber("payment.received", name="notifications.payment_received")
async def on_payment_received(session: AsyncSession, event: Event) -> None:
    await _send(session, event, "payment_received", _user(event))


@subscriber("payment.funding_required", name="notifications.invoice_awaiting_funding")
async def on_funding_required(session: AsyncSession, event: Event) -> None:
    # The client's escrow does not cover an issued invoice (payments/holds.py).
    await _send(session, event, "invoice_awaiting_funding", _client(event))


@subscriber("withdrawal.requested", name="notifications.withdrawal_requested")
async def on_withdrawal_requested(session: AsyncSession, event: Event) -> None:
    # A payout to an account never paid before is a security notice (cannot be switched off).
    kind = "payout_new_account" if event.payload.get("newPayoutAccount") else (
        "withdrawal_requested")
    await _send(session, event, kind, _user(event))


@subscriber("withdrawal.completed", name="notifications.withdrawal_completed")
async def on_withdrawal_completed(session: AsyncSession, event: Event) -> None:
    await _send(session, event, "withdrawal_completed", _user(event))


@subscriber("withdrawal.failed", name="notifications.withdrawal_failed")
async def on_withdrawal_failed(session: AsyncSession, event: Event) -> None:
    await _send(session, event, "withdrawal_failed", _user(event))


@subscriber("withdrawal.reversed", name="notifications.withdrawal_reversed")
async def on_withdrawal_reversed(session: AsyncSession, event: Event) -> None:
    # Paid, then returned by the bank: the money is back in the wallet (payments/withdrawals).
    await _send(session, event, "withdrawal_reversed", _user(event))


@subscriber("invoice.issued", name="notifications.invoice_issued")
async def on_invoice_issued(session: AsyncSession, event: Event) -> None:
    # The client pays it: its company's user is told (the contractor issued nothing by hand,
    # invoices are generated, and sees it in the list).
    await _send(session, event, "invoice_issued", _client(event))


@subscriber("invoice.overdue", name="notifications.invoice_overdue")
async def on_invoice_overdue(session: AsyncSession, event: Event) -> None:
    # The client owes the money: the client company's user is reminded (once per invoice:
    # the invoices job emits `invoice.overdue` once).
    await _send(session, event, "invoice_overdue", _client(event))


# Security notices. auth does not emit these events yet; the contract is in docs/events.md.


@subscriber("auth.password.reset", name="notifications.auth_password_reset")
async def on_password_reset(session: AsyncSession, event: Event) -> None:
    await _send(session, event, "password_reset", _user(event))


@subscriber("auth.login.new_device", name="notifications.auth_login_new_device")
async def on_new_login(session: AsyncSession, event: Event) -> None:
    await _send(session, event, "new_login", _user(event))


@subscriber("auth.mfa.changed", name="notifications.auth_mfa_changed")
async def on_mfa_changed(session: AsyncSession, event: Event) -> None:
    await _send(session, event, "mfa_changed", _user(event))
