"""The payout provider: the Protocol a withdrawal is paid out through, and the sandbox.

- `create_payout(request)` sends `request.amount` to the contractor's bank account and returns
  the provider's references. `request.idempotency_key` is `withdrawal:{id}`: the same key always
  returns the first payout, so a worker that dies after the call and retries never pays twice.
  A definitive refusal (a closed account, an unsupported currency) is `PayoutRefused`: the
  withdrawal fails and its hold is voided. Anything transient is `ProviderUnavailable` (the
  worker retries later with the same key).
- The outcome arrives later as Stripe-format events (`payout.paid`, `payout.failed`, ...) on the
  payments webhook route (`payments/webhooks.py` -> `withdrawals.apply_payout_event`), signed
  with the same secret as the deposits' events.

The sandbox keeps its payouts in files under `<data_dir>/sandbox/payouts/` - outside our
database on purpose: it stands for another company's system, so a worker transaction that
rolls back (or is killed) does not undo a payout it already made, exactly as with Stripe.
One file per idempotency key, created atomically (a link), so two processes cannot make two
payouts for one key. `mindlinks payouts sandbox <withdrawalId> complete|fail|fail-after-paid`
(payouts_cli) plays the bank's side and delivers the signed events.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import secrets
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.platform.db import Database

SESSION_KEY = "payments.payouts"


class PayoutRefused(Exception):
    """The provider will never make this payout (not worth retrying)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PayoutRequest:
    withdrawal_id: uuid.UUID
    idempotency_key: str
    amount: int  # minor units: the net amount the bank account receives
    currency: str
    contractor_id: uuid.UUID
    bank_account_id: uuid.UUID
    account_holder_name: str
    country: str
    bank_currency: str
    iban: str | None = None
    account_number: str | None = None
    routing_number: str | None = None
    connected_account: str | None = None  # a destination made by an earlier payout

    def __repr__(self) -> str:  # never the account numbers in a log line
        return f"PayoutRequest(withdrawal_id={self.withdrawal_id}, amount={self.amount})"


@dataclass(frozen=True)
class PayoutResult:
    payout_ref: str  # Stripe: po_... (stripePayoutId)
    status: str  # the provider's payout status: pending | in_transit | paid | failed
    transfer_ref: str | None = None  # Stripe: tr_... (stripeTransferId)
    connected_account: str | None = None  # Stripe: acct_... (kept for the next payout)


class PayoutProvider(Protocol):
    name: str
    methods: frozenset[str]  # the withdrawal method types it pays out (bank_transfer, ...)

    async def create_payout(self, request: PayoutRequest) -> PayoutResult: ...


def payout_object(*, payout_ref: str, amount: int, currency: str, status: str,
                  withdrawal_id: uuid.UUID | str, failure_code: str | None = None,
                  failure_message: str | None = None) -> dict[str, Any]:
    """A Stripe `payout` object (the fields we read)."""
    return {"id": payout_ref, "object": "payout", "amount": amount,
            "currency": currency.lower(), "status": status, "method": "standard",
            "failure_code": failure_code, "failure_message": failure_message,
            "metadata": {"withdrawalId": str(withdrawal_id)}}


def payout_event(event_type: str, payout: dict[str, Any], *, account: str | None = None,
                 event_id: str | None = None, created: int | None = None) -> bytes:
    """A Stripe Connect event body about a payout (what the sandbox delivers)."""
    body: dict[str, Any] = {
        "id": event_id or f"evt_sandbox_{secrets.token_hex(12)}", "object": "event",
        "api_version": "2024-06-20", "created": created or int(time.time()),
        "livemode": False, "type": event_type, "data": {"object": payout}}
    if account:
        body["account"] = account
    return json.dumps(body, separators=(",", ":")).encode()


@dataclass
class SandboxPayout:
    payout_ref: str
    transfer_ref: str
    idempotency_key: str
    withdrawal_id: str
    amount: int
    currency: str
    status: str
    account_last4: str | None
    created: int
    requests: int = 1  # how many create calls carried this key (retries included)
    history: list[str] = field(default_factory=list)


