"""payments: the database itself keeps the book's history (RELIABILITY 9)

A transfer is never deleted and never edited: of its columns only `status` (and its
`updated_at`) may change, and only forward - pending to posted, voided or expired, and voided to
expired (the expiry job's relabel). An account is never deleted and never changes owner,
purpose, currency or whether it may go negative; its running sums do change, with every
transfer. Corrections are new,
linked transfers (`book.transfer`, admin adjustments), as they were; these triggers make an
edit by hand, or by a bug, fail instead of silently rewriting what was paid.

The triggers name the columns they guard (`UPDATE OF`), so an UPDATE that sets only `status`,
as the payroll's batch post does for thousands of holds, runs no trigger function at all: the
status rule is a `WHEN` condition, evaluated without calling one unless the move is illegal.

Revision ID: 0020_book_guards
Revises: 0019_adjustment_requests
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020_book_guards"
down_revision: str | None = "0019_adjustment_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TRANSFER_FIXED = ("reference, code, kind, debit_account_id, credit_account_id, amount, "
                   "currency, pending_id, created_at")
_ACCOUNT_FIXED = "owner_type, owner_id, purpose, currency, may_go_negative, created_at"
# The moves a transfer's status may make; anything else is refused.
_ILLEGAL_STATUS = (
    "OLD.status <> NEW.status AND NOT ("
    "(OLD.status = 'pending' AND NEW.status IN ('posted', 'voided', 'expired')) "
    "OR (OLD.status = 'voided' AND NEW.status = 'expired'))"
)

_PG = [
    """
CREATE OR REPLACE FUNCTION payment_book_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%: % refused (the book only grows; correct with a new transfer)',
        TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$
""",
    "CREATE TRIGGER payment_transfers_no_delete BEFORE DELETE ON payment_transfers "
    "FOR EACH ROW EXECUTE FUNCTION payment_book_reject_change()",
    "CREATE TRIGGER payment_transfers_no_truncate BEFORE TRUNCATE ON payment_transfers "
    "FOR EACH STATEMENT EXECUTE FUNCTION payment_book_reject_change()",
    f"CREATE TRIGGER payment_transfers_fixed BEFORE UPDATE OF {_TRANSFER_FIXED} "
    "ON payment_transfers FOR EACH ROW WHEN (ROW(" + ", ".join(
        f"OLD.{c.strip()}" for c in _TRANSFER_FIXED.split(",")) + ") IS DISTINCT FROM ROW("
    + ", ".join(f"NEW.{c.strip()}" for c in _TRANSFER_FIXED.split(",")) + ")) "
    "EXECUTE FUNCTION payment_book_reject_change()",
    "CREATE TRIGGER payment_transfers_status BEFORE UPDATE OF status ON payment_transfers "
    f"FOR EACH ROW WHEN ({_ILLEGAL_STATUS}) EXECUTE FUNCTION payment_book_reject_change()",
    "CREATE TRIGGER payment_accounts_no_delete BEFORE DELETE ON payment_accounts "
    "FOR EACH ROW EXECUTE FUNCTION payment_book_reject_change()",
    "CREATE TRIGGER payment_accounts_no_truncate BEFORE TRUNCATE ON payment_accounts "
    "FOR EACH STATEMENT EXECUTE FUNCTION payment_book_reject_change()",
    f"CREATE TRIGGER payment_accounts_fixed BEFORE UPDATE OF {_ACCOUNT_FIXED} "
    "ON payment_accounts FOR EACH ROW WHEN (ROW(" + ", ".join(
        f"OLD.{c.strip()}" for c in _ACCOUNT_FIXED.split(",")) + ") IS DISTINCT FROM ROW("
    + ", ".join(f"NEW.{c.strip()}" for c in _ACCOUNT_FIXED.split(",")) + ")) "
    "EXECUTE FUNCTION payment_book_reject_change()",
]
_PG_NAMES = [("payment_transfers", n) for n in ("no_delete", "no_truncate", "fixed", "status")] + [
    ("payment_accounts", n) for n in ("no_delete", "no_truncate", "fixed")]


def _sqlite_changed(columns: str) -> str:
    return " OR ".join(f"OLD.{c.strip()} IS NOT NEW.{c.strip()}" for c in columns.split(","))


def _sqlite_abort(table: str, what: str) -> str:
    return (f"BEGIN SELECT RAISE(ABORT, '{table}: {what} refused (the book only grows; "
            "correct with a new transfer)'); END")


_SQLITE = [
    "CREATE TRIGGER payment_transfers_no_delete BEFORE DELETE ON payment_transfers "
    + _sqlite_abort("payment_transfers", "DELETE"),
    f"CREATE TRIGGER payment_transfers_fixed BEFORE UPDATE OF {_TRANSFER_FIXED} "
    f"ON payment_transfers WHEN {_sqlite_changed(_TRANSFER_FIXED)} "
    + _sqlite_abort("payment_transfers", "UPDATE"),
    "CREATE TRIGGER payment_transfers_status BEFORE UPDATE OF status ON payment_transfers "
    f"WHEN {_ILLEGAL_STATUS} " + _sqlite_abort("payment_transfers", "UPDATE"),
    "CREATE TRIGGER payment_accounts_no_delete BEFORE DELETE ON payment_accounts "
    + _sqlite_abort("payment_accounts", "DELETE"),
    f"CREATE TRIGGER payment_accounts_fixed BEFORE UPDATE OF {_ACCOUNT_FIXED} "
    f"ON payment_accounts WHEN {_sqlite_changed(_ACCOUNT_FIXED)} "
    + _sqlite_abort("payment_accounts", "UPDATE"),
]
_SQLITE_NAMES = ["payment_transfers_no_delete", "payment_transfers_fixed",
                 "payment_transfers_status", "payment_accounts_no_delete",
                 "payment_accounts_fixed"]


def upgrade() -> None:
    for statement in _PG if op.get_bind().dialect.name == "postgresql" else _SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, name in _PG_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_{name} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS payment_book_reject_change()")
    else:
        for name in _SQLITE_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
