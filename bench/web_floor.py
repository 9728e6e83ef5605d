"""The floor of web_bench: the contractor home page (`/contractor`) rendered by a bare FastAPI
app served by its own `uvicorn.run` with the options `mindlinks serve` uses
(`cli.uvicorn_options`), in its own process.

It reads the same rows the platform's page reads, with the raw driver (aiosqlite / asyncpg):
no auth, no ORM, no middleware, no Pydantic. It renders THE SAME template
(`web/templates/money/contractor_home.html` and what it includes) with the platform's own
Jinja2 environment object (`web.pages.templates.env`: autoescape, i18n with null
translations, the `money` filter, the `css_version` global), from a context of the same
shape built from plain namespaces. `tests/bench/test_web_floor.py` checks that both produce
the same HTML for the same data, so this floor cannot drift silently.

Environment: MINDLINKS_BENCH_FLOOR_PORT, MINDLINKS_BENCH_FLOOR_DB (the database URL),
MINDLINKS_BENCH_FLOOR_USER / _CONTRACTOR (the ids the floor reads),
MINDLINKS_BENCH_FLOOR_CSRF (the browser's CSRF cookie value, echoed in the sign-out form).
"""

from __future__ import annotations

import gc
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any

import jinja2
import uvicorn
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from bench.floor_server import RawDb
from mindlinks.cli import uvicorn_options
from mindlinks.platform.money import from_minor

HOME_CONTRACTS = 6  # web/contractor_pages.py HOME_CONTRACTS / HOME_ACTIVITY
HOME_ACTIVITY = 5
STEPS = [
    ("profile", "Complete your profile"),
    ("identity", "Verify your identity"),
    ("bank_account", "Add and verify a bank account"),
    ("tax_form", "Submit your tax form"),
    ("first_contract", "Sign your first contract"),
]
PROFILE_COLUMNS = ("name", "phone", "country", "timezone", "legal_name", "address_line1",
                   "address_city", "address_postal_code", "address_country")


def environment() -> jinja2.Environment:
    """The platform's own Jinja2 environment (`web/pages.py`'s `templates.env`, with the
    `money` filter of `web/dash.py` and the `css_version` global of `web/router.py`): the
    very object, not a copy of its settings, so a change there reaches the floor too. The
    import loads the app's modules; nothing of them runs per request."""
    from mindlinks.web import router  # noqa: F401 - sets the filter and the global
    from mindlinks.web.pages import templates

    return templates.env


def _when(value: Any) -> datetime:
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _step_states(profile: Any, banks: list[Any], tax: Any) -> dict[str, str]:
    """contractors/onboarding.py's statuses (the page shows statuses, not the messages)."""
    filled = sum(1 for i in range(len(PROFILE_COLUMNS)) if profile[2 + i])
    kyc = profile[1]
    states = {
        "profile": "completed" if filled == len(PROFILE_COLUMNS)
        else ("in_progress" if filled else "not_started"),
        "identity": "completed" if kyc == "verified"
        else ("in_progress" if kyc in ("pending", "rejected") else "not_started"),
        "bank_account": "completed" if any(s == "verified" and not m for s, m in banks)
        else ("in_progress" if banks else "not_started"),
        "tax_form": "not_started" if not tax
        else ("completed" if tax[0][0] == "approved" else "in_progress"),
        "first_contract": "completed" if profile[-1] else "not_started",
    }
    return states


