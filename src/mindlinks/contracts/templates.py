"""Contract templates (seed `contract-templates`): admin CRUD, client listing, rendering.

Templates are Jinja2 run in a `SandboxedEnvironment` with `StrictUndefined`, producing a
Markdown body. A template may only use the variables of `KNOWN_VARIABLES` (checked when it is
saved: 422 `unknown_template_variable`), and rendering refuses a missing one (422
`missing_template_variable`) - a contract never goes out with a blank where a party's name or
the rate should be.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from jinja2 import StrictUndefined, TemplateError, UndefinedError, meta
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contracts import repository as repo
from mindlinks.contracts.models import ContractTemplate
from mindlinks.contracts.schemas import TemplateCreate, TemplateUpdate
from mindlinks.platform import audit
from mindlinks.platform.errors import (
    Conflict,
    ForbiddenRole,
    NotFound,
    ValidationFailed,
)
from mindlinks.platform.security import Actor

KNOWN_VARIABLES = frozenset({
    "client_name", "contractor_name", "contract_title", "contract_description", "contract_type",
    "contract_model", "rate", "currency", "frequency", "start_date", "end_date", "terms",
    "milestones",
})

_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


class TemplateNotFound(NotFound):
    code = "template_not_found"


class InvalidTemplate(ValidationFailed):
    code = "invalid_template"


class UnknownTemplateVariable(ValidationFailed):
    code = "unknown_template_variable"


class MissingTemplateVariable(ValidationFailed):
    code = "missing_template_variable"


class TemplateInUse(Conflict):
    code = "template_in_use"


def used_variables(content: str) -> set[str]:
    """The top-level names the template reads; a syntax error is 422 `invalid_template`."""
    try:
        return set(meta.find_undeclared_variables(_env.parse(content)))
    except TemplateError as exc:
        raise InvalidTemplate(f"The template does not compile: {exc}") from exc


def check_template(content: str, declared: Sequence[str] | None) -> list[str]:
    """The template's variable list: what it uses, all of them known (and declared, when a
    list is given)."""
    used = used_variables(content)
    unknown = sorted((used | set(declared or ())) - KNOWN_VARIABLES)
    if unknown:
        raise UnknownTemplateVariable(
            f"Unknown template variables: {', '.join(unknown)}; allowed: "
            f"{', '.join(sorted(KNOWN_VARIABLES))}"
        )
    if declared is not None and (undeclared := sorted(used - set(declared))):
        raise UnknownTemplateVariable(f"Variables used but not declared: {', '.join(undeclared)}")
    return sorted(set(declared) if declared is not None else used)


def render(content: str, values: Mapping[str, Any]) -> str:
    """Render the Markdown body; any missing or unknown variable is a 422."""
    missing = sorted(used_variables(content) - set(values))
    if missing:
        raise MissingTemplateVariable(f"Missing template variables: {', '.join(missing)}")
    try:
        return _env.from_string(content).render(**values)
    except UndefinedError as exc:
        raise MissingTemplateVariable(f"Missing template variable: {exc.message}") from exc
    except TemplateError as exc:  # includes sandbox SecurityError
        raise InvalidTemplate(f"The template cannot be rendered: {exc}") from exc


def _require_admin(actor: Actor) -> None:
    if not (actor.is_admin and actor.mfa_verified):
        raise ForbiddenRole("Administrators only")


async def _clear_other_defaults(session: AsyncSession, template: ContractTemplate) -> None:
    # One default per type x model: a new default replaces the previous one.
    for other in await repo.defaults_of(session, template.type, template.model):
        if other.id != template.id:
            other.is_default = False


async def list_templates(
    session: AsyncSession, *, type_: str | None, model: str | None, offset: int, limit: int
) -> tuple[Sequence[ContractTemplate], int]:
    """Templates, defaults first, optionally of one type and/or model."""
    return await repo.templates(session, type_=type_, model=model, offset=offset, limit=limit)


async def get_template(session: AsyncSession, template_id: uuid.UUID) -> ContractTemplate:
    template = await repo.template(session, template_id)
    if template is None:
        raise TemplateNotFound("No such contract template")
    return template


async def create_template(
    session: AsyncSession, actor: Actor, data: TemplateCreate
) -> ContractTemplate:
    """Admin: a new template whose variables are all known; `isDefault` demotes the previous
    default of its type and model."""
    _require_admin(actor)
    variables = check_template(data.template_content, data.variables)
    template = ContractTemplate(
        id=uuid.uuid4(), name=data.name, type=data.type, model=data.model,
        template_content=data.template_content, variables=variables, is_default=data.is_default,
    )
    session.add(template)
    if template.is_default:
        await _clear_other_defaults(session, template)
    await session.flush()
    await audit.record(session, actor, "contract_template.created", "contract_template",
                       template.id, {"type": template.type, "model": template.model})
    return template


async def update_template(
    session: AsyncSession, actor: Actor, template_id: uuid.UUID, data: TemplateUpdate
) -> ContractTemplate:
    """Admin: change a template. Contracts already sent keep their rendered PDF."""
    _require_admin(actor)
    template = await get_template(session, template_id)
    content = data.template_content or template.template_content
    declared = data.variables if data.variables is not None else (
        None if data.template_content is not None else template.variables)
    template.variables = check_template(content, declared)
    template.template_content = content
    if data.name is not None:
        template.name = data.name
    if data.is_default is not None:
        template.is_default = data.is_default
        if data.is_default:
            await _clear_other_defaults(session, template)
    await session.flush()
    await audit.record(session, actor, "contract_template.updated", "contract_template",
                       template.id, {"fields": sorted(data.model_fields_set)})
    return template


async def delete_template(session: AsyncSession, actor: Actor, template_id: uuid.UUID) -> None:
    """Admin: delete a template no contract uses (409 `template_in_use` otherwise)."""
    _require_admin(actor)
    template = await get_template(session, template_id)
    if await repo.template_in_use(session, template_id):
        raise TemplateInUse("Contracts were made from this template; it cannot be deleted")
    await session.delete(template)
    await session.flush()
    await audit.record(session, actor, "contract_template.deleted", "contract_template",
                       template_id, {})
