"""Start-up wiring of the invoices domain: the issuing context (settings, storage) on the app's
sessions, and who may read an invoice's journal entries."""

from __future__ import annotations

from fastapi import FastAPI

from mindlinks.invoices import service
from mindlinks.ledger.service import register_entity_access
from mindlinks.platform.storage import get_storage


def install(app: FastAPI) -> None:
    service.InvoiceContext.install(
        app.state.db, service.InvoiceContext(app.state.settings, get_storage(app.state)))
    register_entity_access("invoice", service.is_party)
