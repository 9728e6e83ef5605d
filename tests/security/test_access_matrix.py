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
from tests.factories import Account, register
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
                       flow: Any) -> tuple[set[str], list[str], dict[str, str]]:
    """The victim's data; returns the ids found, every body their list endpoints gave, and the
    headers of the victim's second contractor (the one part-way through KYC)."""
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
    licence = await ok(await client.post("/api/contractors/me/licenses", headers=c, json={
        "state": "CA", "licenseNumber": "C10-1", "licenseType": "electrical",
        "expirationDate": f"{utcnow().year + 1}-06-30"}))
    policy = await ok(await client.post("/api/contractors/me/insurance-policies", headers=c, json={
        "policyNumber": "GL-1", "coverageTypes": ["gl"],
        "expirationDate": f"{utcnow().year + 1}-06-30"}))
    for kind, item in (("licenses", licence), ("insurance-policies", policy)):  # their scans
        await ok(await client.put(f"/api/contractors/me/{kind}/{item['id']}/document", headers=c,
                                  files={"file": ("scan.pdf", PDF, "application/pdf")}))
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
    # Under a fee and FX quote, so the quote's id is the victim's too (`quoteId` in the list).
    offer = await ok(await client.post("/api/payments/contractor/me/withdrawals/quote",
                                       headers=c, json={"amount": "100.00", "currency": "USD",
                                                        "withdrawalMethodId": bank["id"],
                                                        "targetCurrency": "EUR"}))
    await ok(await client.post("/api/payments/contractor/me/withdrawals", headers={
        **c, "Idempotency-Key": str(uuid.uuid4())}, json={
        "amount": "100.00", "currency": "USD", "withdrawalMethodId": bank["id"],
        "quoteId": offer["quoteId"]}))
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
    return ids, bodies, k


# Path parameters that are not resource ids, and what an attacker puts in them. A route whose
# parameter is neither `…_id` nor listed here fails `test_every_path_parameter_is_classified`,
# so a new kind of route is classified (and attacked) the day it is added.
PARAM_VALUES: dict[str, tuple[str, ...]] = {
    # The journal's entity types a non-admin may read (their access policies); any other type
    # has no policy and is admin-only by construction (ledger.service._may_read).
    "entity_type": ("contract", "invoice", "timesheet"),
    "code": ("US",),  # country rules: shared reference data, admin-only writes
    "decision": ("approve", "reject"), "action": ("verify", "primary", "delete"),
    "kind": ("licenses", "insurance"), "outcome": ("succeed", "fail"),
}
# Parameters the victim's ids do not go into, and why no tenant can be reached through them.
NOT_TENANT_KEYED = {
    "token": "the invitation token is itself the secret (tests/clients/test_invitations.py)",
    "provider_name": "a provider's webhook inbox: signed by the provider, not a tenant",
    "key": "a signed file URL: key, expiry and signature (tests/platform/test_storage.py)",
    "name": "static assets and notification templates: shared by every tenant, the templates"
            " admin-only (tests/web/test_notification_template_pages.py)",
    "channel": "notification templates (as `name`)", "language": "notification templates",
}
# Operations no owner reaches with an id the victim harvest holds, and why that is right.
OWNER_UNREACHABLE = {
    ("GET", "/api/admin/contract-templates/{template_id}"): "shared catalogue (SHARED_KEYS)",
    ("GET", "/api/admin/notification-templates/{template_id}"): "shared catalogue",
}


def route_params(path: str) -> list[str]:
    return re.findall(r"\{([a-z_]+)(?::[a-z]+)?\}", path)


