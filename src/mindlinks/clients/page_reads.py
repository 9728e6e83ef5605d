"""The clients domain's part of the pages' composed reads, as Core (no I/O here)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, select

from mindlinks.clients.models import ClientCompany

_CO = ClientCompany.__table__.c


def company_name(company_id: ColumnElement[Any]) -> ScalarSelect[Any]:
    """The company's legal name (what `get_companies` gives the contract lists)."""
    return select(_CO.legal_name).where(_CO.id == company_id).scalar_subquery()
