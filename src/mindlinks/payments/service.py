"""The payments domain's public API. Other domains import only from here and `schemas`.

The book's interface (`account`, `transfer`, `post_pending`, `void_pending`, `balances`,
`Balance`) is re-exported from `payments.book` unchanged; see docs/payments.md.
"""

from __future__ import annotations

from mindlinks.payments import page_reads as page_reads
from mindlinks.payments.book import (
    Account,
    AmountExceedsPending,
    Balance,
    CurrencyMismatch,
    InsufficientFunds,
    PendingExpired,
    PendingResolved,
    ReferenceConflict,
    Transfer,
    TransferNotFound,
    account,
    balances,
    post_pending,
    transfer,
    void_pending,
)
from mindlinks.payments.models import PLATFORM_OWNER, PendingStatus, Purpose, TransferKind

__all__ = [
    "PLATFORM_OWNER", "Account", "AmountExceedsPending", "Balance", "CurrencyMismatch",
    "InsufficientFunds", "PendingExpired", "PendingResolved", "PendingStatus", "Purpose",
    "ReferenceConflict", "Transfer", "TransferKind", "TransferNotFound", "account", "balances",
    "post_pending", "transfer", "void_pending",
]