def id_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every operation whose path parameters are all resource ids or listed
    in PARAM_VALUES (the journal's `seq` takes the victim's journal positions)."""
    routes = []
    for path, operations in app.openapi()["paths"].items():
        params = route_params(path)
        if params and not set(params) & set(NOT_TENANT_KEYED):
            routes += [(method.upper(), path) for method in operations]
    return routes


def attack_paths(template: str, ids: set[str], seqs: list[int],
                 kinds: dict[str, set[str]] | None = None) -> list[str]:
    """Every concrete path of one route template: each id parameter takes each victim id (or,
    when `kinds` knows the parameter, each victim id of that kind), each other parameter each
    of its PARAM_VALUES; `seq` each of the victim's journal positions."""
    paths = [template]
    for param in route_params(template):
        if param.endswith("_id"):
            values = sorted((kinds or {}).get(param) or ids)
        elif param == "seq":
            values = [str(s) for s in seqs]
        else:  # a parameter with no tenant behind it (NOT_TENANT_KEYED) takes any value
            values = list(PARAM_VALUES.get(param, ("x",)))
        pattern = re.compile(r"\{" + param + r"(?::[a-z]+)?\}")
        paths = [pattern.sub(value, p, count=1) for p in paths for value in values]
    return paths


async def journal_seqs(client: httpx.AsyncClient, headers: dict[str, str]) -> list[int]:
    """Every position of the journal so far (all of it the victim's when taken first)."""
    digest = await client.get("/api/ledger/digest", headers=headers)
    assert digest.status_code == 200, digest.text
    return list(range(1, digest.json()["seq"] + 1))


def test_every_path_parameter_is_classified(app):
    """A new route whose path parameter is neither a resource id, nor given attack values, nor
    explained as not tenant-keyed fails here until it is classified - so the matrices below
    never skip it silently (API routes from the OpenAPI document, pages from the route table)."""
    known = set(PARAM_VALUES) | set(NOT_TENANT_KEYED) | {"seq"}
    unclassified = sorted(
        (path, param) for path in [*app.openapi()["paths"], *(p for p, _ in page_routes(app))]
        for param in route_params(path) if not param.endswith("_id") and param not in known)
    assert unclassified == [], unclassified


# Operations any signed-in user may call with any id, and why that reveals no tenant's data.
PUBLIC_BY_DESIGN = {
    ("GET", "/api/ledger/entries/{seq}/proof"): "an inclusion proof is hashes and sizes only, "
    "so anyone can check a receipt against a published digest (ledger/router.py); the entry "
    "itself (/api/ledger/entries/{seq}) is readable only under its entity's access policy",
}


def likely_owners(template: str, owners: dict[str, dict[str, str]]) -> list[dict[str, str]]:
    """The victim's accounts in the order most likely to own the route's resources (the path
    says whose it is); every account is tried, this only saves requests."""
    mine = re.search(r"/(client|contractor)s?/me\b", template)
    first = ("admin" if "/admin/" in template else "kyc" if "/kyc/" in template
             else mine.group(1) if mine else None)
    return [owners[first]] if first else list(owners.values())


async def victim_kinds(client: httpx.AsyncClient, routes: list[tuple[str, str]], ids: set[str],
                       seqs: list[int], owners: dict[str, dict[str, str]],
                       bodies: list[str] | None = None) -> tuple[dict[str, set[str]], list[str]]:
    """Which of the victim's ids each id parameter takes (`contract_id` -> the ids a victim
    account reads through a GET with that parameter), and the GET routes no victim account
    reached with any harvested id: the matrix is not vacuous only when that list is empty.
    Every body read is added to `bodies` when given."""
    kinds: dict[str, set[str]] = {}
    unreached = []
    for method, template in routes:
        if method != "GET" or (method, template) in OWNER_UNREACHABLE:
            continue
        params = route_params(template)
        single = len(params) == 1 and params[0].endswith("_id")
        reached = False
        for path in attack_paths(template, ids, seqs):
            for headers in likely_owners(template, owners):
                response = await client.get(path, headers=headers)
                if response.status_code == 200:
                    if bodies is not None:
                        bodies.append(response.text)
                    reached = True
                    if single:
                        kinds.setdefault(params[0], set()).add(path.rstrip("/").split("/")[
                            template.split("/").index("{" + params[0] + "}")])
                    break
            if reached and not single:
                break
        if not reached:
            unreached.append(template)
    return kinds, unreached


