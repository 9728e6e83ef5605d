"""Bank accounts: several per contractor, one primary, verified by micro-deposits.

- Numbers are validated (IBAN mod-97, BIC format, US ABA checksum), stored encrypted
  (`platform/crypto.py`, the contractor's data key) and shown only as `****` + last 4.
- On creation (and when the primary account's numbers change) two random amounts of 1-99 minor
  units are sent by the `MicroDepositSender` after commit; the amounts are kept only encrypted.
  `verify` with the right pair -> `verified`; the third wrong pair -> `failed`.
- A holder name that does not match the contractor's legal name (ignoring case, accents,
  punctuation) flags the account `nameMismatch` for review; `payout_account` refuses it.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contractors import repository as repo
from mindlinks.contractors.identifiers import (
    AccountHolderRequired,
    AccountNumberRequired,
    CountryRequired,
    InvalidRoutingNumber,
    RoutingNumberRequired,
    check_aba,
    invalid,
    last4,
    masked,
    name_key,
    normalize_account_number,
    normalize_bic,
    normalize_iban,
)
from mindlinks.contractors.models import BankAccount, BankVerificationStatus, ContractorProfile
from mindlinks.contractors.profiles import legal_name_of, own_profile
from mindlinks.contractors.providers import MicroDepositSender
from mindlinks.contractors.schemas import BankAccount as BankAccountOut
from mindlinks.contractors.schemas import BankAccountCreate, BankDetails, BankDetailsPut
from mindlinks.countries import service as countries
from mindlinks.platform import audit
from mindlinks.platform.api import RowWith
from mindlinks.platform.crypto import seal, unseal
from mindlinks.platform.db import after_commit, utcnow
from mindlinks.platform.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from mindlinks.platform.events import emit
from mindlinks.platform.security import Actor
from mindlinks.platform.states import StateMachine

MAX_ATTEMPTS = 3


class BankAccountNotFound(NotFound):
    code = "bank_account_not_found"


class IncorrectAmounts(ValidationFailed):
    code, title = "incorrect_amounts", "The amounts do not match the deposits"


B = BankVerificationStatus
# New details restart verification (new micro-deposits) from whatever state the account was in.
BANK_ACCOUNT_STATES = StateMachine({
    B.PENDING: {B.PENDING, B.VERIFIED, B.FAILED},
    B.VERIFIED: {B.PENDING},
    B.FAILED: {B.PENDING},
})


class VerificationFailed(ValidationFailed):
    code, title = "verification_failed", "Bank account verification failed"


class BankAccountNotUsable(Conflict):
    code, title = "bank_account_not_verified", "Bank account not verified"


class BankAccountNameMismatch(BankAccountNotUsable):
    code, title = "bank_account_name_mismatch", "The account holder's name does not match"


@dataclass(frozen=True)
class _Numbers:
    country: str
    currency: str
    swift_code: str | None
    iban: str | None
    account_number: str | None
    routing_number: str | None


def _check_numbers(
    profile: ContractorProfile, *, country: str | None, currency: str, swift_code: str | None,
    iban: str | None, account_number: str | None, routing_number: str | None,
) -> _Numbers:
    country = (country or profile.country or "").upper()
    if not country:
        raise invalid("country", CountryRequired,
                      "Give the bank account's country (or set your profile country)")
    if not countries.is_iso_country(country):
        raise invalid("country", countries.UnknownCountry, "Not an ISO 3166-1 alpha-2 country code")
    currency = currency.upper()
    if not countries.is_iso_currency(currency):
        raise invalid("currency", countries.UnknownCurrency, "Not an ISO 4217 currency code")
    iban_n = normalize_iban(iban) if iban else None
    number = normalize_account_number(account_number) if account_number else None
    if not iban_n and not number:
        raise invalid("accountNumber", AccountNumberRequired,
                      "Give an IBAN or an account number")
    routing = None
    if country == "US":
        if not routing_number:
            raise invalid("routingNumber", RoutingNumberRequired,
                          "US accounts need an ABA routing number")
        if not number:
            raise invalid("accountNumber", AccountNumberRequired,
                          "US accounts need an account number")
        routing = check_aba(routing_number)
    elif routing_number:
        routing = re.sub(r"[\s-]", "", routing_number)
        if not re.fullmatch(r"[0-9A-Za-z]{3,20}", routing):
            raise invalid("routingNumber", InvalidRoutingNumber,
                          "A routing / sort code is 3 to 20 letters or digits")
    bic = normalize_bic(swift_code) if swift_code else None
    return _Numbers(country, currency, bic, iban_n, number, routing)


async def _store_numbers(
    session: AsyncSession, account: BankAccount, numbers: _Numbers, contractor_id: uuid.UUID
) -> None:
    account.country, account.currency = numbers.country, numbers.currency
    account.swift_code = numbers.swift_code
    for attr, value in (("account_number", numbers.account_number),
                        ("routing_number", numbers.routing_number), ("iban", numbers.iban)):
        await seal(session, account, f"{attr}_enc", value, subject_id=contractor_id)
        setattr(account, f"{attr}_last4", last4(value) if value else None)


def _name_mismatch(profile: ContractorProfile, holder: str) -> bool:
    legal = legal_name_of(profile)
    return legal is None or name_key(legal) != name_key(holder)


async def _start_verification(
    session: AsyncSession, account: BankAccount, sender: MicroDepositSender,
    contractor_id: uuid.UUID,
) -> None:
    amounts = (secrets.randbelow(99) + 1, secrets.randbelow(99) + 1)
    await seal(session, account, "micro_deposits_enc", f"{amounts[0]},{amounts[1]}",
               subject_id=contractor_id)
    account.status = BankVerificationStatus.PENDING
    account.verification_method = "micro-deposit"
    account.verification_attempts = 0
    account.verified_at = None
    account.micro_deposits_sent_at = utcnow()
    account_id, currency = account.id, account.currency

    async def _send() -> None:
        await sender.send(account_id, amounts, currency)

    after_commit(session, _send)


def account_out(account: BankAccount) -> BankAccountOut:
    return BankAccountOut.model_validate(RowWith(
        account,
        iban=masked(account.iban_last4),
        account_number=masked(account.account_number_last4),
        routing_number=masked(account.routing_number_last4),
        verification_attempts_left=(max(0, MAX_ATTEMPTS - account.verification_attempts)
                                    if account.status == BankVerificationStatus.PENDING else 0),
    ))


def details_out(account: BankAccount) -> BankDetails:
    return BankDetails(
        id=account.id, bank_name=account.bank_name,
        account_number=masked(account.account_number_last4 or account.iban_last4),
        routing_number=masked(account.routing_number_last4), currency=account.currency,
        status=account.status, created_at=account.created_at,
    )


async def _audit_and_emit(
    session: AsyncSession, actor: Actor, action: str, account: BankAccount
) -> None:
    details = {"bankAccountId": str(account.id), "last4": account.account_number_last4
               or account.iban_last4, "nameMismatch": account.name_mismatch,
               "status": account.status}
    await audit.record(session, actor, action, "contractor_bank_account", account.id, details)
    await emit(session, action, {"contractorId": account.contractor_id,
                                 "bankAccountId": account.id, "status": account.status,
                                 "nameMismatch": account.name_mismatch})


async def list_accounts(session: AsyncSession, actor: Actor) -> list[BankAccount]:
    profile = await own_profile(session, actor)
    return await repo.accounts(session, profile.id)


async def create_account(
    session: AsyncSession, actor: Actor, data: BankAccountCreate, sender: MicroDepositSender
) -> BankAccount:
    """Add an account (the first one becomes primary) and send its micro-deposits.
    Emits `contractor.bank_account.created`."""
    profile = await own_profile(session, actor, for_update=True)
    numbers = _check_numbers(profile, country=data.country, currency=data.currency,
                             swift_code=data.swift_code, iban=data.iban,
                             account_number=data.account_number,
                             routing_number=data.routing_number)
    has_primary = await repo.primary_account(session, profile.id) is not None
    account = BankAccount(
        id=uuid.uuid4(), contractor_id=profile.id,
        account_holder_name=data.account_holder_name.strip(), bank_name=data.bank_name.strip(),
        account_type=data.account_type, is_primary=not has_primary,
        name_mismatch=_name_mismatch(profile, data.account_holder_name),
        verification_attempts=0,
    )
    await _store_numbers(session, account, numbers, profile.id)
    await _start_verification(session, account, sender, profile.id)
    session.add(account)
    await session.flush()
    await _audit_and_emit(session, actor, "contractor.bank_account.created", account)
    return account


async def put_primary(
    session: AsyncSession, actor: Actor, data: BankDetailsPut, sender: MicroDepositSender
) -> BankAccount:
    """Seed 000's create-or-update of *the* bank details: the primary account is created, or
    its details replaced - which restarts verification with new micro-deposits."""
    profile = await own_profile(session, actor, for_update=True)
    holder = (data.account_holder_name or legal_name_of(profile) or "").strip()
    if not holder:
        raise invalid("accountHolderName", AccountHolderRequired,
                      "Give the account holder's name")
    numbers = _check_numbers(profile, country=data.country, currency=data.currency,
                             swift_code=data.swift_code, iban=data.iban,
                             account_number=data.account_number,
                             routing_number=data.routing_number)
    account = await repo.primary_account(session, profile.id)
    created = account is None
    if account is None:
        account = BankAccount(id=uuid.uuid4(), contractor_id=profile.id, is_primary=True,
                              verification_attempts=0)
        session.add(account)
    account.account_holder_name = holder
    account.bank_name = data.bank_name.strip()
    account.name_mismatch = _name_mismatch(profile, holder)
    await _store_numbers(session, account, numbers, profile.id)
    await _start_verification(session, account, sender, profile.id)
    await session.flush()
    action = "contractor.bank_account.created" if created else "contractor.bank_account.updated"
    await _audit_and_emit(session, actor, action, account)
    return account


async def primary(session: AsyncSession, actor: Actor) -> BankAccount:
    profile = await own_profile(session, actor)
    account = await repo.primary_account(session, profile.id)
    if account is None:
        raise BankAccountNotFound("No bank details yet")
    return account


async def _own_account(
    session: AsyncSession, actor: Actor, account_id: uuid.UUID, *, for_update: bool = False
) -> BankAccount:
    profile = await own_profile(session, actor, for_update=for_update)
    account = await repo.account(session, profile.id, account_id, for_update=for_update)
    if account is None:
        raise BankAccountNotFound("No such bank account")
    return account


async def verify(
    session: AsyncSession, actor: Actor, account_id: uuid.UUID, amounts: list[int]
) -> BankAccount:
    """Check the two micro-deposit amounts (order does not matter). Right -> `verified`
    (emits `contractor.bank_account.verified`); wrong -> 422 `incorrect_amounts` with the
    attempts left, and at the third wrong try the account is `failed` (422
    `verification_failed`). Only a `pending_verification` account can be verified (409)."""
    account = await _own_account(session, actor, account_id, for_update=True)
    BANK_ACCOUNT_STATES.check(account.status, B.VERIFIED,
                              f"The account is {account.status}, not pending verification")
    expected = await unseal(session, account, "micro_deposits_enc")
    assert expected is not None
    if sorted(int(x) for x in expected.split(",")) == sorted(amounts):
        account.status = BankVerificationStatus.VERIFIED
        account.verified_at = utcnow()
        account.micro_deposits_enc = None
        await session.flush()
        await _audit_and_emit(session, actor, "contractor.bank_account.verified", account)
        return account
    account.verification_attempts += 1
    left = MAX_ATTEMPTS - account.verification_attempts
    if left <= 0:
        account.status = BankVerificationStatus.FAILED
        account.micro_deposits_enc = None
        await session.flush()
        await _audit_and_emit(session, actor, "contractor.bank_account.verification_failed",
                              account)
        raise VerificationFailed("Three wrong attempts: this account can no longer be "
                                 "verified; add it again", persist=True)
    await session.flush()
    await audit.record(session, actor, "contractor.bank_account.verification_attempt",
                       "contractor_bank_account", account.id, {"attemptsLeft": left})
    raise IncorrectAmounts(f"The amounts are wrong; {left} attempt(s) left", persist=True,
                           errors=[{"field": "amounts", "message": f"{left} attempt(s) left",
                                    "code": "incorrect_amounts"}])


async def make_primary(session: AsyncSession, actor: Actor, account_id: uuid.UUID
                       ) -> BankAccount:
    """Make this account the primary one (payouts go there); the previous loses the flag.
    A failed account cannot be primary (409)."""
    account = await _own_account(session, actor, account_id, for_update=True)
    if account.status == BankVerificationStatus.FAILED:
        raise InvalidTransition("A failed account cannot become primary")
    for other in await repo.accounts(session, account.contractor_id):
        if other.id != account.id and other.is_primary:
            other.is_primary = False
    await session.flush()  # the old primary loses its flag first
    account.is_primary = True
    await session.flush()
    await _audit_and_emit(session, actor, "contractor.bank_account.primary_changed", account)
    return account


async def delete(session: AsyncSession, actor: Actor, account_id: uuid.UUID) -> None:
    """Remove an account (kept for the records of past payouts, shown nowhere). If it was
    primary, the oldest verified (else oldest) remaining account becomes primary."""
    account = await _own_account(session, actor, account_id, for_update=True)
    account.deleted_at = utcnow()
    was_primary, account.is_primary = account.is_primary, False
    # The ciphertexts are dropped: a removed account's numbers are not kept.
    for attr in ("account_number_enc", "routing_number_enc", "iban_enc", "micro_deposits_enc"):
        setattr(account, attr, None)
    await session.flush()
    if was_primary:
        rest = await repo.accounts(session, account.contractor_id)
        verified = [a for a in rest if a.status == BankVerificationStatus.VERIFIED]
        if candidates := verified or rest:
            candidates[0].is_primary = True
            await session.flush()
    await _audit_and_emit(session, actor, "contractor.bank_account.deleted", account)


# --- for payments -----------------------------------------------------------------------


@dataclass(frozen=True)
class PayoutAccount:
    """A verified account's details in clear, for the payout provider only: never log it."""

    id: uuid.UUID
    contractor_id: uuid.UUID
    account_holder_name: str
    bank_name: str
    country: str
    currency: str
    swift_code: str | None
    iban: str | None
    account_number: str | None
    routing_number: str | None
    last4: str | None = None  # of the IBAN or account number, shown as ****1234

    def __repr__(self) -> str:
        return f"PayoutAccount(id={self.id}, account={masked(self.last4)})"


