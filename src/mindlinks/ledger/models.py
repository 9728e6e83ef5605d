"""The journal table: append-only, SHA-256 hash-chained, gap-free `seq` from 1.

Rows are never updated or deleted: triggers created by migration 0002_ledger reject UPDATE
and DELETE on every database (and TRUNCATE on PostgreSQL), and no code path here writes
anything but INSERT.

Design notes:

- `seq` is assigned by `ledger.service.append` under the chain lock (head + 1), not by a
  database sequence: sequences leave gaps on rollback, and a gap must mean tampering.
  On SQLite it is an INTEGER PRIMARY KEY (the rowid itself, no second index).
- `payload` holds the exact canonical JSON text that was hashed (sorted keys, no
  whitespace, UTF-8). It is deliberately TEXT, not JSON/JSONB: JSONB re-orders and
  re-formats, and the bytes must survive unchanged for `payload_hash` to be re-checkable.
- Payloads carry ids, amounts (integer minor units) and hashes - never plaintext personal
  data - so erasing a person later leaves every entry, and so the chain, intact.
- The table has no `created_at`/`updated_at` (TimestampMixin): `recorded_at` is the
  creation time and is covered by `entry_hash`; an `updated_at` on a row that can never
  change would be meaningless, and an unhashed second timestamp could be edited without the
  chain noticing, so it would only invite trust it does not deserve.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mindlinks.platform.db import Base, TimestampMixin

# BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
SeqType = BigInteger().with_variant(Integer(), "sqlite")


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=False)
    entry_type: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(128))
    payload: Mapped[str] = mapped_column(Text)
    payload_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    entry_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    recorded_at: Mapped[datetime]

    __table_args__ = (
        # An entity's history, in journal order.
        Index("ix_ledger_entries_entity", "entity_type", "entity_id", "seq"),
    )


class LedgerTile(TimestampMixin, Base):
    """A stored Merkle node: the RFC 6962 hash of a complete, aligned subtree of
    2**height leaves (height >= 8), i.e. of entries `first_seq .. end_leaf`.

    Derived data, written in the appending transaction when a subtree completes, so a root
    or proof needs O(log n) tiles plus at most 255 leaf hashes instead of every entry.
    Append-only like the entries (same triggers); whole-chain verification recomputes every
    tile from the entries and reports one that does not match.
    """

    __tablename__ = "ledger_tiles"

    height: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # (position + 1) * 2**height: the leaf count at which the subtree completed.
    end_leaf: Mapped[int] = mapped_column(BigInteger, index=True)
    node_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
