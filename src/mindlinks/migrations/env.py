"""Alembic environment: always driven from code (`mindlinks.migrations.runner`) with a live
connection handed over in `config.attributes["connection"]`."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context

from mindlinks.models import load_all

target_metadata = load_all().metadata
config = context.config


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    # Our TypeDecorators live in mindlinks.platform.db; render them by their import path.
    module = type(obj).__module__
    if type_ == "type" and module.startswith("mindlinks."):
        return f"{module}.{type(obj).__name__}()"
    return False


def run_migrations() -> None:
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=_render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
