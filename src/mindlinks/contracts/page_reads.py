"""The contractor home's part of the contracts domain, as Core to compose (no I/O here): the
newest contracts with their total and next payment date (`web/home.py` joins them with the
other domains' parts into one statement)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Subquery, func, select

from mindlinks.contracts.models import Contract, ContractPayment

_C = Contract.__table__.c
_S = ContractPayment.__table__.c
HOME_COLUMNS = ("id", "title", "status", "type", "rate_minor", "currency", "frequency",
                "client_id")


def home_contracts(contractor_id: ColumnElement[Any], today: ColumnElement[Any],
                   limit: int) -> Subquery:
    """The contractor's `limit` newest contracts (as `repository.page` orders them), each with
    `position` (1 = newest), `total` (all their contracts, a window count) and
    `next_payment_date` (the first scheduled payment from `today`, as
    `repository.next_payment_dates`; the page shows it for active contracts only)."""
    upcoming = (select(func.min(_S.due_date))
                .where(_S.contract_id == _C.id, _S.due_date >= today, _S.status == "scheduled")
                .scalar_subquery())
    order = (_C.created_at.desc(), _C.id)
    return (select(*(_C[c] for c in HOME_COLUMNS), upcoming.label("next_payment_date"),
                   func.count().over().label("total"),
                   func.row_number().over(order_by=order).label("position"))
            .where(_C.contractor_id == contractor_id).order_by(*order).limit(limit)
            .subquery("contracts"))