class SandboxPayouts:
    """A complete payout provider for development and tests (see the module doc)."""

    name = "sandbox"
    methods = frozenset({"bank_transfer"})

    def __init__(self, root: Path, secret: str) -> None:
        self.root = root
        self._secret = secret

    def _path(self, key: str) -> Path:
        return self.root / (hashlib.sha256(key.encode()).hexdigest() + ".json")

    def _refs(self, key: str) -> tuple[str, str]:
        digest = hmac.new(self._secret.encode(), f"payout:{key}".encode(),
                          hashlib.sha256).hexdigest()
        return f"po_sandbox_{digest[:24]}", f"tr_sandbox_{digest[24:48]}"

    def _write(self, path: Path, row: SandboxPayout, *, exclusive: bool) -> bool:
        """Write the whole file aside, then put it in place: `exclusive` links it (fails if a
        payout for the key exists - two processes cannot both create one), else replaces it.
        A reader never sees a half-written file."""
        tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
        with open(tmp, "wb") as handle:
            handle.write(json.dumps(asdict(row)).encode())
            handle.flush()
            os.fsync(handle.fileno())
        if not exclusive:
            os.replace(tmp, path)
            return True
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        finally:
            tmp.unlink()
        return True

    @staticmethod
    def _read(path: Path) -> SandboxPayout:
        return SandboxPayout(**json.loads(path.read_bytes()))

    def _create(self, request: PayoutRequest) -> SandboxPayout:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self._path(request.idempotency_key)
        payout_ref, transfer_ref = self._refs(request.idempotency_key)
        number = request.iban or request.account_number or ""
        row = SandboxPayout(payout_ref=payout_ref, transfer_ref=transfer_ref,
                            idempotency_key=request.idempotency_key,
                            withdrawal_id=str(request.withdrawal_id), amount=request.amount,
                            currency=request.currency, status="in_transit",
                            account_last4=number[-4:] or None, created=int(time.time()),
                            history=["in_transit"])
        if self._write(path, row, exclusive=True):
            return row
        first = self._read(path)  # a retry: the first payout, as Stripe answers a replay
        first.requests += 1
        self._write(path, first, exclusive=False)
        return first

    async def create_payout(self, request: PayoutRequest) -> PayoutResult:
        if request.amount <= 0:
            raise PayoutRefused("amount must be positive")
        row = await asyncio.to_thread(self._create, request)
        if (row.amount, row.currency) != (request.amount, request.currency):
            # Stripe answers a reused key with other parameters with an error.
            raise PayoutRefused("idempotency key reused with other parameters")
        return PayoutResult(payout_ref=row.payout_ref, status=row.status,
                            transfer_ref=row.transfer_ref)

    # --- the bank's side (control CLI, reconciliation, tests) ------------------------------

    def by_key(self, key: str) -> SandboxPayout | None:
        path = self._path(key)
        return self._read(path) if path.exists() else None

    def all(self) -> list[SandboxPayout]:
        if not self.root.exists():
            return []
        return sorted((self._read(p) for p in self.root.glob("*.json")),
                      key=lambda r: (r.created, r.payout_ref))

    def set_status(self, key: str, status: str) -> SandboxPayout:
        path = self._path(key)
        row = self._read(path)
        row.status = status
        row.history.append(status)
        self._write(path, row, exclusive=False)
        return row


def pause_after_call_hook() -> None:
    """Test-only crash window: with MINDLINKS_TEST_PAYOUT_PAUSE_FILE set (never honoured in
    production, see `withdrawals.send_payout`), the worker writes that file right after the
    provider answered and then sleeps, so a test can SIGKILL it before anything commits."""
    marker = os.environ.get("MINDLINKS_TEST_PAYOUT_PAUSE_FILE")
    if not marker:
        return
    Path(marker).write_text(str(os.getpid()))
    while True:  # until killed
        time.sleep(3600)


def install(db: Database, provider: PayoutProvider) -> None:
    """Make `provider` what every session of `db` pays out through (request handlers, the
    worker's subscribers, CLI commands)."""
    info = dict(db.sessionmaker.kw.get("info") or {})
    info[SESSION_KEY] = provider
    db.sessionmaker.configure(info=info)


def of(session: AsyncSession) -> PayoutProvider:
    provider = session.info.get(SESSION_KEY)
    if provider is None:
        raise RuntimeError("no payout provider is installed on this session")
    return provider


def installed_on(db: Database) -> PayoutProvider | None:
    return (db.sessionmaker.kw.get("info") or {}).get(SESSION_KEY)


def installed(session: AsyncSession) -> PayoutProvider | None:
    return session.info.get(SESSION_KEY)
