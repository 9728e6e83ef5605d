"""The floor of web_bench: the contractor home page (`/contractor`) rendered by a bare FastAPI
app served by its own `uvicorn.run` with the options `mindlinks serve` uses
(`cli.uvicorn_options`), in its own process.

It reads the same rows the platform's page reads - the language preference included, in ONE
hand-written statement as the platform does (one round trip) - with the raw driver
(aiosqlite / asyncpg): no auth, no ORM, no middleware, no Pydantic. It renders THE SAME template
(`web/templates/money/contractor_home.html` and what it includes) with the platform's own
Jinja2 environment object (`web.pages.templates.env`: autoescape, i18n in the user's
language, the `money` filter, the `css_version` global), from a context of the same
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
from mindlinks.web.i18n import LANGUAGES, use

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


def _step_states(row: Any) -> dict[str, str]:
    """contractors/onboarding.py's statuses (the page shows statuses, not the messages)."""
    filled = sum(1 for i in range(len(PROFILE_COLUMNS)) if row[3 + i])
    kyc, usable, any_bank, tax = row[1], row[12], row[13], row[14]
    return {
        "profile": "completed" if filled == len(PROFILE_COLUMNS)
        else ("in_progress" if filled else "not_started"),
        "identity": "completed" if kyc == "verified"
        else ("in_progress" if kyc in ("pending", "rejected") else "not_started"),
        "bank_account": "completed" if usable else ("in_progress" if any_bank else "not_started"),
        "tax_form": "not_started" if tax is None
        else ("completed" if tax == "approved" else "in_progress"),
        "first_contract": "completed" if row[2] else "not_started",
    }


# The whole page in one statement, as the platform reads it (one round trip): the profile
# with its onboarding facts, the user's name and language, the inbox counts and the earnings
# side by side, and the two lists lined up by position on numbered slots.
ROWS = max(HOME_CONTRACTS, HOME_ACTIVITY)
HOME_SQL = (
    "SELECT p.id, p.kyc_status, p.first_contract_signed_at, "
    f"{', '.join('p.' + c for c in PROFILE_COLUMNS)}, "
    "EXISTS (SELECT 1 FROM contractor_bank_details b WHERE b.contractor_id = p.id "
    "AND b.deleted_at IS NULL AND b.status = 'verified' AND NOT b.name_mismatch), "
    "EXISTS (SELECT 1 FROM contractor_bank_details b WHERE b.contractor_id = p.id "
    "AND b.deleted_at IS NULL), "
    "(SELECT t.status FROM contractor_tax_info t WHERE t.contractor_id = p.id "
    "ORDER BY t.submitted_at DESC, t.id LIMIT 1), "
    "u.name, pref.language, "
    "(SELECT count(*) FROM notification_notifications WHERE user_id = u.id), "
    "(SELECT count(*) FROM notification_notifications WHERE user_id = u.id AND NOT read), "
    "e.currency, e.available, e.earned, e.this_month, e.last_month, e.pending, "
    "c.id, c.title, c.status, c.type, c.rate_minor, c.currency, c.frequency, c.legal_name, "
    "c.next_payment, c.total, "
    "n.title, n.message, n.read, n.action_url, n.created_at "
    "FROM contractor_profiles p JOIN auth_users u ON u.id = p.user_id "
    "LEFT JOIN notification_preferences pref ON pref.user_id = u.id "
    "CROSS JOIN (SELECT cur.currency, "
    "coalesce(w.credits_posted - w.debits_posted - w.debits_pending, 0) AS available, "
    "coalesce((SELECT sum(amount) FROM payment_transfers t WHERE t.credit_account_id = w.id "
    "AND t.kind = 'post' AND t.code = 'invoice_hold'), 0) AS earned, "
    "coalesce((SELECT sum(amount) FROM payment_transfers t WHERE t.credit_account_id = w.id "
    "AND t.kind = 'post' AND t.code = 'invoice_hold' AND t.created_at >= ?), 0) AS this_month, "
    "coalesce((SELECT sum(amount) FROM payment_transfers t WHERE t.credit_account_id = w.id "
    "AND t.kind = 'post' AND t.code = 'invoice_hold' AND t.created_at >= ? "
    "AND t.created_at < ?), 0) AS last_month, "
    "coalesce((SELECT sum(amount) FROM payment_invoice_holds h WHERE h.contractor_id = ? "
    "AND h.status IN ('awaiting_funding', 'held') AND h.currency = cur.currency), 0) "
    "AS pending "
    "FROM (SELECT coalesce((SELECT currency FROM payment_invoice_holds WHERE contractor_id = ? "
    "ORDER BY issued_at DESC LIMIT 1), 'USD') AS currency) cur "
    "LEFT JOIN payment_accounts w ON w.owner_type = 'contractor' AND w.owner_id = ? "
    "AND w.purpose = 'contractor_wallet' AND w.currency = cur.currency) e "
    f"CROSS JOIN ({' UNION ALL '.join(f'SELECT {n} AS n' for n in range(1, ROWS + 1))}) s "
    "LEFT JOIN (SELECT c.id, c.title, c.status, c.type, c.rate_minor, c.currency, "
    "c.frequency, co.legal_name, (SELECT min(due_date) FROM contract_payment_schedule ps "
    "WHERE ps.contract_id = c.id AND ps.due_date >= ? AND ps.status = 'scheduled') "
    "AS next_payment, count(*) OVER () AS total, "
    "row_number() OVER (ORDER BY c.created_at DESC, c.id) AS pos "
    "FROM contracts c LEFT JOIN client_companies co ON co.id = c.client_id "
    "WHERE c.contractor_id = ? ORDER BY c.created_at DESC, c.id LIMIT ?) c ON c.pos = s.n "
    "LEFT JOIN (SELECT title, message, read, action_url, created_at, "
    "row_number() OVER (ORDER BY created_at DESC, id DESC) AS pos "
    "FROM notification_notifications WHERE user_id = ? "
    "ORDER BY created_at DESC, id DESC LIMIT ?) n ON n.pos = s.n "
    "WHERE u.id = ? ORDER BY s.n")


