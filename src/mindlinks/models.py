"""Every domain's models, imported in one place so Alembic and the tests see the whole schema.

A new domain adds its `models` module here.
"""

from __future__ import annotations

import importlib

from mindlinks.platform.db import Base

MODEL_MODULES = [
    "mindlinks.platform.events",
    "mindlinks.platform.audit",
    "mindlinks.platform.idempotency",
    "mindlinks.platform.webhooks",
    "mindlinks.platform.alerts",
    "mindlinks.auth.models",
    "mindlinks.ledger.models",
    "mindlinks.platform.crypto",
    "mindlinks.countries.models",
    "mindlinks.contractors.models",
    "mindlinks.clients.models",
    "mindlinks.contracts.models",
    "mindlinks.timesheets.models",
    "mindlinks.invoices.models",
    "mindlinks.payments.models",
    "mindlinks.payments.payroll_models",
    "mindlinks.payments.quotes_models",
    "mindlinks.payments.withdrawals_models",
    "mindlinks.payments.adjustments_models",
    "mindlinks.kyc.models",
    "mindlinks.notifications.models",
]


def load_all() -> type[Base]:
    for name in MODEL_MODULES:
        importlib.import_module(name)
    return Base
