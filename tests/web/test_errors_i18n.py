# ruff: noqa: RUF001  (Arabic letters in the strings are meant)
"""Domain errors and field-level details in the page's language (web/errors_i18n.py): every
registered code a page can show has a message (or is listed as API-only with its reason),
field-level details are translated by their code / Pydantic type with their figures, and an
Arabic page shows them in Arabic."""

from __future__ import annotations

import importlib
import pkgutil

import httpx
import pytest
from pydantic import BaseModel, Field, ValidationError

import mindlinks
from mindlinks.platform.errors import ERROR_CODES
from mindlinks.web import errors_i18n, i18n
from mindlinks.web.pages import field_errors
from tests.factories import unique_email
from tests.web.conftest import submit


def _every_module() -> None:
    """Import every module: a code is registered when its class is created."""
    for info in pkgutil.walk_packages(mindlinks.__path__, "mindlinks."):
        if ".migrations" not in info.name:
            importlib.import_module(info.name)


def test_every_registered_code_has_a_message_or_a_reason_it_cannot_reach_a_page():
    _every_module()
    # The app's codes only: tests declare their own (`already_there`...) in the same process.
    ours = {code for code, entry in ERROR_CODES.items() if entry.module.startswith("mindlinks.")}
    missing = sorted(ours - set(errors_i18n.MESSAGES) - set(errors_i18n.API_ONLY))
    assert missing == [], "add a message to errors_i18n.MESSAGES or a reason to API_ONLY"
    assert set(errors_i18n.MESSAGES) <= set(ERROR_CODES), "a message for an unknown code"
    assert set(errors_i18n.API_ONLY) <= set(ERROR_CODES)
    assert not set(errors_i18n.MESSAGES) & set(errors_i18n.API_ONLY)
    assert all(len(reason) > 10 for reason in errors_i18n.API_ONLY.values())


def test_every_message_and_label_has_its_arabic_translation():
    arabic = i18n.translations("ar")
    texts = [*errors_i18n.MESSAGES.values(), *errors_i18n.FIELD_MESSAGES.values(),
             *errors_i18n.FIELD_LABELS.values()]
    untranslated = [t for t in texts if arabic.ugettext(t) == t and t not in {"IBAN"}]
    assert untranslated == []


class _Form(BaseModel):
    title: str = Field(max_length=5)
    hours: int = Field(ge=3)
    email: str


def _arabic(values: list[str]) -> list[str]:
    token = i18n.use("ar")
    try:
        return [errors_i18n.localise(v) for v in values]
    finally:
        i18n._current.reset(token)


def test_pydantic_errors_are_translated_by_type_with_their_figures():
    with pytest.raises(ValidationError) as caught:
        _Form.model_validate({"title": "far too long", "hours": 1})
    shown = field_errors(caught.value)
    # English: Pydantic's own text, as before.
    assert shown[0] == "title: String should have at most 5 characters"
    assert _arabic(shown) == ["العنوان: أدخل ٥ حرفًا على الأكثر.",
                              "الساعات: أدخل رقمًا لا يقل عن ٣.",
                              "البريد الإلكتروني: هذا الحقل مطلوب."]


def test_domain_field_entries_are_translated_by_their_code_and_rule():
    from mindlinks.auth.passwords import WeakPassword, check_password_policy
    from mindlinks.contractors.identifiers import normalize_iban

    with pytest.raises(WeakPassword) as weak:
        check_password_policy("short")
    shown = field_errors(weak.value)
    assert shown == ["password: must be at least 12 characters"]  # the entry, not twice
    assert _arabic(shown) == ["كلمة المرور: استخدم ١٢ حرفًا على الأقل."]
    with pytest.raises(Exception) as iban:
        normalize_iban("DE00 1234")
    assert _arabic(field_errors(iban.value)) == ["رقم IBAN: رقم IBAN غير صالح."]
    # A problem body's entries (what the HTML error page shows), camelCase fields included.
    entries = errors_i18n.entries([{"field": "newPassword", "message": "Field required",
                                    "code": "missing"}])
    assert _arabic(entries) == ["كلمة المرور الجديدة: هذا الحقل مطلوب."]
    # An unknown code keeps the English detail (it may be more specific); a field no form or
    # shared label names is shown by its name made readable.
    assert _arabic(errors_i18n.entries([{"field": "x", "message": "odd", "code": "zzz"}])) == [
        "X: odd"]


async def test_an_arabic_form_shows_its_field_errors_in_arabic(browser: httpx.AsyncClient):
    browser.cookies.set("ml_lang", "ar")
    weak = await submit(browser, "/signup", "/signup", {
        "role": "contractor", "email": unique_email(), "password": "short but not 12"[:5]})
    assert weak.status_code == 400
    assert "استخدم ١٢ حرفًا على الأقل." in weak.text
    assert "must be at least" not in weak.text and "String should" not in weak.text
