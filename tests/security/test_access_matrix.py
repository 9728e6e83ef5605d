"""RELIABILITY.md 29 (BOLA matrix): every route of the OpenAPI document that takes resource
ids, called by another tenant with the ids of a victim's resources, never answers 2xx.

The victim is a client company with a linked contractor, owning one of everything the API
lets them create (profile, bank account, licence, insurance policy, tax form, company
document, invitation, KYC session and document, active and milestone contracts,
notifications). Their ids are harvested from what the victim's own list endpoints return;
the routes come from the OpenAPI document, so a new route is covered the day it is added.
The attackers are another client and another contractor (a different company and its
contractor). Bodies are `{}`: a route that validates the body before looking the resource
up answers 422, which is not a leak; one that looks it up answers 404 (or 403 for a role
it does not serve)."""

from __future__ import annotations

import contextlib
import re
import uuid
from datetime import date
from typing import Any

import httpx

from mindlinks.contractors import service as contractors
from mindlinks.platform.db import utcnow
from tests.contractors.conftest import statement_amounts
from tests.contracts.conftest import Party
from tests.factories import register
from tests.payments.withdrawal_helpers import fund
from tests.platform.samples import MINIMAL_PDF

ID_PARAM = re.compile(r"\{([a-z_]+)\}")
# Ids of shared catalogue rows any client may read, not tenant data.
SHARED_KEYS = {"templateId"}
# Answers that reveal nothing about another tenant's resource.
REFUSALS = {401, 403, 404, 405, 422}
PDF = MINIMAL_PDF  # a well-formed PDF: uploads are parsed, not scanned


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def harvest(value: Any, into: set[str], key: str = "") -> None:
    """Every UUID under a key `id` or `…Id` in a JSON document."""
    if isinstance(value, dict):
        for k, v in value.items():
            harvest(v, into, k)
    elif isinstance(value, list):
        for v in value:
            harvest(v, into, key)
    elif isinstance(value, str) and (key == "id" or key.endswith("Id")) and key not in SHARED_KEYS:
        with contextlib.suppress(ValueError):
            into.add(str(uuid.UUID(value)))