async def test_no_tenant_reaches_another_tenants_resources(app, client, make_party, flow,
                                                           admin):
    victim = await make_party()
    ids, _, kyc_headers = await build_victim(app, client, victim, flow)
    assert len(ids) >= 15, ids  # the harvest found the victim's data
    seqs = await journal_seqs(client, victim.client.headers)
    assert len(seqs) >= 5, seqs  # signatures, payments: the victim's journal entries

    routes = id_routes(app)
    assert len(routes) >= 60, routes
    # The matrix is not vacuous: every id route that reads answers 200 to the victim (or an
    # admin) for one of the harvested ids, so the attackers below try the right kinds of ids.
    owners = {"contractor": victim.contractor.headers, "client": victim.client.headers,
              "admin": admin.headers, "kyc": kyc_headers}
    kinds, unreached = await victim_kinds(client, routes, ids, seqs, owners)
    assert unreached == [], unreached
    money = {"withdrawal_id", "invoice_id", "deposit_id", "transfer_id", "payroll_id",
             "quote_id", "timesheet_id", "document_id", "contract_id"}
    assert money <= set(kinds), sorted(money - set(kinds))

    other = await make_party(legal_name="Rival Corp", contractor_name="Alan Turing")
    attackers = {"client": other.client.headers, "contractor": other.contractor.headers}
    leaks = []
    for method, template in routes:
        if (method, template) in PUBLIC_BY_DESIGN:
            continue
        # An id parameter with a read route takes every victim id of its kind (all of them:
        # `victim_kinds` scans every id); one without takes every victim id.
        for path in attack_paths(template, ids, seqs, kinds):
            for who, headers in attackers.items():
                body = None if method in ("GET", "DELETE") else {}
                response = await client.request(method, path, headers=headers, json=body)
                if response.status_code not in REFUSALS:
                    leaks.append((who, method, path, response.status_code,
                                  response.text[:200]))
    assert leaks == [], leaks


