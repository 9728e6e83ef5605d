"""Shapes of a monthly statement (JSON form; the PDF and CSV print the same numbers).

Amounts appear twice: `…Minor` integers (what the verifier adds up: never a float) and the
usual JSON numbers with the currency's decimals.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from mindlinks.ledger.schemas import Digest, Entry
from mindlinks.platform.api import ResponseModel
from mindlinks.platform.money import JsonNumber

StatementType = Literal["contractor_wallet", "client_escrow"]


class StatementLine(ResponseModel):
    seq: int  # the journal entry of this movement
    transfer_id: uuid.UUID
    recorded_at: datetime  # the journal entry's time, which decides the month
    code: str
    reference: str
    direction: Literal["credit", "debit"]  # credit: into this account
    amount_minor: int
    amount: JsonNumber
    balance_after_minor: int
    balance_after: JsonNumber


class StatementBody(ResponseModel):
    type: StatementType
    account_id: uuid.UUID | None  # None: no account of this currency yet (an empty statement)
    owner_id: uuid.UUID
    holder: str
    currency: str
    month: str
    period_start: datetime
    period_end: datetime
    complete: bool  # false for the current month: movements up to `generatedAt`
    generated_at: datetime
    opening_balance_minor: int
    closing_balance_minor: int
    total_credits_minor: int
    total_debits_minor: int
    opening_balance: JsonNumber
    closing_balance: JsonNumber
    lines: list[StatementLine]


class InclusionPath(ResponseModel):
    seq: int
    leaf_index: int
    tree_size: int
    audit_path: list[str]


class StatementJournal(ResponseModel):
    """Everything the standalone verifier needs: the digest the statement was made against,
    each line's journal entry (with `payloadCanonical`) and its inclusion proof in that
    digest."""

    algorithm: Literal["rfc6962-sha256"] = "rfc6962-sha256"
    digest: Digest
    entries: list[Entry]
    proofs: list[InclusionPath]


class StatementOut(ResponseModel):
    statement: StatementBody
    journal: StatementJournal