async def build_victim(app: Any, client: httpx.AsyncClient, party: Party,
                       flow: Any) -> tuple[set[str], list[str]]:
    """The victim's data; returns the ids found and every body their list endpoints gave."""
    c, a = party.contractor.headers, party.client.headers

    async def ok(response: httpx.Response) -> dict[str, Any]:
        assert response.status_code in (200, 201, 202), response.text
        return response.json()  # type: ignore[no-any-return]

    # The contractor's onboarding data.
    await ok(await client.put("/api/contractors/me", headers=c, json={
        "phone": "+14155552671", "country": "US", "timezone": "America/New_York",
        "legalName": "Ada Lovelace"}))
    bank = await ok(await client.post("/api/contractors/me/bank-accounts", headers=c, json={
        "accountHolderName": "Ada Lovelace", "bankName": "First Bank", "currency": "USD",
        "country": "US", "accountNumber": "000123456789", "routingNumber": "011000015"}))
    await ok(await client.post("/api/contractors/me/licenses", headers=c, json={
        "state": "CA", "licenseNumber": "C10-1", "licenseType": "electrical",
        "expirationDate": f"{utcnow().year + 1}-06-30"}))
    await ok(await client.post("/api/contractors/me/insurance-policies", headers=c, json={
        "policyNumber": "GL-1", "coverageTypes": ["gl"],
        "expirationDate": f"{utcnow().year + 1}-06-30"}))
    await ok(await client.post("/api/contractors/me/tax-info", headers=c, data={
        "taxId": "123456789", "taxCountry": "US"},
        files={"taxForm": ("w9.pdf", PDF, "application/pdf")}))
    # The company's data.
    await ok(await client.post("/api/clients/me/documents", headers=a, data={
        "type": "incorporation_certificate"},
        files={"file": ("inc.pdf", PDF, "application/pdf")}))
    await ok(await client.post("/api/clients/me/invitations", headers=a, json={
        "email": f"new-{uuid.uuid4().hex[:8]}@example.com"}))
    # Contracts: an active fixed one (signatures, journal entries) and a milestone one.
    templates = (await ok(await client.get("/api/contract-templates", headers=a)))["data"]
    by_type = {t["type"]: t["id"] for t in templates}
    await flow.active(party, by_type["fixed"])
    from mindlinks.invoices import jobs as invoice_jobs

    await invoice_jobs.issue_due(app.state.db, date(2026, 2, 1))  # its first invoice
    await app.state.dispatcher.drain()  # its hold (awaiting funding)
    from mindlinks.payments import payroll

    await payroll.run(app.state.db, date(2026, 2, 15))  # a payroll run (its item fails)
    await flow.sent(party, by_type["milestone"], type="milestone", rate=3000, milestones=[
        {"title": "Design", "amount": 1000, "dueDate": "2026-02-01"},
        {"title": "Build", "amount": 2000}])
    # An hourly contract with a submitted timesheet.
    hourly = await flow.active(party, by_type["hourly"], type="hourly", rate=50,
                               startDate="2024-11-01", endDate=None)
    await ok(await client.post("/api/timesheets", headers=c, json={
        "contractId": hourly["id"], "weekEnding": "2024-12-07",
        "entries": [{"date": "2024-12-02", "hours": 8, "description": "API work"}]}))
    # A second contractor of the victim's, part-way through identity verification.
    kyc_user = await register(client, "contractor", name="Katherine Johnson")
    k = {"Authorization": f"Bearer {kyc_user['accessToken']}"}
    await ok(await client.post("/api/kyc/contractor/me/start", headers=k))
    await ok(await client.post("/api/kyc/contractor/me/documents", headers=k, data={
        "documentType": "passport"}, files={"file": ("id.png", _png(), "image/png")}))
    # The company's escrow, funded by a card deposit through the sandbox provider.
    deposit = await ok(await client.post(
        "/api/payments/client/me/deposits", json={"amount": "100.00", "currency": "USD",
                                                  "method": "card"},
        headers={**a, "Idempotency-Key": str(uuid.uuid4())}))
    await ok(await client.post(
        f"/api/payments/sandbox/intents/{deposit['paymentIntentId']}/succeed",
        params={"token": deposit["hostedUrl"].split("token=")[1]}))
    # A withdrawal: the bank account verified, identity verified, money in the wallet.
    await ok(await client.post(f"/api/contractors/me/bank-accounts/{bank['id']}/verify",
                               headers=c, json={"amounts": statement_amounts(app, bank["id"])}))
    async with app.state.db.session() as session:
        await contractors.set_kyc_status(session, uuid.UUID(party.contractor_id), "verified")
    await fund(app, uuid.UUID(party.contractor_id), 50_000)
    await ok(await client.post("/api/payments/contractor/me/withdrawals", headers={
        **c, "Idempotency-Key": str(uuid.uuid4())}, json={
        "amount": "100.00", "currency": "USD", "withdrawalMethodId": bank["id"]}))
    await app.state.dispatcher.drain()  # notifications of all the above

    ids: set[str] = set()
    bodies: list[str] = []
    for headers, paths in (
        (c, ["/api/contractors/me", "/api/contractors/me/bank-accounts",
             "/api/contractors/me/licenses", "/api/contractors/me/insurance-policies",
             "/api/contractors/me/tax-info", "/api/contractors/me/documents",
             "/api/notifications/me", "/api/contracts/contractor/me",
             "/api/timesheets/contractor/me", "/api/payments/contractor/me/invoices",
             "/api/payments/contractor/me/withdrawals"]),
        (a, ["/api/clients/me", "/api/clients/me/documents", "/api/clients/me/invitations",
             "/api/clients/me/contractors", "/api/contracts/client/me",
             "/api/timesheets/client/me", "/api/notifications/me",
             "/api/payments/client/me/invoices", "/api/payments/client/me/escrow",
             "/api/payments/client/me/payrolls"]),
        (k, ["/api/kyc/contractor/me/status", "/api/kyc/contractor/me/documents"]),
    ):
        for path in paths:
            response = await client.get(path, headers=headers)
            bodies.append(response.text)
            harvest(await ok(response), ids)
    harvest(deposit, ids)
    contracts = (await ok(await client.get("/api/contracts/client/me", headers=a)))["data"]
    for contract in contracts:  # details carry milestone ids
        harvest(await ok(await client.get(f"/api/contracts/{contract['id']}", headers=a)), ids)
    return ids, bodies