async def payout_account(
    session: AsyncSession, contractor_id: uuid.UUID, account_id: uuid.UUID | None = None,
    *, reveal: bool = True,
) -> PayoutAccount:
    """The account a withdrawal may be paid to: `account_id` (or the primary) of this
    contractor, verified and without a name mismatch; else 409 `bank_account_not_verified`
    (404 if the contractor has no such account). With `reveal=False` the numbers stay sealed
    (None): a check that needs no decryption (the withdrawal request; the worker reveals)."""
    account = (await repo.account(session, contractor_id, account_id) if account_id
               else await repo.primary_account(session, contractor_id))
    checked = _payable(account, contractor_id)
    if not reveal:
        return checked
    return replace(
        checked,
        iban=await unseal(session, account, "iban_enc"),
        account_number=await unseal(session, account, "account_number_enc"),
        routing_number=await unseal(session, account, "routing_number_enc"),
    )


def _payable(account: Any, contractor_id: uuid.UUID) -> PayoutAccount:
    """The payout rules of `payout_account` on an account (an entity or a `payout_reads` row's
    stand-in): numbers sealed."""
    if account is None:
        raise BankAccountNotFound("No such bank account")
    if account.status != BankVerificationStatus.VERIFIED:
        raise BankAccountNotUsable("Withdrawals need a verified bank account")
    if account.name_mismatch:
        raise BankAccountNameMismatch("The account holder name is under review")
    return PayoutAccount(
        id=account.id, contractor_id=contractor_id,
        account_holder_name=account.account_holder_name, bank_name=account.bank_name,
        country=account.country, currency=account.currency, swift_code=account.swift_code,
        iban=None, account_number=None, routing_number=None,
        last4=account.account_number_last4 or account.iban_last4,
    )


