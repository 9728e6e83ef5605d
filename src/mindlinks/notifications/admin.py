"""Administration of notifications: templates (list, edit, preview) and the delivery log."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.notifications import repository as repo
from mindlinks.notifications import templates
from mindlinks.notifications.catalogue import KINDS, SAMPLE_VALUES
from mindlinks.notifications.models import NotificationDelivery, NotificationTemplate
from mindlinks.notifications.schemas import (
    TemplatePreview,
    TemplatePreviewRequest,
    TemplateUpdate,
)
from mindlinks.platform import audit
from mindlinks.platform.errors import NotFound
from mindlinks.platform.security import Actor


class TemplateNotFound(NotFound):
    code = "template_not_found"


async def list_templates(session: AsyncSession, channel: str | None,
                         language: str | None = None) -> list[NotificationTemplate]:
    return await repo.templates(session, channel, language)


async def template_versions(session: AsyncSession, name: str, channel: str
                            ) -> dict[str, templates.TemplateSource]:
    """One notification type's template on one channel in each language (`templates.LANGUAGES`):
    the stored row, or the built-in text when that row is missing. Unknown type or channel:
    404."""
    kind = KINDS.get(name)
    if kind is None or channel not in kind.channels:
        raise TemplateNotFound("Template not found")
    stored = await repo.template_versions(session, name, channel)
    out = {}
    for language in templates.LANGUAGES:
        row = stored.get(language)
        out[language] = (templates.TemplateSource(name, channel, row.subject, row.body,
                                                  row.text_body) if row is not None
                         else templates.default_source(name, channel, language))
    return out


async def save_version(session: AsyncSession, actor: Actor, name: str, channel: str,
                       language: str, data: TemplateUpdate) -> NotificationTemplate:
    """Replace one language's version of a template (the row is created if an operator
    deleted it); the checks of `update_template`. Unknown type, channel or language: 404."""
    kind = KINDS.get(name)
    if kind is None or channel not in kind.channels or language not in templates.LANGUAGES:
        raise TemplateNotFound("Template not found")
    row = (await repo.template_versions(session, name, channel)).get(language)
    if row is None:
        src = templates.default_source(name, channel, language)
        row = NotificationTemplate(name=name, type=channel, language=language,
                                   subject=src.subject, body=src.body, text_body=src.text_body,
                                   variables=sorted(kind.allowed_variables))
        session.add(row)
        await session.flush()
    return await update_template(session, actor, row.id, data)


async def get_template(session: AsyncSession, template_id: uuid.UUID) -> NotificationTemplate:
    template = await session.get(NotificationTemplate, template_id)
    if template is None:
        raise TemplateNotFound("Template not found")
    return template


async def update_template(
    session: AsyncSession, actor: Actor, template_id: uuid.UUID, data: TemplateUpdate
) -> NotificationTemplate:
    """Replace a template's subject and bodies. Refused (422) when it uses a variable its
    notification type does not provide, or does not parse or render."""
    template = await get_template(session, template_id)
    source = templates.TemplateSource(
        template.name, template.type,
        data.subject if template.type != "sms" else None, data.body,
        data.text_body if template.type == "email" else None,
    )
    templates.validate(source)
    template.subject, template.body, template.text_body = (
        source.subject, source.body, source.text_body)
    template.updated_by = actor.user_id
    await session.flush()
    await audit.record(session, actor, "notifications.template.updated",
                       "notification_template", template.id,
                       {"name": template.name, "type": template.type,
                        "language": template.language})
    return template


async def preview_template(
    session: AsyncSession, template_id: uuid.UUID, data: TemplatePreviewRequest
) -> TemplatePreview:
    """Render the stored template, or the unsaved text given, with sample values overlaid
    by `variables`; the same checks as saving."""
    template = await get_template(session, template_id)
    source = templates.TemplateSource(
        template.name, template.type,
        data.subject if data.subject is not None else template.subject,
        data.body if data.body is not None else template.body,
        data.text_body if data.text_body is not None else template.text_body,
    )
    templates.validate(source)
    kind = templates.kind_of(template.name)
    values: dict[str, Any] = {k: v for k, v in SAMPLE_VALUES.items()
                              if k in kind.allowed_variables}
    values.update({k: v for k, v in data.variables.items() if k in kind.allowed_variables})
    if data.locale:
        values["locale"] = data.locale
    if data.timezone:
        values["timezone"] = data.timezone
    try:
        out = templates.render(source, values)
    except Exception as exc:
        raise templates.InvalidTemplate(f"Template does not render: {exc}") from exc
    return TemplatePreview(subject=out.subject, body=out.body, text_body=out.text_body)


async def list_deliveries(
    session: AsyncSession, *, status: str | None, channel: str | None,
    user_id: uuid.UUID | None, offset: int, limit: int,
) -> tuple[list[NotificationDelivery], int]:
    return await repo.deliveries(
        session, {"status": status, "channel": channel, "user_id": user_id}, offset, limit)