async def home_context(db: RawDb, user_id: uuid.UUID, contractor_id: uuid.UUID,
                       csrf: str) -> dict[str, Any]:
    """The page's context, of the shape `web/contractor_pages.contractor_home` builds."""
    now = datetime.now(UTC)
    today = now.date()
    this_month = datetime.combine(today.replace(day=1), time.min, UTC)
    last_month = datetime.combine((today.replace(day=1) - timedelta(days=1)).replace(day=1),
                                  time.min, UTC)
    rows = await db.tuples(HOME_SQL, this_month, last_month, this_month, contractor_id,
                           contractor_id, contractor_id, today, contractor_id, HOME_CONTRACTS,
                           user_id, HOME_ACTIVITY, user_id)
    first = rows[0]
    states = _step_states(first)
    steps = [SimpleNamespace(key=k, title=t, status=states[k]) for k, t in STEPS]
    done = [s for s in steps if s.status == "completed"]
    profile_status = ("completed" if len(done) == len(steps)
                      else "in_progress" if done else "pending")
    lang = first[16] if first[16] in LANGUAGES else "en"
    use(lang)

    contracts = [SimpleNamespace(
        id=uuid.UUID(str(r[25])), title=r[26], status=r[27], type=r[28],
        rate=from_minor(r[29], r[30]), currency=r[30], frequency=r[31], client_name=r[32],
        next_payment_date=_day(r[33]) if r[27] == "active" else None)
        for r in rows if r[25] is not None]
    inbox = SimpleNamespace(
        data=[SimpleNamespace(title=r[35], message=r[36], read=bool(r[37]), action_url=r[38],
                              created_at=_when(r[39])) for r in rows if r[39] is not None],
        meta=SimpleNamespace(total=first[17], unread=int(first[18])))
    currency = first[19]
    total, available, earned, this, last, pending = (int(v) for v in (
        first[34] or 0, first[20], first[21], first[22], first[23], first[24]))
    earnings = SimpleNamespace(
        total_earned=from_minor(earned, currency), this_month=from_minor(this, currency),
        last_month=from_minor(last, currency), pending_payments=from_minor(pending, currency),
        available_balance=from_minor(available, currency), currency=currency)

    from mindlinks.web.checklists import CONTRACTOR_MORE_PAGES, CONTRACTOR_STEP_PAGES
    from mindlinks.web.pages import HTMX_FILE

    return {  # `pages.render`'s own keys first
        "actor": SimpleNamespace(role="contractor"), "csrf_token": csrf, "lang": lang,
        "dir": "rtl" if lang == "ar" else "ltr", "htmx_file": HTMX_FILE, "here": "/contractor",
        "user": SimpleNamespace(name=first[15]), "kyc_status": first[1],
        "profile_status": profile_status, "checklist": SimpleNamespace(steps=steps),
        "step_pages": CONTRACTOR_STEP_PAGES, "more_pages": CONTRACTOR_MORE_PAGES,
        "contracts": contracts, "contracts_total": total,
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
