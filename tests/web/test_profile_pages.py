"""`/profile` (web/profile_pages.py) through HTTP on both databases: the contractor edits the
profile through `contractors.service.update_profile` (the API's rules and codes, each field's
error next to it, in English and Arabic, nothing kept when refused), uploads an avatar (the
API's `set_avatar`: re-encoded off the event loop, served from this origin to its owner only),
each form once per key (a double submit replays the first answer) and only with the CSRF
token; other roles see their account facts and nothing else."""

from __future__ import annotations

import io
import re
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from mindlinks.contractors.models import ContractorProfile
from mindlinks.platform import audit
from tests.contractors.conftest import complete_profile
from tests.factories import Account
from tests.platform.samples import MINIMAL_PDF, png
from tests.web.conftest import csrf_of
from tests.web.money import signed_in
from tests.web.test_company_logo import held_off_the_loop

pytestmark = pytest.mark.usefixtures("db_backend")
PAGE, AVATAR = "/profile", "/profile/avatar"


def _form(page: httpx.Response) -> dict[str, str]:
    """The profile form as the page filled it (inputs and the selected country)."""
    form = page.text[page.text.index('action="/profile" class="stack"'):]
    form = form[:form.index("</form>")]
    values = {m.group(1): m.group(2) for m in re.finditer(
        r'<input id="[^"]*" name="([^"]+)"[^>]*?value="([^"]*)"', form)}
    values |= {m.group(1): m.group(2) for m in re.finditer(
        r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)}
    values.pop("csrf_token", None)  # each test decides which token it sends
    chosen = re.search(r'<option value="([A-Z]{2})" selected>', form)
    values["country"] = chosen.group(1) if chosen else ""
    return values


async def _profile(app: Any, email: str) -> ContractorProfile:
    async with app.state.db.session() as session:
        row = await session.scalar(select(ContractorProfile)
                                   .where(ContractorProfile.email == email))
        assert row is not None
        return row


async def _updates(app: Any, profile_id: Any) -> int:
    async with app.state.db.session() as session:
        rows, _total = await audit.search(session, action="contractor.profile.updated",
                                          entity_id=str(profile_id))
    return len(rows)


async def test_the_contractor_edits_the_profile_once_per_form(
    app: Any, client: httpx.AsyncClient, contractor: Account,
):
    await complete_profile(client, contractor)
    async with signed_in(app, contractor.email) as c:
        page = await c.get(PAGE)
        assert page.status_code == 200 and 'value="+14155552671"' in page.text
        form = _form(page)
        assert form["country"] == "US" and form["address_city"] == "Springfield"
        changed = {**form, "csrf_token": csrf_of(page), "phone": "+44 20 7946 0958",
                   "dba_name": "Lovelace Analytics", "address_line2": "",
                   "website": "https://ada.example"}
        saved = await c.post(PAGE, data=changed)
        assert saved.status_code == 303 and saved.headers["location"] == f"{PAGE}?done=saved"
        mine = (await client.get("/api/contractors/me", headers=contractor.headers)).json()
        assert (mine["phone"], mine["dbaName"], mine["website"]) == (
            "+442079460958", "Lovelace Analytics", "https://ada.example")
        profile = await _profile(app, contractor.email)
        assert await _updates(app, profile.id) == 2  # complete_profile's, and this one
        # The same form again (a double click, a retried post): the first answer, replayed.
        again = await c.post(PAGE, data=changed)
        assert again.status_code == 303 and again.headers.get("idempotent-replayed") == "true"
        assert await _updates(app, profile.id) == 2
        # Other values under the same key: refused, nothing changed.
        other = await c.post(PAGE, data={**changed, "dba_name": "Else"})
        assert other.status_code == 422 and "alert error" in other.text
        assert (await _profile(app, contractor.email)).dba_name == "Lovelace Analytics"
        shown = await c.get(saved.headers["location"])
        assert "Profile saved." in shown.text and 'value="Lovelace Analytics"' in shown.text


@pytest.mark.parametrize("lang", ["en", "ar"])
async def test_refused_fields_show_their_errors_next_to_them_and_nothing_is_kept(
    app: Any, client: httpx.AsyncClient, contractor: Account, lang: str,
):
    await complete_profile(client, contractor)
    before = await _profile(app, contractor.email)
    async with signed_in(app, contractor.email) as c:
        c.cookies.set("ml_lang", lang)
        page = await c.get(PAGE)
        form = {**_form(page), "csrf_token": csrf_of(page)}
        cases = [  # field, its control's id, the posted value, the English message
            ("phone", "pf-phone", "12", "international format"),
            ("timezone", "pf-tz", "Mars/Olympus", "Not an IANA time zone"),
            ("country", "pf-country", "JP", "country not supported"),
            ("address_country", "pf-acountry", "ZZ", "Not an ISO 3166-1"),
            ("website", "pf-web", "ftp://x", "String should match pattern"),
            ("name", "pf-name", "", "at least 1 character"),
            ("dba_name", "pf-dba", "x" * 201, "at most 200 characters"),
        ]
        arabic_messages = set()
        for field, control, value, english in cases:
            refused = await c.post(PAGE, data={**form, field: value})
            assert refused.status_code == 422, (field, refused.status_code)
            html = refused.text
            error = re.search(rf'<p class="field-error" id="{control}-error">(.*?)</p>', html)
            assert error, (field, html[:2000])
            assert f'id="{control}"' in html and 'aria-invalid="true"' in html
            assert f'aria-describedby="{control}-error' in html or \
                f'{control}-hint {control}-error' in html
            if lang == "en":
                assert english in error.group(1), (field, error.group(1))
            else:
                assert re.search("[\u0600-\u06ff]", error.group(1)), (field, error.group(1))
                assert english not in html, field
                arabic_messages.add(error.group(1))
            # What was typed is shown again; no API field name anywhere in the message.
            assert "address.country" not in html and "postalCode" not in html
        if lang == "ar":
            assert len(arabic_messages) >= 5  # each rule its own message
    after = await _profile(app, contractor.email)
    assert (after.phone, after.timezone, after.country, after.address_country, after.website,
            after.name, after.dba_name) == (before.phone, before.timezone, before.country,
                                             before.address_country, before.website,
                                             before.name, before.dba_name)
    assert await _updates(app, after.id) == 1


