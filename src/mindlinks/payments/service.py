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
from mindlinks.payments.fx import DEFAULT_RATES, get_rates_provider
from mindlinks.payments.models import PLATFORM_OWNER, PendingStatus, Purpose, TransferKind
from mindlinks.payments.quotes import (
    QuoteExpired,
    QuoteMismatch,
    QuoteNotFound,
    QuotePolicy,
    QuoteUsed,
    create_quote,
    get_quote,
)

# Currencies a withdrawal can be quoted into whatever the rates provider (the sandbox's fixed
# table; the ECB publishes these too or they are pegged/admin-set): the web form's choices.
QUOTE_CURRENCIES = tuple(sorted(DEFAULT_RATES))

# Fee and FX quotes (payments/quotes.py) are public for the web's withdraw flow.
__all__ = [
    "PLATFORM_OWNER", "QUOTE_CURRENCIES", "Account", "AmountExceedsPending", "Balance",
    "CurrencyMismatch", "InsufficientFunds", "PendingExpired", "PendingResolved",
    "PendingStatus", "Purpose", "QuoteExpired", "QuoteMismatch", "QuoteNotFound",
    "QuotePolicy", "QuoteUsed", "ReferenceConflict", "Transfer", "TransferKind",
    "TransferNotFound", "account", "balances", "create_quote", "get_quote",
    "get_rates_provider", "post_pending", "transfer", "void_pending",
]
