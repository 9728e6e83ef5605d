"""Errors answered as problem+json by the platform's handlers are rendered as pages (in the
page's language) when a browser asks for a page: htmx requests (`HX-Request`) and requests
accepting `text/html` to the pages' routes (web/setup.py). The API keeps its JSON."""

from __future__ import annotations

import httpx

from tests.factories import PASSWORD, register
from tests.web.conftest import csrf_of

HX_BOOSTED = {"HX-Request": "true", "HX-Boosted": "true", "HX-Current-URL":
              "https://testserver/login?next=/profile"}


async def _expired_csrf_post(browser: httpx.AsyncClient, email: str,
                             headers: dict[str, str]) -> httpx.Response:
    page = await browser.get("/login")
    assert page.status_code == 200
    csrf_of(page)
    # The browser's CSRF cookie changed since the form was rendered (expired, another tab):
    return await browser.post("/login", headers=headers, data={
        "email": email, "password": PASSWORD, "csrf_token": "stale.0000"})


async def test_a_refused_csrf_token_in_a_boosted_form_is_an_arabic_page(
        browser: httpx.AsyncClient, client: httpx.AsyncClient):
    account = await register(client, "contractor")
    browser.cookies.set("ml_lang", "ar")
    refused = await _expired_csrf_post(browser, account["user"]["email"], HX_BOOSTED)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    assert '<html lang="ar" dir="rtl">' in refused.text
    assert "انتهت صلاحية النموذج" in refused.text or "أعد تحميل الصفحة" in refused.text
    assert "mindlinks.dev/problems" not in refused.text  # not the JSON body
    assert 'data-code="csrf_failed"' in refused.text
    assert 'href="/login?next=/profile"' in refused.text  # back to where the form was
    # Its forms (the language switch) carry the browser's current token: they work.
    assert csrf_of(refused) == browser.cookies["ml_csrf"]


async def test_english_page_and_fragment_for_a_partial_htmx_request(
        browser: httpx.AsyncClient, client: httpx.AsyncClient):
    account = await register(client, "contractor")
    page = await _expired_csrf_post(browser, account["user"]["email"],
                                    {"Accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in page.text and "Reload the page" in page.text
    fragment = await _expired_csrf_post(browser, account["user"]["email"],
                                        {"HX-Request": "true"})
    assert fragment.status_code == 403
    assert "<html" not in fragment.text and 'role="alert"' in fragment.text


async def test_the_api_and_non_browser_clients_keep_problem_json(
        browser: httpx.AsyncClient, client: httpx.AsyncClient):
    account = await register(client, "contractor")
    plain = await _expired_csrf_post(browser, account["user"]["email"], {})
    assert plain.status_code == 403
    assert plain.headers["content-type"] == "application/problem+json"
    assert plain.json()["code"] == "csrf_failed"
    api = await browser.post("/api/auth/login", headers={**HX_BOOSTED, "Accept": "text/html"},
                             json={"email": account["user"]["email"], "password": "wrong"})
    assert api.status_code == 401 and api.headers["content-type"] == "application/problem+json"


async def test_an_unknown_page_and_a_wrong_method_are_pages_with_their_headers(
        browser: httpx.AsyncClient):
    missing = await browser.get("/no-such-page", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    wrong = await browser.put("/login", headers=HX_BOOSTED)
    assert wrong.status_code == 405 and "POST" in wrong.headers["allow"]
    assert wrong.headers["content-type"].startswith("text/html")


async def test_field_entries_of_a_problem_carry_the_rules_figures(
        browser: httpx.AsyncClient, contractor):
    # What a page renders a problem's `errors` from (errors_i18n.entries): code and params.
    refused = await browser.get("/api/notifications/me?limit=1000",
                                headers={**HX_BOOSTED, **contractor.headers})
    assert refused.headers["content-type"] == "application/problem+json"  # API: JSON
    entry = refused.json()["errors"][0]
    assert entry["code"] == "less_than_equal" and entry["params"] == {"le": 100}


# RELIABILITY 43 for the pages: the query and form fields the pages read, each given an invalid
# UTF-8 sequence, a NUL, an integer past 64 bits, a negative number or a year-9999 date.
PAGE_FIELDS = ("done", "status", "page", "lang", "saved", "week", "v", "type", "template",
               "source", "show", "role", "q", "period", "next", "contract", "amend", "action",
               "channel", "email", "password", "name", "amount", "currency", "reason",
               "decision", "contract_id", "week_ending", "note", "ids", "is_default",
               "is_active", "language", "idempotency_key", "start_date", "end_date")
PAGE_HOSTILE = ("%ED%A0%80", "%00", "9223372036854775808", "-1", "9999-12-31")


async def test_hostile_query_and_form_values_never_make_a_page_fail(app, client, admin):
    """Every page and form of the route table, opened by a contractor, a client and an admin
    (signed-in cookies, a valid CSRF token) with every field the pages read set to each
    hostile value, answers below 500."""
    import uuid

    from tests.security.test_access_matrix import attack_paths, page_routes

    accounts = [admin.token, (await register(client, "contractor"))["accessToken"],
                (await register(client, "client"))["accessToken"]]
    routes = [(p, m) for p, m in page_routes(app) if not p.startswith(("/static", "/files"))
              and not p.endswith("/stream")]
    transport = httpx.ASGITransport(app=app, client=("203.0.113.12", 50003))
    failures, sent = [], 0
    for token in accounts:
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as b:
            b.cookies.set("ml_access", token)
            assert (await b.get("/")).status_code == 200
            csrf = b.cookies.get("ml_csrf")
            for template, method in routes:
                path = attack_paths(template, {str(uuid.uuid4())}, [1])[0]
                for value in PAGE_HOSTILE:
                    fields = "&".join(f"{name}={value}" for name in PAGE_FIELDS)
                    if method == "GET":
                        response = await b.get(f"{path}?{fields}")
                    else:
                        response = await b.post(path, content=f"csrf_token={csrf}&{fields}",
                                                headers={"Content-Type":
                                                         "application/x-www-form-urlencoded"})
                    sent += 1
                    assert "csrf_failed" not in response.text, path  # the form was read
                    if response.status_code >= 500:
                        failures.append((method, template, value, response.status_code))
    assert sent > 500, sent
    assert failures == [], failures
