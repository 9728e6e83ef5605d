"""The contractor home's part of the payments domain, as Core to compose (no I/O here): the
figures `earnings.earnings(..., "all", breakdown=False)` gives the home, in one row.

- `currency`: the latest invoice hold's, else USD (`wallet.main_currency` without accounts);
- `available`: the wallet's credits_posted - debits_posted - debits_pending in it;
- `earned` / `this_month` / `last_month`: the work credits (posts of invoice holds) into that
  wallet - in all, since the first of this month, in the calendar month before (UTC);
- `pending`: the open holds (awaiting funding or held) in that currency.

A contractor without a wallet in that currency reads zeros (the API opens the account; a page
has no reason to write)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Subquery, and_, case, func, literal, or_, select

from mindlinks.payments import holds
from mindlinks.payments.models import Account, Purpose, Transfer, TransferKind
from mindlinks.payments.payroll_models import InvoiceHold
from mindlinks.payments.wallet import DEFAULT_CURRENCY

_A = Account.__table__.c
_T = Transfer.__table__.c
_H = InvoiceHold.__table__.c
COLUMNS = ("currency", "available", "earned", "this_month", "last_month", "pending")


def home_earnings(contractor_id: ColumnElement[Any], this_month: ColumnElement[datetime],
                  last_month: ColumnElement[datetime]) -> Subquery:
    """One row of COLUMNS (amounts in minor units of `currency`)."""
    latest = (select(_H.currency).where(_H.contractor_id == contractor_id)
              .order_by(_H.issued_at.desc()).limit(1).scalar_subquery())
    # Uncorrelated: each use is computed once per execution (an index lookup of a few rows).
    currency = func.coalesce(latest, literal(DEFAULT_CURRENCY))
    wallet = [_A.owner_type == "contractor", _A.owner_id == contractor_id,
              _A.purpose == Purpose.CONTRACTOR_WALLET, _A.currency == currency]
    wallet_id = select(_A.id).where(*wallet).scalar_subquery()
    credits = [_T.credit_account_id == wallet_id, _T.kind == TransferKind.POST,
               _T.code == holds.HOLD_CODE]

    def earned(*when: Any) -> Any:
        amount = case((and_(*when), _T.amount)) if when else _T.amount
        return func.coalesce(select(func.sum(amount)).where(*credits).scalar_subquery(), 0)

    available = select(_A.credits_posted - _A.debits_posted - _A.debits_pending) \
        .where(*wallet).scalar_subquery()
    # `holds.OPEN` spelled as ORs: an IN list would be expanded per execution, and this
    # statement is compiled once.
    pending = select(func.sum(_H.amount)).where(
        _H.contractor_id == contractor_id, or_(*(_H.status == s for s in holds.OPEN)),
        _H.currency == currency).scalar_subquery()
    return select(
        currency.label("currency"), func.coalesce(available, 0).label("available"),
        earned().label("earned"), earned(_T.created_at >= this_month).label("this_month"),
        earned(_T.created_at >= last_month, _T.created_at < this_month).label("last_month"),
        func.coalesce(pending, 0).label("pending"),
    ).subquery("earnings")
