# ruff: noqa: RUF002  (Arabic digits in the docstrings are meant)
"""Languages of the pages: English (the source text) and Arabic (right to left).

Catalogues: `web/locale/<lang>/LC_MESSAGES/messages.po`, extracted from the templates and this
package's Python with `pybabel extract -F babel.cfg` (see docs/web.md). The `.po` files are
compiled in memory when this module is imported (babel.messages), so there is no `.mo` to
forget to rebuild and no build step.

The language of a request, first match wins: `?lang=` on the URL (that page only), the
`ml_lang` cookie (set by the language switch), the signed-in user's `language` preference
(seed 001 user-preferences, kept with the notification preferences), the browser's
`Accept-Language`, English.

Money and dates are formatted with Babel/CLDR in the page language. Arabic pages use the
Arabic-Indic digits and separators (`٥٬٠٠٠٫٠٠ US$`, the issue's example): CLDR's default
numbering system for `ar` is Latin, so the `arab` system is asked for explicitly and the
digits transliterated (Babel formats symbols per numbering system but always writes 0-9).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from fastapi import Request
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.platform.security import Actor

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LANGUAGE = "en"
LANGUAGES = {"en": "English", "ar": "العربية"}  # code -> its own name (the switch's labels)
RTL_LANGUAGES = {"ar", "fa", "he", "ur"}
LANG_COOKIE = "ml_lang"
# Numbering system and digits per language where CLDR's default is not what readers expect.
_NUMBERING = {"ar": "arab"}
_DIGITS = {"ar": str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")}


def N_(message: str) -> str:
    """Marks a string for extraction whose translation is looked up later (status names)."""
    return message


def _compile(language: str) -> NullTranslations:
    po = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer)


CATALOGUES: dict[str, NullTranslations] = {lang: _compile(lang) for lang in LANGUAGES}
_current: contextvars.ContextVar[str] = contextvars.ContextVar("web_language",
                                                                default=DEFAULT_LANGUAGE)


def translations(language: str | None = None) -> NullTranslations:
    return CATALOGUES.get(language or _current.get(), CATALOGUES[DEFAULT_LANGUAGE])


def gettext(message: str) -> str:
    return translations().ugettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations().ungettext(singular, plural, n)


def use(language: str) -> contextvars.Token[str]:
    """The language `gettext` and the filters answer in (for the rest of this task)."""
    return _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def current() -> str:
    return _current.get()


def _supported(value: str | None) -> str | None:
    if not value:
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0][:8]
    return code if code in LANGUAGES else None


def _accept_language(header: str) -> str | None:
    """The best supported language of an `Accept-Language` header (q-values honoured)."""
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(header[:500].split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if (code := _supported(tag)) is not None and quality > 0:
            choices.append((-quality, index, code))
    return min(choices)[2] if choices else None


def language_of(request: Request) -> str:
    return (_supported(request.query_params.get("lang"))
            or _supported(request.cookies.get(LANG_COOKIE))
            or getattr(request.state, "language_preference", None)
            or _accept_language(request.headers.get("accept-language", ""))
            or DEFAULT_LANGUAGE)


async def remember_preference(request: Request, session: AsyncSession, actor: Actor) -> None:
    """Load the signed-in user's `language` preference for `language_of` (one small query,
    skipped when the URL or the cookie already decide)."""
    if _supported(request.query_params.get("lang")) or _supported(
            request.cookies.get(LANG_COOKIE)):
        return
    from mindlinks.notifications import service as notifications

    request.state.language_preference = _supported(
        await notifications.preferred_language(session, actor.user_id))


def keep_preference(request: Request, language: str | None) -> None:
    """`remember_preference` with the preference a page has read itself (with its data)."""
    request.state.language_preference = _supported(language)


def direction(language: str) -> str:
    return "rtl" if language in RTL_LANGUAGES else "ltr"


# --- formatting filters --------------------------------------------------------------------

@functools.cache
def _locale_of(language: str) -> Locale:
    return Locale.parse(language)


def _locale() -> Locale:
    """The page language's Locale, parsed once per language (a page formats a dozen values)."""
    return _locale_of(current())


def _digits(text: str) -> str:
    table = _DIGITS.get(current())
    return text.translate(table) if table else text


def money(amount: Any, currency: str = "USD") -> str:
    """`$5,000.00` / `٥٬٠٠٠٫٠٠ US$`. Takes a `Money`, a Decimal (major units) or a string."""
    if hasattr(amount, "to_decimal"):
        currency, amount = amount.currency, amount.to_decimal()
    if amount is None:
        return "—"
    value = Decimal(str(amount))
    numbering = _NUMBERING.get(current(), "latn")
    locale = _locale()
    # `format_currency(value, currency, locale=locale, currency_digits=True, ...)` without its
    # per-call locale parsing and pattern lookup: the locale's standard currency pattern,
    # applied with the same options.
    text = locale.currency_formats["standard"].apply(
        value, locale, currency=str(currency), currency_digits=True, decimal_quantization=True,
        group_separator=True, numbering_system=numbering)
    return _digits(str(text))


def number(value: Any) -> str:
    if value is None:
        return "—"
    numbering = _NUMBERING.get(current(), "latn")
    return _digits(str(format_decimal(value, locale=_locale(), numbering_system=numbering)))


def date(value: dt.date | dt.datetime | None, form: str = "medium") -> str:
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        value = value.date()
    return _digits(str(format_date(value, form, locale=_locale())))


def datetime(value: dt.datetime | None, form: str = "medium") -> str:
    if value is None:
        return "—"
    return _digits(str(format_datetime(value, form, tzinfo=dt.UTC, locale=_locale())) + " UTC")


def status(value: Any) -> Markup | str:
    """A state name shown to a person: `in_progress` -> `in progress`, translated."""
    text = str(value or "").replace("_", " ")
    return gettext(text) if text else ""


def install(env: Any) -> None:
    """Wire the Jinja environment: `_`/`gettext`/`ngettext` follow the request's language
    (a context variable, so concurrent requests in other languages do not mix), and the
    locale filters."""
    env.install_gettext_callables(gettext, ngettext, newstyle=True)
    env.filters.update(money=money, number=number, date=date, datetime=datetime,
                       status=status)
    env.globals["languages"] = LANGUAGES


# Status names the pages show (translated through `status`): extracted from here.
STATUS_NAMES = [
    N_("verified"), N_("unverified"), N_("pending"), N_("in progress"), N_("approved"),
    N_("rejected"), N_("not started"), N_("active"), N_("completed"), N_("cancelled"),
    N_("terminated"), N_("draft"), N_("sent"), N_("client signed"), N_("contractor signed"),
    N_("suspended"), N_("expired"), N_("declined"), N_("submitted"), N_("review"),
    N_("failed"), N_("open"), N_("resolved"), N_("abandoned"), N_("on"), N_("off"),
    N_("contractor"), N_("client"), N_("admin"), N_("deleted"), N_("incomplete"),
    N_("processing"), N_("resubmission requested"),
]
