"""The data of the contractor-home bench (`bench/web_bench.py`): N contractors in bulk INSERTs
into a database whose schema `mindlinks migrate` created.

Every contractor has a user (all sharing ONE precomputed argon2 hash: hashing 10k passwords
would take minutes and measure nothing), a profile, a bank account, contracts with a payment
schedule, notifications, a wallet account with work credits (transfers) and invoice holds, so
the indexes the home page's queries use have other contractors' rows to skip. The measured
contractor (the first) has more of everything: 8 contracts from 8 companies (4 active), 40
notifications, 24 monthly credits and open holds.

Rows go through SQLAlchemy Core on the models' own tables (types, UUIDs and timestamps as the
platform writes them, on SQLite and PostgreSQL alike), a few thousand rows per statement.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine

from mindlinks.models import load_all
from mindlinks.platform.security import hash_password

PASSWORD = "correct horse battery staple"
MEASURED_EMAIL = "c0@bench.example"
MEASURED_NAME = "Amira Haddad"
CLIENTS = 200
CHUNK = 2000
STATUSES = ["active", "active", "completed", "active", "pending", "active", "draft",
            "terminated"]
TYPES = ["hourly", "fixed", "milestone"]


@dataclass(frozen=True)
class Seeded:
    user_id: uuid.UUID
    contractor_id: uuid.UUID
    email: str
    contract_titles: list[str]  # the measured contractor's, newest first


def _ids(n: int) -> list[uuid.UUID]:
    return [uuid.uuid4() for _ in range(n)]


def _months_ago(now: datetime, n: int) -> datetime:
    day = now.replace(day=1, hour=12, minute=0, second=0, microsecond=0)
    for _ in range(n):
        day = (day - timedelta(days=1)).replace(day=1)
    return day


async def seed(url: str, contractors: int) -> Seeded:
    tables = load_all().metadata.tables
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.date()
    pw_hash = hash_password(PASSWORD)  # once, for every user
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in (
        "auth_users", "contractor_profiles", "client_companies", "contractor_bank_details",
        "contracts", "contract_payment_schedule", "notification_notifications",
        "payment_accounts", "payment_transfers", "payment_invoice_holds")}
    stamps = {"created_at": now, "updated_at": now}

    def user(uid: uuid.UUID, email: str, role: str, name: str) -> None:
        rows["auth_users"].append({
            "id": uid, "email": email, "password_hash": pw_hash, "role": role,
            "status": "active", "email_verified": True, "name": name, "mfa_enabled": False,
            **stamps})

    def account(owner_type: str, owner: uuid.UUID, purpose: str, credits: int = 0,
                debits: int = 0) -> uuid.UUID:
        aid = uuid.uuid4()
        rows["payment_accounts"].append({
            "id": aid, "owner_type": owner_type, "owner_id": owner, "purpose": purpose,
            "currency": "USD", "may_go_negative": purpose == "client_escrow",
            "debits_pending": 0, "debits_posted": debits, "credits_pending": 0,
            "credits_posted": credits, **stamps})
        return aid

    client_users, companies = _ids(CLIENTS), _ids(CLIENTS)
    escrows = []
    for i, (uid, cid) in enumerate(zip(client_users, companies, strict=True)):
        user(uid, f"client{i}@bench.example", "client", f"Client {i}")
        rows["client_companies"].append({
            "id": cid, "user_id": uid, "legal_name": f"Company {i} Ltd", "country": "GB",
            "business_type": "llc", "tax_id_enc": "x", "tax_id_hint": "1234",
            "address": {"line1": "1 Road", "city": "London", "postalCode": "N1",
                        "country": "GB"},
            "verification_status": "verified", "invoice_net_terms_days": 14, **stamps})
        escrows.append(account("client", cid, "client_escrow"))
    template_id: uuid.UUID | None = None
    titles: list[str] = []
    serial = 0
    for n in range(contractors):
        measured = n == 0
        uid, pid = uuid.uuid4(), uuid.uuid4()
        name = MEASURED_NAME if measured else f"Contractor {n}"
        user(uid, f"c{n}@bench.example", "contractor", name)
        rows["contractor_profiles"].append({
            "id": pid, "user_id": uid, "email": f"c{n}@bench.example", "name": name,
            "phone": "+447700900000", "country": "GB", "timezone": "Europe/London",
            "kyc_status": "verified" if n % 3 or measured else "pending", "status": "active",
            "legal_name": name, "address_line1": "2 Street", "address_city": "Leeds",
            "address_postal_code": "LS1", "address_country": "GB",
            "first_contract_signed_at": now - timedelta(days=300), **stamps})
        rows["contractor_bank_details"].append({
            "id": uuid.uuid4(), "contractor_id": pid, "account_holder_name": name,
            "bank_name": "Bench Bank", "currency": "USD", "country": "GB",
            "account_type": "checking", "account_number_last4": "6789", "is_primary": True,
            "verification_method": "micro_deposits",
            "status": "verified" if n % 4 else "pending_verification",
            "verification_attempts": 0, "name_mismatch": False, **stamps})
        n_contracts, n_notes, n_credits, n_holds = (8, 40, 24, 4) if measured else (2, 5, 3, 2)
        for k in range(n_contracts):
            serial += 1
            status = STATUSES[k % len(STATUSES)]
            company = (n * 7 + k * 13) % CLIENTS
            kid = uuid.uuid4()
            title = f"Contract {k} of {name}"
            if measured:
                titles.append(title)
            rows["contracts"].append({
                "id": kid, "client_id": companies[company],
                "client_user_id": client_users[company], "contractor_id": pid,
                "contractor_user_id": uid, "template_id": template_id, "type": TYPES[k % 3],
                "model": "direct", "title": title, "description": "Bench work",
                "rate_minor": 4000 + 500 * k, "currency": "USD", "frequency": "monthly",
                "start_date": today - timedelta(days=200), "terms": {}, "status": status,
                "created_at": now - timedelta(minutes=serial), "updated_at": now})
            if status == "active":
                for m in (-1, 1, 2, 3):
                    rows["contract_payment_schedule"].append({
                        "id": uuid.uuid4(), "contract_id": kid,
                        "due_date": today + timedelta(days=30 * m + k),
                        "amount_minor": 100000, "currency": "USD",
                        "status": "paid" if m < 0 else "scheduled", **stamps})
        for k in range(n_notes):
            rows["notification_notifications"].append({
                "id": uuid.uuid4(), "user_id": uid, "type": "payment_received",
                "title": f"Payment received: $5,000 from Company {k} Ltd",
                "message": "Your December payment has been posted to your wallet.",
                "read": k % 3 == 0, "data": {}, "action_url": "/wallet" if k % 2 else None,
                "created_at": now - timedelta(hours=k * 5 + (n % 50)), "updated_at": now})
        credited = 0
        wallet_id = uuid.uuid4()
        for k in range(n_credits):
            amount = 250000 + 1000 * k
            credited += amount
            rows["payment_transfers"].append({
                "id": uuid.uuid4(), "reference": f"post:{n}:{k}", "code": "invoice_hold",
                "kind": "post", "debit_account_id": escrows[(n + k) % CLIENTS],
                "credit_account_id": wallet_id, "amount": amount, "currency": "USD",
                "status": "posted", "created_at": _months_ago(now, k), "updated_at": now})
        rows["payment_accounts"].append({
            "id": wallet_id, "owner_type": "contractor", "owner_id": pid,
            "purpose": "contractor_wallet", "currency": "USD", "may_go_negative": False,
            "debits_pending": 0, "debits_posted": credited // 3, "credits_pending": 0,
            "credits_posted": credited, **stamps})
        for k in range(n_holds):
            company = (n + k) % CLIENTS
            rows["payment_invoice_holds"].append({
                "id": uuid.uuid4(), "invoice_id": uuid.uuid4(), "invoice_number": f"B-{n}-{k}",
                "client_id": companies[company], "client_user_id": client_users[company],
                "client_name": f"Company {company} Ltd", "contract_id": uuid.uuid4(),
                "contractor_id": pid, "contractor_user_id": uid, "amount": 120000 + k,
                "currency": "USD", "issue_date": today - timedelta(days=10 * k),
                "due_date": today + timedelta(days=14), "issued_at": now - timedelta(days=10 * k),
                "status": ("held", "awaiting_funding", "released", "released")[k % 4],
                "reference": f"hold:{n}:{k}", **stamps})
        if measured:
            first = (uid, pid)

    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            # Any contract template will do: the home page never reads it.
            template_id = (await conn.exec_driver_sql(
                "SELECT id FROM contract_templates LIMIT 1")).scalar_one()
            template_id = uuid.UUID(str(template_id))
            for row in rows["contracts"]:
                row["template_id"] = template_id
            for name, batch in rows.items():
                for i in range(0, len(batch), CHUNK):
                    await conn.execute(insert(tables[name]), batch[i:i + CHUNK])
            if conn.dialect.name == "postgresql":
                # Planner statistics, as autovacuum would have them on a live database.
                await conn.exec_driver_sql("ANALYZE")
    finally:
        await engine.dispose()
    return Seeded(user_id=first[0], contractor_id=first[1], email=MEASURED_EMAIL,
                  contract_titles=titles)


def seeded_counts(contractors: int) -> str:
    """What `seed` writes, for the bench's header line."""
    others = contractors - 1
    return (f"{contractors} contractors, {CLIENTS} client companies, "
            f"{8 + 2 * others} contracts, {40 + 5 * others} notifications, "
            f"{24 + 3 * others} wallet credits, {4 + 2 * others} invoice holds")