_P = ContractorProfile.__table__.c
_B = BankAccount.__table__.c
# What `_payable` reads of an account; `payout_reads` names them `bank_<column>`.
_PAYOUT_BANK = ("id", "status", "name_mismatch", "account_holder_name", "bank_name", "country",
                "currency", "swift_code", "account_number_last4", "iban_last4")


def payout_reads(user_id: ColumnElement[Any], account_id: ColumnElement[Any]) -> Select[Any]:
    """Core, no I/O: the contractor profile of `user_id` (`contractor_id`, `kyc_status`,
    `country`) with its live bank account `account_id` LEFT JOINed (`bank_<column>`, NULL when
    it has no such account). One row, none without a profile. For a caller that reads this
    in its own statement (the withdrawal request: one round trip for all its checks), then
    applies the rules with `payout_account_of`."""
    bank = and_(_B.contractor_id == _P.id, _B.id == account_id, _B.deleted_at.is_(None))
    return (select(_P.id.label("contractor_id"), _P.kyc_status, _P.country,
                   *(_B[c].label(f"bank_{c}") for c in _PAYOUT_BANK))
            .select_from(ContractorProfile.__table__.outerjoin(BankAccount.__table__, bank))
            .where(_P.user_id == user_id))


def payout_account_of(row: Mapping[str, Any]) -> PayoutAccount:
    """`payout_account(..., reveal=False)` of a `payout_reads` row: the same rules, the same
    errors."""
    account = (None if row["bank_id"] is None
               else SimpleNamespace(**{c: row[f"bank_{c}"] for c in _PAYOUT_BANK}))
    return _payable(account, row["contractor_id"])
