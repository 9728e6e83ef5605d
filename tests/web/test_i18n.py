# ruff: noqa: RUF001  (Arabic text and digits are meant)
"""Languages: the catalogues match the sources, Arabic pages are right to left and
translated, money/dates follow the page language, and the choice comes from the URL, the
switch (cookie + the user's `language` preference) or the browser, in that order."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from mindlinks.platform.money import Money
from mindlinks.web import i18n
from tests.factories import PASSWORD, register
from tests.web.conftest import csrf_of, submit, web_login

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "src/mindlinks/web/locale"


def _catalogue(path: Path, locale: str | None = None) -> Any:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _source_messages() -> set[str]:
    method_map = [("src/mindlinks/web/**.py", "python"),
                  ("src/mindlinks/web/templates/**.html", "jinja2")]
    options = {"src/mindlinks/web/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    found = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
            str(ROOT), method_map, options, keywords=keywords):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_template_catalogue_is_what_the_sources_say():
    """Re-run `pybabel extract` (docs/web.md) when this fails: a string was added or changed."""
    pot = {m.id for m in _catalogue(LOCALE / "messages.pot") if m.id}
    assert _source_messages() == pot


def test_every_message_has_an_arabic_translation_with_the_same_placeholders():
    po = _catalogue(LOCALE / "ar/LC_MESSAGES/messages.po", "ar")
    pot = {m.id for m in _catalogue(LOCALE / "messages.pot") if m.id}
    translated = {m.id: m.string for m in po if m.id and m.string and not m.fuzzy}
    assert pot - set(translated) == set()
    for source, arabic in translated.items():
        for name in ("%(name)s", "%(email)s", "%(count)s", "%(company)s", "%(date)s"):
            assert (name in source) == (name in arabic), source
    assert i18n.translations("ar").ugettext("Sign in") == "تسجيل الدخول"  # compiled at import


def test_money_and_dates_follow_the_page_language():
    token = i18n.use("ar")
    try:
        assert i18n.money(Decimal("5000"), "USD") == "\u200f٥٬٠٠٠٫٠٠\xa0US$"
        assert i18n.money(Money(187500, "EUR")) == "\u200f١٬٨٧٥٫٠٠\xa0€"
        assert i18n.date(dt.date(2026, 11, 29)) == "٢٩\u200f/١١\u200f/٢٠٢٦"
        i18n.use("en")
        assert i18n.money(Decimal("5000"), "USD") == "$5,000.00"
        assert i18n.money(Money(187500, "EUR")) == "€1,875.00"
        assert i18n.date(dt.date(2026, 11, 29)) == "Nov 29, 2026"
    finally:
        i18n._current.reset(token)


@pytest.mark.usefixtures("db_backend")
async def test_arabic_pages_are_right_to_left_and_translated(browser: httpx.AsyncClient):
    english = await browser.get("/login")
    assert '<html lang="en" dir="ltr">' in english.text and ">Sign in</h1>" in english.text
    by_url = await browser.get("/login?lang=ar")
    assert '<html lang="ar" dir="rtl">' in by_url.text
    assert ">تسجيل الدخول</h1>" in by_url.text and "Sign in</h1>" not in by_url.text
    assert by_url.headers["content-language"] == "ar"
    by_browser = await browser.get("/signup", headers={"Accept-Language": "fr;q=0.9, ar;q=0.8"})
    assert 'dir="rtl"' in by_browser.text and "إنشاء حساب" in by_browser.text
    preferred_english = await browser.get(
        "/signup", headers={"Accept-Language": "ar;q=0.5, en-GB;q=0.9"})
    assert 'dir="ltr"' in preferred_english.text


@pytest.mark.usefixtures("db_backend")
async def test_the_switch_needs_csrf_sets_the_cookie_and_the_users_preference(
    app: Any, browser: httpx.AsyncClient, client: httpx.AsyncClient
):
    account = await register(client, "contractor", name="Layla")
    await browser.get("/login")
    forged = await browser.post("/language", data={"lang": "ar", "next": "/"})
    assert forged.status_code == 403 and "ml_lang" not in browser.cookies
    await web_login(browser, account["user"]["email"], PASSWORD)
    switched = await submit(browser, "/profile", "/language", {"lang": "ar", "next": "/profile"})
    assert switched.status_code == 303 and switched.headers["location"] == "/profile"
    assert browser.cookies.get("ml_lang") == "ar"
    assert 'dir="rtl"' in (await browser.get("/profile")).text
    prefs = await client.get("/api/notifications/me/preferences",
                             headers={"Authorization": f"Bearer {account['accessToken']}"})
    assert prefs.json()["language"] == "ar"

    # Another browser, no cookie, an English Accept-Language: the preference decides.
    transport = httpx.ASGITransport(app=app, client=("203.0.113.10", 50001))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as fresh:
        await web_login(fresh, account["user"]["email"], PASSWORD)
        home = await fresh.get("/", headers={"Accept-Language": "en"})
        assert 'dir="rtl"' in home.text and "مرحبًا، Layla" in home.text
        back = await fresh.post("/language", data={
            "csrf_token": csrf_of(home), "lang": "xx", "next": "//evil.example"})
        assert back.headers["location"] == "/" and fresh.cookies.get("ml_lang") == "en"


@pytest.mark.usefixtures("db_backend")
async def test_a_contract_in_arabic_shows_arabic_money(
    browser: httpx.AsyncClient, flow: Any, fixed_template: dict[str, Any], party: Any
):
    contract = await flow.sent(party, fixed_template["id"], title="Shop rebuild")
    await web_login(browser, party.contractor.email, PASSWORD)
    page = await browser.get(f"/contracts/{contract['id']}?lang=ar")
    assert "٥٬٠٠٠٫٠٠" in page.text and 'dir="rtl"' in page.text and "العميل" in page.text