def id_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every operation whose path parameters are all resource ids."""
    routes = []
    for path, operations in app.openapi()["paths"].items():
        params = ID_PARAM.findall(path)
        if params and all(p.endswith("_id") for p in params):
            routes += [(method.upper(), path) for method in operations]
    return routes


async def test_no_tenant_reaches_another_tenants_resources(app, client, make_party, flow):
    victim = await make_party()
    ids, _ = await build_victim(app, client, victim, flow)
    assert len(ids) >= 15, ids  # the harvest found the victim's data

    other = await make_party(legal_name="Rival Corp", contractor_name="Alan Turing")
    attackers = {"client": other.client.headers, "contractor": other.contractor.headers}
    routes = id_routes(app)
    assert len(routes) >= 30, routes

    leaks = []
    for method, template in routes:
        for victim_id in ids:
            path = ID_PARAM.sub(victim_id, template)
            for who, headers in attackers.items():
                body = None if method in ("GET", "DELETE") else {}
                response = await client.request(method, path, headers=headers, json=body)
                if response.status_code not in REFUSALS:
                    leaks.append((who, method, template, victim_id, response.status_code,
                                  response.text[:200]))
    assert leaks == [], leaks


async def test_responses_and_logs_never_show_secrets(capsys, app, client, make_party, flow):
    """RELIABILITY 30 and 39: no password, token, full account/routing number or tax id in any
    response of the victim's own endpoints or in any log line of the whole flow."""
    victim = await make_party()
    _, bodies = await build_victim(app, client, victim, flow)
    logs = capsys.readouterr()
    log_text = logs.out + logs.err
    assert '"request"' in log_text or "request " in log_text  # the access log was captured
    secrets = {
        "password": "correct horse battery staple", "account number": "000123456789",
        "routing number": "011000015", "tax id": "123456789",
        "access token": victim.contractor.token, "client token": victim.client.token,
    }
    for name, secret in secrets.items():
        assert secret not in log_text, f"{name} in the logs"
        for body in bodies:
            assert secret not in body, f"{name} in a response: {body[:200]}"
    for body in bodies:
        assert "passwordHash" not in body and "mfaSecret" not in body


def list_routes(app: Any) -> list[str]:
    """Every GET path of the OpenAPI document without path parameters: the lists and `me`
    documents whose scoping is a query filter rather than an id lookup."""
    routes = []
    for path, operations in app.openapi()["paths"].items():
        get = operations.get("get")
        # A live stream never ends; it carries only the caller's own notifications (tests/
        # notifications/test_stream.py checks that).
        if get and not ID_PARAM.search(path) and "text/event-stream" not in str(
                get.get("responses", {}).get("200", {})):
            routes.append(path)
    return routes


async def test_no_list_shows_another_tenants_rows(app, client, make_party, flow):
    """Another client's `/api/contracts/client/me`, another contractor's bank accounts, ...:
    every list an attacker can read holds none of the victim's ids."""
    victim = await make_party()
    ids, _ = await build_victim(app, client, victim, flow)
    assert len(ids) >= 15, ids

    other = await make_party(legal_name="Rival Corp", contractor_name="Alan Turing")
    await flow.active(other, (await client.get("/api/contract-templates", headers=(
        other.client.headers))).json()["data"][0]["id"])  # the attackers' lists are not empty
    attackers = {"client": other.client.headers, "contractor": other.contractor.headers}
    routes = list_routes(app)
    assert {"/api/contracts/client/me", "/api/contracts/contractor/me",
            "/api/contractors/me/bank-accounts", "/api/notifications/me"} <= set(routes)

    leaks, read = [], 0
    for path in routes:
        for who, headers in attackers.items():
            response = await client.get(path, headers=headers, params={"limit": 100})
            if response.status_code != 200 or "json" not in response.headers.get(
                    "content-type", ""):
                continue
            read += 1
            seen: set[str] = set()
            harvest(response.json(), seen)
            if seen & ids:
                leaks.append((who, path, sorted(seen & ids)))
    assert read >= 15, read  # the attackers really read their own lists
    assert leaks == [], leaks


async def test_an_admin_without_mfa_sees_no_contract(app, client, make_party, flow):
    """Administrators see every contract only once signed in with MFA: a user made admin whose
    session has no second factor (amr = pwd) is refused like any stranger (404)."""
    from sqlalchemy import update

    from mindlinks.auth.models import User

    party = await make_party()
    templates = (await client.get("/api/contract-templates", headers=party.client.headers)
                 ).json()["data"]
    contract = await flow.active(party, templates[0]["id"])
    promoted = await register(client, "client", name="Eve Admin")
    async with app.state.db.session() as session:
        await session.execute(update(User).where(User.id == uuid.UUID(promoted["user"]["id"]))
                              .values(role="admin"))
    headers = {"Authorization": f"Bearer {promoted['accessToken']}"}
    for path in (f"/api/contracts/{contract['id']}", f"/api/contracts/{contract['id']}/verify"):
        response = await client.get(path, headers=headers)
        assert response.status_code in (403, 404), (path, response.status_code, response.text)
    detail = await client.get(f"/api/contracts/{contract['id']}", headers=headers)
    assert detail.status_code == 404