async def test_the_avatar_is_uploaded_served_to_its_owner_and_replaced(
    app: Any, client: httpx.AsyncClient, contractor: Account, other: Account,
):
    async with signed_in(app, contractor.email) as c:
        page = await c.get(PAGE)
        assert "No photo yet." in page.text and (await c.get(AVATAR)).status_code == 404
        key = re.search(r'action="/profile/avatar".*?name="idempotency_key" value="([^"]+)"',
                        page.text, re.S)
        assert key
        data = {"csrf_token": csrf_of(page), "idempotency_key": key.group(1)}
        done = await c.post(AVATAR, data=data,
                            files={"avatar": ("me.png", png(900, 600), "image/png")})
        assert done.status_code == 303 and done.headers["location"] == f"{PAGE}?done=avatar"
        first = (await _profile(app, contractor.email)).avatar_key
        assert first is not None and first.endswith(".webp")
        version = first.rpartition("/")[2].partition(".")[0]
        shown = await c.get(done.headers["location"])
        assert f'src="{AVATAR}?v={version}"' in shown.text and "Photo saved." in shown.text
        served = await c.get(f"{AVATAR}?v={version}")
        assert served.status_code == 200 and served.headers["content-type"] == "image/webp"
        assert served.headers["cache-control"].startswith("private")
        assert Image.open(io.BytesIO(served.content)).size == (512, 512)
        # The same form posted twice: one upload.
        twice = await c.post(AVATAR, data=data,
                             files={"avatar": ("me.png", png(900, 600), "image/png")})
        assert twice.status_code == 303 and twice.headers.get("idempotent-replayed") == "true"
        assert (await _profile(app, contractor.email)).avatar_key == first
        # Refused images change nothing.
        token = csrf_of(shown)
        for content, status in ((MINIMAL_PDF, 422), (b"\x89PNG\r\n\x1a\n" + b"0" * 6_000_000,
                                                     413)):
            refused = await c.post(AVATAR, data={"csrf_token": token,
                                                 "idempotency_key": f"k-{status}-abcdefghij"},
                                   files={"avatar": ("x.png", content, "image/png")})
            assert refused.status_code == status and "alert error" in refused.text
        assert (await _profile(app, contractor.email)).avatar_key == first
        replaced = await c.post(AVATAR, data={"csrf_token": token,
                                              "idempotency_key": "second-upload-key-1"},
                                files={"avatar": ("me.png", png(64, 64), "image/png")})
        assert replaced.status_code == 303
        second = (await _profile(app, contractor.email)).avatar_key
        assert second != first
    from mindlinks.platform.storage import get_storage

    storage = get_storage(app.state)
    assert not await storage.exists(first) and await storage.exists(second)  # type: ignore[arg-type]
    # Another contractor has no avatar: 404, never this one's picture.
    async with signed_in(app, other.email) as c:
        assert (await c.get(AVATAR)).status_code == 404
        assert (await c.get(f"{AVATAR}?v={version}")).status_code == 404


async def test_forms_need_the_csrf_token_and_other_roles_only_see_their_account(
    app: Any, client: httpx.AsyncClient, contractor: Account, make_client: Any,
):
    await complete_profile(client, contractor)
    async with signed_in(app, contractor.email) as c:
        form = _form(await c.get(PAGE))
        for token in (None, "a.b"):
            data = {**form, "phone": "+442079460958"}
            if token is not None:
                data["csrf_token"] = token
            refused = await c.post(PAGE, data=data)
            assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
            refused = await c.post(AVATAR, data={k: v for k, v in data.items()
                                                 if k == "csrf_token"},
                                   files={"avatar": ("a.png", png(), "image/png")})
            assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    profile = await _profile(app, contractor.email)
    assert profile.phone == "+14155552671" and profile.avatar_key is None
    account, _company = await make_client(name="Grace Client")
    async with signed_in(app, account.email) as c:
        page = await c.get(PAGE)
        assert page.status_code == 200 and account.email in page.text
        assert 'action="/profile"' not in page.text and "Your photo" not in page.text
        token = csrf_of(page)
        assert (await c.post(PAGE, data={"csrf_token": token, "name": "X"})).status_code == 404
        assert (await c.post(AVATAR, data={"csrf_token": token},
                             files={"avatar": ("a.png", png(), "image/png")})).status_code == 404
        assert (await c.get(AVATAR)).status_code == 404
    # Signed out: to the login, then back.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="https://testserver") as anonymous:
        away = await anonymous.get(PAGE)
        assert away.status_code == 303 and away.headers["location"] == "/login?next=/profile"


async def test_the_avatar_is_re_encoded_off_the_event_loop(
    app: Any, client: httpx.AsyncClient, contractor: Account, monkeypatch: pytest.MonkeyPatch,
):
    """As the logo's test: the re-encoding is held once entered; `/health` still answers."""
    async with signed_in(app, contractor.email) as c:
        token = csrf_of(await c.get(PAGE))
        response = await held_off_the_loop(client, monkeypatch, lambda: c.post(
            AVATAR, data={"csrf_token": token, "idempotency_key": "held-upload-key-1"},
            files={"avatar": ("big.png", png(2000, 2000), "image/png")}))
    assert response.status_code == 303, response.text[:300]