async def test_responses_and_logs_never_show_secrets(capsys, app, client, make_party, flow,
                                                     admin):
    """RELIABILITY 30 and 39: no password, token, full account/routing number or tax id in any
    response of the victim's own endpoints, in anything an admin reads about them (every
    admin list, every id read route with the victim's ids) or in any log line of the flow."""
    victim = await make_party()
    ids, bodies, kyc_headers = await build_victim(app, client, victim, flow)
    owners = {"contractor": victim.contractor.headers, "client": victim.client.headers,
              "admin": admin.headers, "kyc": kyc_headers}
    before = len(bodies)
    await victim_kinds(client, id_routes(app), ids, [], owners, bodies)
    for path in list_routes(app):
        if path.startswith("/api/admin/"):
            response = await client.get(path, headers=admin.headers, params={"limit": 100})
            assert response.status_code == 200, (path, response.text)
            bodies.append(response.text)
    assert len(bodies) - before >= 40  # the victim's details and the admin's views were read
    assert any("Acme Widgets" in body for body in bodies[before:])
    logs = capsys.readouterr()
    log_text = logs.out + logs.err
    assert '"request"' in log_text or "request " in log_text  # the access log was captured
    secrets = {
        "password": "correct horse battery staple", "account number": "000123456789",
        "routing number": "011000015", "tax id": "123456789",
        "company tax id": "GB987654321",  # tests/clients/conftest.py verified_company
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
    ids, _, _ = await build_victim(app, client, victim, flow)
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


def page_routes(app: Any) -> list[tuple[str, str]]:
    """(path, method) of every route outside the OpenAPI document (the dashboards' pages and
    forms, sandbox pages, signed files), walking the included routers as FastAPI does."""
    openapi = set(app.openapi()["paths"])

    def walk(routes: Any, prefix: str) -> Any:
        for route in routes:
            if hasattr(route, "original_router"):  # an included router
                yield from walk(route.original_router.routes, prefix + route.include_context.prefix)
            elif hasattr(route, "methods") and prefix + route.path not in openapi:
                for method in sorted(route.methods - {"HEAD"}):
                    yield prefix + route.path, method

    return [r for r in walk(app.routes, "") if r[0] not in ("/docs", "/redoc", "/openapi.json")]


async def test_no_page_shows_or_changes_another_tenants_resources(app, client, make_party, flow,
                                                                  admin):
    """RELIABILITY 29 for the dashboards: every page and form of the route table that takes a
    path parameter, opened by another company's client and contractor (signed in, with a valid
    CSRF token) with each of the victim's ids, answers a refusal and never names the victim;
    their pages without ids (dashboards, lists) show none of the victim's names or ids.
    The routes come from the app's route table, so a new page is attacked the day it is added;
    the victim's own browsers reach every id page (the attack tries ids of the right kinds)."""
    from tests.web.money import signed_in

    victim = await make_party()
    ids, _, kyc_headers = await build_victim(app, client, victim, flow)
    owners = {"contractor": victim.contractor.headers, "client": victim.client.headers,
              "admin": admin.headers, "kyc": kyc_headers}
    kinds, _ = await victim_kinds(client, id_routes(app), ids, [], owners)
    # The pages' own names for the API's kinds: a credential is a licence or a policy.
    kinds["item_id"] = kinds.get("license_id", set()) | kinds.get("policy_id", set())
    async with app.state.db.session() as session:
        from sqlalchemy import select

        from mindlinks.payments.models import Deposit

        kinds["intent_id"] = set((await session.scalars(select(Deposit.provider_ref))).all())
    assert kinds["intent_id"], "the victim's deposit has a provider intent"
    routes = [(path, method) for path, method in page_routes(app)
              if route_params(path) and not set(route_params(path)) & set(NOT_TENANT_KEYED)]
    assert len(routes) >= 40, routes
    names = ("Acme Widgets", "Ada Lovelace", "Katherine Johnson")

    # Every id page a signed-in victim opens (admin pages are the admin's: their role guard is
    # tested per role in tests/web/test_admin_pages.py and test_admin_review_pages.py).
    unreached = []
    async with signed_in(app, victim.contractor.email) as mine, \
            signed_in(app, victim.client.email) as ours:
        for path, method in routes:
            if method != "GET" or path.startswith(("/admin", "/kyc/sandbox", "/payments/sandbox")):
                continue
            reached = False
            for url in attack_paths(path, ids, [], kinds):
                for owner in (mine, ours):
                    if (await owner.get(url)).status_code in (200, 303):
                        reached = True
                        break
                if reached:
                    break
            if not reached:
                unreached.append(path)
    assert unreached == [], unreached

    other = await make_party(legal_name="Rival Corp", contractor_name="Alan Turing")
    leaks = []
    for who in (other.client, other.contractor):
        async with signed_in(app, who.email) as browser:
            assert (await browser.get("/notifications")).status_code == 200
            csrf = browser.cookies.get("ml_csrf")
            assert csrf, "no CSRF cookie"
            # The pages without ids (dashboards, lists, wallet, escrow...) name none of the
            # victim's people or company and carry none of their ids.
            for path, method in page_routes(app):
                if method != "GET" or route_params(path) or path.endswith("/stream"):
                    continue
                response = await browser.get(path)
                named = [n for n in names if n in response.text]
                shown = sorted(i for i in ids if i in response.text)
                if named or shown:
                    leaks.append((who.email, method, path, response.status_code, named, shown))
            for path, method in routes:
                for url in attack_paths(path, ids, [], kinds):
                    data = {"csrf_token": csrf} if method == "POST" else None
                    response = await browser.request(method, url, data=data)
                    named = [n for n in names if n in response.text]
                    assert "csrf_failed" not in response.text, url  # the form was judged
                    if response.status_code not in (400, 403, 404, 405, 422) or named:
                        leaks.append((who.email, method, url, response.status_code, named,
                                      response.headers.get("location")))
    assert leaks == [], leaks


async def test_every_admin_operation_refuses_other_roles_and_an_admin_without_mfa(app, client,
                                                                                  admin):
    """RELIABILITY 28 and 31 from the route table: every operation of the OpenAPI document under
    `/api/admin/` answers 403 to a client, a contractor (`forbidden_role`) and an admin whose
    session has no second factor (`mfa_required`), before it reads a body or an id; every
    admin page answers such an admin 403 too. An admin with MFA reads every admin list."""
    from mindlinks.auth import repository
    from mindlinks.auth.sessions import start_login

    async with app.state.db.session() as session:
        user = await repository.user_by_email(session, admin.email)
        assert user is not None
        half = await start_login(session, app.state.runtime, user, ["pwd"])
    callers = {
        "client": (Account(await register(client, "client")).headers, "forbidden_role"),
        "contractor": (Account(await register(client, "contractor")).headers, "forbidden_role"),
        "admin without MFA": ({"Authorization": f"Bearer {half.access_token}"}, "mfa_required"),
    }
    operations = [(method.upper(), path) for path, ops in app.openapi()["paths"].items()
                  if path.startswith("/api/admin/") for method in ops]
    assert len(operations) >= 30, operations
    wrong = []
    for method, template in operations:
        path = attack_paths(template, {str(uuid.uuid4())}, [1])[0]
        for who, (headers, code) in callers.items():
            response = await client.request(method, path, headers=headers,
                                             json=None if method in ("GET", "DELETE") else {})
            if response.status_code != 403 or response.json().get("code") != code:
                wrong.append((who, method, template, response.status_code, response.text[:120]))
        if method == "GET" and not route_params(template):
            listed = await client.get(path, headers=admin.headers)
            if listed.status_code != 200:
                wrong.append(("admin", method, template, listed.status_code, listed.text[:120]))

    # The admin pages and forms of the route table: the not-found page for other roles, 403 for
    # the admin without MFA (each POST with a valid CSRF token, so the guard is what answers).
    pages = [(path, method) for path, method in page_routes(app) if path.startswith("/admin")]
    assert len(pages) >= 30, pages
    transport = httpx.ASGITransport(app=app, client=("203.0.113.11", 50002))
    for who, (headers, _) in callers.items():
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as b:
            b.cookies.set("ml_access", headers["Authorization"].removeprefix("Bearer "))
            assert (await b.get("/")).status_code == 200
            csrf = b.cookies.get("ml_csrf")
            expected = 403 if who == "admin without MFA" else 404
            for template, method in pages:
                path = attack_paths(template, {str(uuid.uuid4())}, [1])[0]
                response = await b.request(method, path,
                                           data={"csrf_token": csrf} if method == "POST" else None)
                assert "csrf_failed" not in response.text, path
                if response.status_code != expected:
                    wrong.append((who, method, template, response.status_code, ""))
    assert wrong == [], wrong


# Fields a caller may never set on themselves, and the one operation that takes one of them
# (registration takes `role`, limited to contractor or client: tests/auth/test_register_login).
PRIVILEGED_FIELDS = {"role", "kycStatus", "feeRate", "fee", "balance", "availableBalance",
                     "passwordHash", "mfaSecret", "mfaEnabled", "isAdmin", "userId", "amr"}
PRIVILEGED_ALLOWED = {("POST", "/api/auth/register", "role")}


def test_no_request_body_takes_unknown_or_privileged_fields(app):
    """RELIABILITY 30 (BOPLA) over the whole OpenAPI document: every JSON request body refuses
    unknown fields (`additionalProperties: false`, a 422 - so `{"role": "admin"}` added to any
    body is refused, not ignored), and no body declares a privileged field."""
    spec = app.openapi()
    schemas = spec["components"]["schemas"]

    def bodies(schema: dict[str, Any]) -> list[dict[str, Any]]:
        if "$ref" in schema:
            return [schemas[schema["$ref"].rsplit("/", 1)[1]]]
        return [b for part in schema.get("anyOf", []) if part.get("type") != "null"
                for b in bodies(part)] or [schema]

    open_bodies, privileged, checked = [], [], 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            for body in bodies(content.get("application/json", {}).get("schema", {})):
                if not body:
                    continue
                checked += 1
                if body.get("additionalProperties") is not False:
                    open_bodies.append((method.upper(), path))
                privileged += [(method.upper(), path, field) for field in body.get(
                    "properties", {}) if field in PRIVILEGED_FIELDS
                    and (method.upper(), path, field) not in PRIVILEGED_ALLOWED]
    assert checked >= 40, checked
    assert open_bodies == [] and privileged == [], (open_bodies, privileged)
