"""The journal's public API: append entries, read them, and prove what was recorded.

Other domains call `append` (or `append_many`) inside their own transaction, with the
request's session: the entry commits or rolls back with the change it records. Nothing here
commits, and nothing here updates or deletes an entry.

**Payloads carry ids, amounts and hashes, never plaintext personal data.** A name, email,
IP address or document number goes in as a keyed hash (`platform.security.keyed_hash`) or as
the id of the row that holds it (encrypted, erasable). Erasing a person then never touches
the journal, so the chain keeps verifying (RELIABILITY 37). Amounts are integers in minor
units; floats are refused because their JSON text is not canonical across languages.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any, Protocol

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.ledger import integrity, repository, tiles
from mindlinks.ledger.merkle import EMPTY_ROOT, consistency_ranges, inclusion_ranges
from mindlinks.ledger.models import LedgerEntry
from mindlinks.ledger.verification import ChainReport, Digest, verify_chain
from mindlinks.ledger.verifier import GENESIS_PREV_HASH, compute_entry_hash, recorded_at_micros
from mindlinks.platform.db import utcnow
from mindlinks.platform.errors import NotFound, ValidationFailed
from mindlinks.platform.offload import run_cpu
from mindlinks.platform.security import Actor

JournalBroken = repository.JournalBroken

__all__ = [
    "Appended",
    "ChainReport",
    "ConsistencyProof",
    "Digest",
    "EntityAccessPolicy",
    "EntryType",
    "InclusionProof",
    "JournalBroken",
    "NewEntry",
    "append",
    "append_many",
    "canonical_json",
    "check_entity",
    "consistency_proof",
    "digest",
    "entity_history",
    "get_entry",
    "inclusion_proof",
    "lock_for_append",
    "register_entity_access",
    "verify_chain",
]


class InvalidJournalPayload(ValidationFailed):
    code, title = "ledger_payload", "Invalid journal payload"


class JournalPayloadHasPersonalData(ValidationFailed):
    code, title = "ledger_pii", "Journal payload would hold personal data"


class InvalidJournalRange(ValidationFailed):
    code, title = "ledger_range", "Invalid journal range"


class JournalEntryNotFound(NotFound):
    code, title = "ledger_entry_not_found", "Journal entry not found"


class JournalEntityNotFound(NotFound):
    code, title = "ledger_entity_not_found", "No such journal history"


class EntryType(StrEnum):
    """Well-known entry types; any lowercase dotted/underscored name is accepted."""

    SIGNATURE = "signature"
    CONTRACT_ACTIVATION = "contract_activation"
    PAYMENT_EVENT = "payment_event"
    BALANCE_ADJUSTMENT = "balance_adjustment"
    ADMIN_ACTION = "admin_action"


_NAME = re.compile(r"^[a-z][a-z0-9_.\-]{0,63}$")
# Keys that would put plaintext personal data into an entry that can never be erased.
# A hashed or pseudonymous variant (`email_hash`, `ip_hash`) is the way to record them.
_PII_KEYS = frozenset(
    {
        "email", "phone", "name", "full_name", "first_name", "last_name", "fullname",
        "firstname", "lastname", "address", "ip", "ip_address", "ipaddress",
        "date_of_birth", "dateofbirth", "dob", "ssn", "tax_id", "taxid", "iban",
        "account_number", "accountnumber", "routing_number", "routingnumber", "passport",
    }
)
MAX_PAYLOAD_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class NewEntry:
    entry_type: str
    entity_type: str
    entity_id: str | uuid.UUID
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Appended:
    """What the caller gets back: enough to cite the entry (seq + entry_hash) elsewhere."""

    seq: int
    entry_type: str
    entity_type: str
    entity_id: str
    payload_hash: bytes
    prev_hash: bytes
    entry_hash: bytes
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class InclusionProof:
    seq: int
    tree_size: int
    leaf_index: int
    entry_hash: bytes
    audit_path: list[bytes]
    digest: Digest


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    from_seq: int
    to_seq: int
    from_root: bytes
    to_root: bytes
    proof: list[bytes]


@lru_cache(maxsize=4096)
def _key_problem(key: object) -> ValidationFailed | None:
    """Why a payload key is refused (cached: payloads reuse a few key names)."""
    if not isinstance(key, str):
        return InvalidJournalPayload("Payload keys must be strings")
    if key.lower().replace("-", "_") in _PII_KEYS:
        return JournalPayloadHasPersonalData(
            f"Journal payload key {key!r} would hold personal data; record its keyed "
            f"hash (e.g. {key}_hash) or the id of the row that holds it",
        )
    return None


def _check_payload(payload: Any) -> None:
    """Refuse floats, personal-data keys and very deep nesting (iterative: this is hot)."""
    stack: list[tuple[Any, int]] = [(payload, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > 16:
            raise InvalidJournalPayload("Journal payload is nested too deeply")
        if isinstance(value, Mapping):
            for key, item in value.items():
                if (problem := _key_problem(key)) is not None:
                    raise problem
                if item.__class__ in _SCALARS:
                    continue
                stack.append((item, depth + 1))
        elif isinstance(value, list | tuple):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, float):
            raise InvalidJournalPayload(
                "Journal payloads take integer amounts (minor units), not floats",
            )


_SCALARS = frozenset({str, int, bool, type(None), uuid.UUID})


def canonical_json(payload: Mapping[str, Any]) -> bytes:
    """Sorted keys, no whitespace, UTF-8 (orjson). UUIDs and datetimes become RFC strings."""
    if not isinstance(payload, Mapping):
        raise InvalidJournalPayload("Journal payload must be an object")
    _check_payload(payload)
    try:
        data = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    except TypeError as exc:
        raise InvalidJournalPayload(f"Payload is not JSON: {exc}") from exc
    if len(data) > MAX_PAYLOAD_BYTES:
        raise InvalidJournalPayload("Journal payload is too large")
    return data


@lru_cache(maxsize=1024)
def _valid_name(value: str) -> bool:
    return bool(_NAME.match(value))


def _name(value: str, what: str) -> str:
    value = str(value)
    if not _valid_name(value):
        raise InvalidJournalPayload(f"Invalid journal {what}: {value!r}")
    return value


async def append(
    session: AsyncSession,
    *,
    entry_type: str,
    entity_type: str,
    entity_id: str | uuid.UUID,
    payload: Mapping[str, Any],
) -> Appended:
    """Append one entry in the caller's transaction.

    Guarantees: the entry gets seq = head + 1 and prev_hash = head's entry_hash, and no other
    transaction can append until this one ends (so the chain never forks and seq has no
    gaps); it is flushed, not committed - it becomes durable with the caller's change or not
    at all. Appending takes the chain lock until commit, so call it late in the transaction.
    """
    return (
        await append_many(
            session,
            [NewEntry(entry_type, entity_type, entity_id, payload)],
        )
    )[0]


async def lock_for_append(session: AsyncSession) -> None:
    """Take the journal's append lock now (held until the transaction ends). A transaction
    that will lock other rows and append after them takes it first, so it queues in the same
    order as one that appends first and locks those rows afterwards: no deadlock between the
    two. Appending again in the same transaction does not wait."""
    await repository.lock_chain(session)


# Batches larger than this are canonicalised on the CPU pool (`platform/offload.py`).
INLINE_ENTRIES = 4


def _prepare(entries: Sequence[NewEntry]) -> list[tuple[str, str, str, bytes]]:
    return [
        (
            _name(e.entry_type, "entry type"),
            _name(e.entity_type, "entity type"),
            str(e.entity_id),
            canonical_json(e.payload),
        )
        for e in entries
    ]


async def append_many(session: AsyncSession, entries: Sequence[NewEntry]) -> list[Appended]:
    """Append several entries, in order, under one lock and one INSERT round trip.

    Same guarantees as `append`; all entries share one `recorded_at`.
    """
    # A few entries (the usual case, at most 64 KiB each) are cheaper to encode here than
    # to hand to a thread; a large batch is canonicalised off the event loop.
    if len(entries) > INLINE_ENTRIES:
        prepared = await run_cpu(_prepare, entries)
    else:
        prepared = _prepare(entries)
    for _, _, entity_id, _ in prepared:
        if not entity_id or len(entity_id) > 128:
            raise InvalidJournalPayload("Invalid journal entity id")
    if not prepared:
        return []
    await repository.lock_chain(session)
    tip = await repository.head(session)
    seq, prev = tip if tip else (0, GENESIS_PREV_HASH)
    now = utcnow()
    micros = recorded_at_micros(now)
    rows: list[tuple[Any, ...]] = []
    out: list[Appended] = []
    sha256 = hashlib.sha256
    for entry_type, entity_type, entity_id, data in prepared:
        seq += 1
        payload_hash = sha256(data).digest()
        entry_hash = compute_entry_hash(prev, seq, entry_type, payload_hash, micros)
        rows.append(
            (seq, entry_type, entity_type, entity_id, data.decode("utf-8"), payload_hash, prev,
             entry_hash)
        )
        out.append(
            Appended(seq, entry_type, entity_type, entity_id, payload_hash, prev, entry_hash, now)
        )
        prev = entry_hash
    completed = await tiles.tiles_completed_by(session, tip[0] if tip else 0, [r[7] for r in rows])
    await repository.insert_rows(session, rows, now)
    if completed:
        await repository.insert_tiles(session, completed)
    return out


# --- reading ------------------------------------------------------------------------------


class EntityAccessPolicy(Protocol):
    """Decides whether a non-admin actor may read one entity's journal entries.

    Higher domains register one per entity type at start-up (contracts: "a party to the
    contract"); an entity type with no policy is readable by admins only. A refusal is a 404,
    so an entity's existence is not revealed.
    """

    async def __call__(self, session: AsyncSession, actor: Actor, entity_id: str) -> bool: ...


_access_policies: dict[str, EntityAccessPolicy] = {}


def register_entity_access(entity_type: str, policy: EntityAccessPolicy) -> None:
    _access_policies[entity_type] = policy


async def _may_read(session: AsyncSession, actor: Actor, entity_type: str, entity_id: str) -> bool:
    if actor.is_admin and actor.mfa_verified:
        return True
    policy = _access_policies.get(entity_type)
    return policy is not None and await policy(session, actor, entity_id)


async def get_entry(session: AsyncSession, actor: Actor, seq: int) -> LedgerEntry:
    """One entry, if the actor may read its entity (admins, or the entity's policy), and only
    once it matches its hashes, its neighbours and its Merkle tile (409 `ledger_broken`)."""
    entry = await repository.get(session, seq)
    if entry is None or not await _may_read(session, actor, entry.entity_type, entry.entity_id):
        raise JournalEntryNotFound(f"No journal entry {seq}")
    await integrity.check_entries(session, [entry], deep=True)
    return entry


async def entity_history(
    session: AsyncSession,
    actor: Actor,
    entity_type: str,
    entity_id: str,
    *,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[LedgerEntry], int]:
    """The entries of one entity in journal order, and their total (404 when not readable)."""
    if not await _may_read(session, actor, entity_type, entity_id):
        raise JournalEntityNotFound("No such journal history")
    rows, total = await repository.entity_history(
        session, entity_type, entity_id, offset=offset, limit=limit
    )
    await integrity.check_entries(session, rows)
    return rows, total


# An entity's own entries are few (a contract: two signatures, completion, activation); the
# cap keeps a caller from turning one check into a scan of a busy entity.
MAX_CHECKED_ENTITY_ENTRIES = 1000


async def check_entity(
    session: AsyncSession, entity_type: str, entity_id: str | uuid.UUID
) -> dict[int, bytes]:
    """Check every entry of one entity against the chain and its Merkle tiles; return their
    entry hashes by seq. Raises 409 `ledger_broken` when any of them was tampered with."""
    rows = await repository.entity_entries(
        session, entity_type, str(entity_id), limit=MAX_CHECKED_ENTITY_ENTRIES
    )
    await integrity.check_entries(session, rows, deep=True)
    return {r.seq: bytes(r.entry_hash) for r in rows}


async def _head_seq(session: AsyncSession) -> int:
    tip = await repository.head(session)
    return tip[0] if tip else 0


async def digest(session: AsyncSession, seq: int | None = None) -> Digest:
    """The digest at `seq` (default: the current head): tip hash and Merkle root of 1..seq."""
    head = await _head_seq(session)
    if seq is None:
        seq = head
    if not 0 <= seq <= head:
        raise JournalEntryNotFound(f"The journal has no entry {seq}")
    if seq == 0:
        return Digest(0, GENESIS_PREV_HASH, EMPTY_ROOT, None)
    tip = await repository.entry_at(session, seq)
    if tip is None:
        raise repository.JournalGap()
    return Digest(seq, tip[0], await tiles.range_root(session, 0, seq), tip[1])


async def inclusion_proof(
    session: AsyncSession, seq: int, digest_seq: int | None = None
) -> InclusionProof:
    """RFC 6962 audit path of entry `seq` in the tree of the digest at `digest_seq`."""
    at = await digest(session, digest_seq)
    if not 1 <= seq <= at.seq:
        raise JournalEntryNotFound(f"Entry {seq} is not in digest {at.seq}")
    entry = await repository.entry_at(session, seq)
    if entry is None:
        raise repository.JournalGap()
    path = [await tiles.range_root(session, lo, hi) for lo, hi in inclusion_ranges(seq - 1, at.seq)]
    return InclusionProof(seq, at.seq, seq - 1, entry[0], path, at)


async def consistency_proof(
    session: AsyncSession, from_seq: int, to_seq: int | None = None
) -> ConsistencyProof:
    """RFC 6962 proof that the digest at `to_seq` extends the one at `from_seq`."""
    new = await digest(session, to_seq)
    if not 1 <= from_seq <= new.seq:
        raise InvalidJournalRange("Consistency needs 1 <= from <= to <= the journal's head")
    old = await digest(session, from_seq)
    path = [
        await tiles.range_root(session, lo, hi) for lo, hi in consistency_ranges(from_seq, new.seq)
    ]
    return ConsistencyProof(from_seq, new.seq, old.merkle_root, new.merkle_root, path)
