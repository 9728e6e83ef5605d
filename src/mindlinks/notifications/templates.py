"""Template rendering: Jinja2 sandboxed, strict about undefined variables, localised.

- Admin-edited templates (table `notification_templates`, one row per notification type,
  channel and language) override the defaults of `catalogue.py` (English) and
  `catalogue_ar.py` (Arabic); both are seeded into the table at start-up so admins can edit
  them. A recipient gets their language's row, else the English row, else the built-in text.
- On save a template may only use its kind's variables (`jinja2.meta`), and must render
  with sample values.
- Filters: `money(amount, currency)` (babel, the recipient's locale), `date` and `datetime`
  (the recipient's locale and timezone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta, pass_context
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.notifications import catalogue_ar
from mindlinks.notifications.catalogue import (
    KINDS,
    SAMPLE_VALUES,
    Kind,
    default_sources,
)
from mindlinks.notifications.models import NotificationTemplate
from mindlinks.platform.db import Database
from mindlinks.platform.errors import ValidationFailed

DEFAULT_LOCALE = "en_US"


class UnknownTemplateVariable(ValidationFailed):
    code = "unknown_template_variable"


class InvalidTemplate(ValidationFailed):
    code = "invalid_template"


def _locale(context: Context) -> Locale:
    try:
        return Locale.parse(str(context.get("locale") or DEFAULT_LOCALE))
    except (ValueError, UnknownLocaleError):
        return Locale.parse(DEFAULT_LOCALE)


def _zone(context: Context) -> ZoneInfo:
    try:
        return ZoneInfo(str(context.get("timezone") or "UTC"))
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


@pass_context
def _money(context: Context, amount: Any, currency: Any = None) -> str:
    if amount is None:
        return ""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    return format_currency(value, str(currency or "USD"), locale=_locale(context))


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


@pass_context
def _datetime(context: Context, value: Any) -> str:
    moment = _as_datetime(value)
    if moment is None:
        return "" if value is None else str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return format_datetime(moment, "medium", tzinfo=_zone(context), locale=_locale(context))


@pass_context
def _date(context: Context, value: Any) -> str:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, datetime):
        value = value.astimezone(_zone(context)).date()
    if not isinstance(value, date):
        return "" if value is None else str(value)
    return format_date(value, "medium", locale=_locale(context))


def _environment(autoescape: bool) -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=autoescape)
    env.filters.update(money=_money, datetime=_datetime, date=_date)
    return env


_TEXT = _environment(autoescape=False)
_HTML = _environment(autoescape=True)


@dataclass(frozen=True)
class TemplateSource:
    name: str
    channel: str
    subject: str | None
    body: str
    text_body: str | None


@dataclass(frozen=True)
class Rendered:
    subject: str | None
    body: str
    text_body: str | None


def _render(env: SandboxedEnvironment, source: str | None, values: dict[str, Any]) -> str | None:
    if source is None:
        return None
    return env.from_string(source).render(**values).strip()


def render(source: TemplateSource, values: dict[str, Any]) -> Rendered:
    """Render a template; the body is HTML (autoescaped) for email, text otherwise."""
    body_env = _HTML if source.channel == "email" else _TEXT
    subject = _render(_TEXT, source.subject, values)
    return Rendered(
        # One line: no header injection through a payload value.
        subject=" ".join(subject.splitlines()).strip() if subject else subject,
        body=_render(body_env, source.body, values) or "",
        text_body=_render(_TEXT, source.text_body, values),
    )


def kind_of(name: str) -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        raise InvalidTemplate(f"Unknown notification type {name!r}")
    return kind


def validate(source: TemplateSource) -> list[str]:
    """Refuse syntax errors and variables the kind does not provide; return the variables
    the template uses. A test render with sample values catches the rest."""
    kind = kind_of(source.name)
    used: set[str] = set()
    for part in (source.subject, source.body, source.text_body):
        if part is None:
            continue
        try:
            used |= meta.find_undeclared_variables(_TEXT.parse(part))
        except TemplateSyntaxError as exc:
            raise InvalidTemplate(f"Template syntax error: {exc.message}") from exc
    unknown = sorted(used - kind.allowed_variables)
    if unknown:
        raise UnknownTemplateVariable(
            f"Unknown template variables: {', '.join(unknown)}. "
            f"Allowed: {', '.join(sorted(kind.allowed_variables))}"
        )
    try:
        render(source, dict(SAMPLE_VALUES))
    except TemplateError as exc:
        raise InvalidTemplate(f"Template does not render: {exc}") from exc
    return sorted(used)


LANGUAGES = ("en", catalogue_ar.LANGUAGE)  # the languages templates are kept in
DEFAULT_LANGUAGE = "en"


def template_language(language: str | None) -> str:
    """The template language of a recipient of `language`: theirs when the notifications have
    it, else English."""
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def translated(language: str | None) -> bool:
    """Whether the notifications have their own templates in `language` (Arabic)."""
    return template_language(language) != DEFAULT_LANGUAGE


def locale_for(language: str | None, default: str) -> str:
    """The Babel locale of the money/date filters for a recipient of `language`."""
    return catalogue_ar.LOCALE if translated(language) else default


def default_source(name: str, channel: str, language: str | None = None) -> TemplateSource:
    kind = kind_of(name)
    if translated(language):
        subject, body, text_body = catalogue_ar.sources(kind, channel)
    else:
        subject, body, text_body = default_sources(kind, channel)
    return TemplateSource(name, channel, subject, body, text_body)


async def load(session: AsyncSession, name: str, channel: str,
               language: str | None = None) -> TemplateSource:
    """The template in force for a recipient of `language`: the stored (admin-edited) one in
    that language, else the stored English one, else the built-in catalogue's in that
    language. The table holds both languages from start-up (`seed_defaults` copies the
    catalogues in), so the English fallback is for a row an operator deleted."""
    wanted = template_language(language)
    rows = {row.language: row for row in (await session.scalars(
        select(NotificationTemplate).where(
            NotificationTemplate.name == name, NotificationTemplate.type == channel,
            NotificationTemplate.language.in_((wanted, DEFAULT_LANGUAGE)))
    )).all()}
    row = rows.get(wanted) or rows.get(DEFAULT_LANGUAGE)
    if row is None:
        return default_source(name, channel, wanted)
    return TemplateSource(row.name, row.type, row.subject, row.body, row.text_body)


def default_rows() -> list[NotificationTemplate]:
    rows = []
    for kind in KINDS.values():
        for channel in kind.channels:
            for language in LANGUAGES:
                src = default_source(kind.type, channel, language)
                rows.append(NotificationTemplate(
                    name=kind.type, type=channel, language=language, subject=src.subject,
                    body=src.body, text_body=src.text_body,
                    variables=sorted(kind.allowed_variables),
                ))
    return rows


async def seed_defaults(db: Database) -> int:
    """Insert the default templates that are not in the table yet (idempotent); the number
    inserted. Several processes starting at once may race: a lost race is harmless."""
    async with db.sessionmaker() as session:
        existing = {
            (n, t, lang) for n, t, lang in (
                await session.execute(select(NotificationTemplate.name, NotificationTemplate.type,
                                             NotificationTemplate.language))
            ).all()
        }
        missing = [r for r in default_rows() if (r.name, r.type, r.language) not in existing]
        if not missing:
            return 0
        session.add_all(missing)
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            return 0
    return len(missing)