async def home_context(db: RawDb, user_id: uuid.UUID, contractor_id: uuid.UUID,
                       csrf: str) -> dict[str, Any]:
    """The page's context, of the shape `web/contractor_pages.contractor_home` builds."""
    now = datetime.now(UTC)
    today = now.date()
    this_month = datetime.combine(today.replace(day=1), time.min, UTC)
    last_month = datetime.combine((today.replace(day=1) - timedelta(days=1)).replace(day=1),
                                  time.min, UTC)
    profile = (await db.tuples(
        f"SELECT u.name, p.kyc_status, {', '.join('p.' + c for c in PROFILE_COLUMNS)}, "
        "p.first_contract_signed_at FROM auth_users u JOIN contractor_profiles p "
        "ON p.user_id = u.id WHERE u.id = ?", user_id))[0]
    banks = [(r[0], r[1]) for r in await db.tuples(
        "SELECT status, name_mismatch FROM contractor_bank_details "
        "WHERE contractor_id = ? AND deleted_at IS NULL", contractor_id)]
    tax = await db.tuples("SELECT status FROM contractor_tax_info WHERE contractor_id = ? "
                        "ORDER BY submitted_at DESC, id LIMIT 1", contractor_id)
    states = _step_states(profile, banks, tax)
    steps = [SimpleNamespace(key=k, title=t, status=states[k]) for k, t in STEPS]
    done = [s for s in steps if s.status == "completed"]
    profile_status = ("completed" if len(done) == len(steps)
                      else "in_progress" if done else "pending")

    contracts_total = (await db.tuples("SELECT count(*) FROM contracts WHERE contractor_id = ?",
                                     contractor_id))[0][0]
    contract_rows = await db.tuples(
        "SELECT c.id, c.title, c.status, c.type, c.rate_minor, c.currency, c.frequency, "
        "co.legal_name, (SELECT min(s.due_date) FROM contract_payment_schedule s "
        "WHERE s.contract_id = c.id AND s.due_date >= ? AND s.status = 'scheduled') "
        "FROM contracts c LEFT JOIN client_companies co ON co.id = c.client_id "
        "WHERE c.contractor_id = ? ORDER BY c.created_at DESC, c.id LIMIT ?",
        today, contractor_id, HOME_CONTRACTS)
    contracts = [SimpleNamespace(
        id=uuid.UUID(str(r[0])), title=r[1], status=r[2], type=r[3],
        rate=from_minor(r[4], r[5]), currency=r[5], frequency=r[6], client_name=r[7],
        next_payment_date=_day(r[8]) if r[2] == "active" else None) for r in contract_rows]

    counts = (await db.tuples(
        "SELECT count(*), coalesce(sum(CASE WHEN read THEN 0 ELSE 1 END), 0) "
        "FROM notification_notifications WHERE user_id = ?", user_id))[0]
    notes = await db.tuples(
        "SELECT title, message, read, action_url, created_at FROM notification_notifications "
        "WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?", user_id, HOME_ACTIVITY)
    inbox = SimpleNamespace(
        data=[SimpleNamespace(title=r[0], message=r[1], read=bool(r[2]), action_url=r[3],
                              created_at=_when(r[4])) for r in notes],
        meta=SimpleNamespace(total=counts[0], unread=int(counts[1])))

    latest = await db.tuples("SELECT currency FROM payment_invoice_holds WHERE contractor_id = ? "
                           "ORDER BY issued_at DESC LIMIT 1", contractor_id)
    currency = latest[0][0] if latest else "USD"
    wallet = await db.tuples(
        "SELECT id, credits_posted - debits_posted - debits_pending FROM payment_accounts "
        "WHERE owner_type = 'contractor' AND owner_id = ? AND purpose = 'contractor_wallet' "
        "AND currency = ?", contractor_id, currency)
    total = this = last = 0
    if wallet:
        sums = (await db.tuples(
            "SELECT coalesce(sum(amount), 0), "
            "coalesce(sum(CASE WHEN created_at >= ? THEN amount END), 0), "
            "coalesce(sum(CASE WHEN created_at >= ? AND created_at < ? THEN amount END), 0) "
            "FROM payment_transfers WHERE credit_account_id = ? AND kind = 'post' "
            "AND code = 'invoice_hold'", this_month, last_month, this_month,
            uuid.UUID(str(wallet[0][0]))))[0]
        total, this, last = (int(v) for v in sums)
    pending = (await db.tuples(
        "SELECT coalesce(sum(amount), 0) FROM payment_invoice_holds WHERE contractor_id = ? "
        "AND status IN ('awaiting_funding', 'held') AND currency = ?",
        contractor_id, currency))[0][0]
    earnings = SimpleNamespace(
        total_earned=from_minor(total, currency), this_month=from_minor(this, currency),
        last_month=from_minor(last, currency),
        pending_payments=from_minor(int(pending), currency),
        available_balance=from_minor(int(wallet[0][1]) if wallet else 0, currency),
        currency=currency)

    from mindlinks.web.pages import HTMX_FILE

    return {  # `pages.render`'s own keys first (English, left to right)
        "actor": SimpleNamespace(role="contractor"), "csrf_token": csrf, "lang": "en",
        "dir": "ltr", "htmx_file": HTMX_FILE, "here": "/contractor",
        "user": SimpleNamespace(name=profile[0]), "kyc_status": profile[1],
        "profile_status": profile_status, "checklist": SimpleNamespace(steps=steps),
        "contracts": contracts, "contracts_total": contracts_total,
        "active": [c for c in contracts if c.status == "active"],
        "earnings": earnings, "inbox": inbox,
    }


def create() -> FastAPI:
    db = RawDb(os.environ["MINDLINKS_BENCH_FLOOR_DB"])
    user_id = uuid.UUID(os.environ["MINDLINKS_BENCH_FLOOR_USER"])
    contractor_id = uuid.UUID(os.environ["MINDLINKS_BENCH_FLOOR_CONTRACTOR"])
    csrf = os.environ.get("MINDLINKS_BENCH_FLOOR_CSRF", "")
    template = environment().get_template("money/contractor_home.html")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await db.open()
        # As the platform does after start-up (app.py): the imported modules' objects stay
        # out of the garbage collector's full collections.
        gc.collect()
        gc.freeze()
        yield
        await db.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/bare")
    async def bare() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/floor/contractor")
    async def home() -> HTMLResponse:
        context = await home_context(db, user_id, contractor_id, csrf)
        return HTMLResponse(template.render(context), headers={"Cache-Control": "no-store"})

    return app


if __name__ == "__main__":
    uvicorn.run("bench.web_floor:create", factory=True,
                **uvicorn_options("127.0.0.1", int(os.environ["MINDLINKS_BENCH_FLOOR_PORT"]), 1))
