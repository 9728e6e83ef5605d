"""The one place the money dashboards reach past a domain's `service`/`schemas` modules: the
read models and review functions the pages need that the domains have not (yet) moved into
their public modules. Each import here is named in `.importlinter` as debt; the page modules
import this module, never the domains' private ones."""

from __future__ import annotations

from mindlinks.clients import invitations
from mindlinks.contractors import onboarding
from mindlinks.contracts import milestones
from mindlinks.contracts import views as contract_views
from mindlinks.payments import (
    earnings,
    escrow,
    fees,
    payroll_reads,
    providers,
    wallet,
    withdrawals,
)
from mindlinks.timesheets import entries as timesheet_rules
from mindlinks.timesheets import reviews as timesheet_reviews
from mindlinks.timesheets import views as timesheet_views

__all__ = ["contract_views", "earnings", "escrow", "fees", "invitations", "milestones",
           "onboarding", "payroll_reads", "providers", "timesheet_reviews", "timesheet_rules",
           "timesheet_views", "wallet", "withdrawals"]
