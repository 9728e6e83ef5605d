"""The payments domain's public API. Other domains import only from here and `schemas`.

The book's interface (`account`, `transfer`, `post_pending`, `void_pending`, `balances`,
`Balance`) is re-exported from `payments.book` unchanged; see docs/payments.md.
"""

from __future__ import annotations

from mindlinks.payments import page_reads as page_reads
from mindlinks.payments.admin import AdjustmentRequestNotFound
from mindlinks.payments.admin import approve as approve_adjustment
from mindlinks.payments.admin import list_requests as list_adjustment_requests
from mindlinks.payments.admin import reject as reject_adjustment
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
from mindlinks.payments.earnings import earnings
from mindlinks.payments.escrow import create_deposit, escrow
from mindlinks.payments.fx import DEFAULT_RATES, get_rates_provider
from mindlinks.payments.models import PLATFORM_OWNER, PendingStatus, Purpose, TransferKind
from mindlinks.payments.payroll_reads import approve as approve_payroll
from mindlinks.payments.payroll_reads import detail as payroll_detail
from mindlinks.payments.payroll_reads import list_payrolls
from mindlinks.payments.providers import get_provider
from mindlinks.payments.quotes import (
    QuoteExpired,
    QuoteMismatch,
    QuoteNotFound,
    QuotePolicy,
    QuoteUsed,
    create_quote,
    get_quote,
)
from mindlinks.payments.wallet import history as wallet_history
from mindlinks.payments.wallet import wallet
from mindlinks.payments.withdrawals import cancel as cancel_withdrawal
from mindlinks.payments.withdrawals import get_withdrawal, list_withdrawals, request_withdrawal
from mindlinks.payments.withdrawals_schemas import WithdrawalCreate

# Currencies a withdrawal can be quoted into whatever the rates provider (the sandbox's fixed
# table; the ECB publishes these too or they are pegged/admin-set): the web form's choices.
QUOTE_CURRENCIES = tuple(sorted(DEFAULT_RATES))

# Fee and FX quotes (payments/quotes.py) are public for the web's withdraw flow; so are the
# dashboards' reads and actions (earnings, escrow, payroll runs, wallet, withdrawals): the
# functions the API's routes call, so the pages apply the same rules. So are the admin
# balance adjustment requests' list and decisions (payments/admin.py, the admin console's).
__all__ = [
    "PLATFORM_OWNER",
    "QUOTE_CURRENCIES",
    "Account",
    "AdjustmentRequestNotFound",
    "AmountExceedsPending",
    "Balance",
    "CurrencyMismatch",
    "InsufficientFunds",
    "PendingExpired",
    "PendingResolved",
    "PendingStatus",
    "Purpose",
    "QuoteExpired",
    "QuoteMismatch",
    "QuoteNotFound",
    "QuotePolicy",
    "QuoteUsed",
    "ReferenceConflict",
    "Transfer",
    "TransferKind",
    "TransferNotFound",
    "WithdrawalCreate",
    "account",
    "approve_adjustment",
    "approve_payroll",
    "balances",
    "cancel_withdrawal",
    "create_deposit",
    "create_quote",
    "earnings",
    "escrow",
    "get_provider",
    "get_quote",
    "get_rates_provider",
    "get_withdrawal",
    "list_adjustment_requests",
    "list_payrolls",
    "list_withdrawals",
    "payroll_detail",
    "post_pending",
    "reject_adjustment",
    "request_withdrawal",
    "transfer",
    "void_pending",
    "wallet",
    "wallet_history",
]
