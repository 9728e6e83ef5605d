"""`/full-system-architecture`: the domains, their tables and events, drawn from the code's
own registries at start-up, so the picture cannot drift from the code:

- layers: the import-linter `layers` contract (`.importlinter`, the enforced dependency
  order), falling back to the packages that own tables when the file is not shipped;
- tables: SQLAlchemy's metadata (every mapped class's module names its domain);
- events: emitted names found in each domain's source (`emit(session, <literal name>, ...)`;
  f-string parts become `*`) and the subscribers registered with `platform.events`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from html import escape
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

import mindlinks
from mindlinks.platform import events
from mindlinks.platform.api import domain_router
from mindlinks.platform.db import Base
from mindlinks.web import i18n, sessions
from mindlinks.web.pages import render

router = domain_router(include_in_schema=False)

PACKAGE = Path(mindlinks.__file__).parent
LINTER_CONFIG = PACKAGE.parents[1] / ".importlinter"
_EMIT = re.compile(r"emit(?:_many)?\(\s*\w+\s*,\s*(f?)\"([^\"]+)\"")
_FIELD = re.compile(r"\{[^}]*\}")
SKIP = {"cli", "keys_cli", "app", "scheduler", "models", "migrations", "settings"}


@dataclass
class Domain:
    name: str
    layer: int
    tables: list[str] = field(default_factory=list)
    emits: list[str] = field(default_factory=list)
    listens: list[str] = field(default_factory=list)


def _domain_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "mindlinks" else module


def _layers() -> list[list[str]]:
    """The `layers =` lines of the import-linter contract, top (depends on most) first."""
    if not LINTER_CONFIG.exists():
        return []
    rows: list[list[str]] = []
    inside = False
    for line in LINTER_CONFIG.read_text().splitlines():
        if line.strip().startswith("layers ="):
            inside = True
            continue
        if inside:
            if not line.startswith((" ", "\t")) or not line.strip():
                break
            names = [n.strip().strip("()") for n in re.split(r"[:|]", line)]
            rows.append([n for n in names if n and n not in SKIP])
    return [row for row in rows if row]


def _tables() -> dict[str, list[str]]:
    owner: dict[str, str] = {}
    for mapper in Base.registry.mappers:
        table = getattr(mapper, "local_table", None)
        if table is not None and table.name not in owner:
            owner[table.name] = _domain_of(mapper.class_.__module__)
    found: dict[str, list[str]] = {}
    for table_name in sorted(Base.metadata.tables):
        domain = owner.get(table_name) or table_name.split("_")[0]
        found.setdefault(domain, []).append(table_name)
    return found


def _emitted(domain: str) -> list[str]:
    directory = PACKAGE / domain
    names: set[str] = set()
    for source in sorted(directory.glob("*.py")) if directory.is_dir() else []:
        for is_f, name in _EMIT.findall(source.read_text(encoding="utf-8")):
            names.add(_FIELD.sub("*", name) if is_f else name)
    return sorted(names)


@lru_cache(maxsize=1)
def describe() -> tuple[Domain, ...]:
    tables = _tables()
    layers = _layers() or [[d] for d in sorted(tables)]
    domains: dict[str, Domain] = {}
    for index, row in enumerate(layers):
        for name in row:
            domains[name] = Domain(name, index)
    for name in tables:  # a table owner the contract does not list still appears
        domains.setdefault(name, Domain(name, len(layers)))
    for name, domain in domains.items():
        domain.tables = tables.get(name, [])
        domain.emits = _emitted(name)
    for event, handlers in events.subscriptions().items():
        for _key, module in handlers:
            target = domains.get(_domain_of(module))
            if target is not None and event not in target.listens:
                target.listens.append(event)
    return tuple(sorted(domains.values(), key=lambda d: (d.layer, d.name)))


WIDTH, GAP, LINE, HEAD = 1280, 16, 14, 26
SECTIONS = ("tables", "emits", "listens")


def _box_height(domain: Domain) -> int:
    longest = max(len(domain.tables), len(domain.emits), len(domain.listens))
    return HEAD + (longest + 1) * LINE + 10


def svg(title: str, labels: dict[str, str]) -> Markup:
    """The diagram: one row per layer (a row depends only on the rows below it), a box per
    domain sharing the row's width, inside it three columns: its tables, the events it emits,
    the events it listens to. Each box links to the domain's lists below the diagram."""
    rows: dict[int, list[Domain]] = {}
    for domain in describe():
        rows.setdefault(domain.layer, []).append(domain)
    parts: list[str] = []
    y = GAP
    for layer in sorted(rows):
        members = rows[layer]
        box_w = (WIDTH - GAP * (len(members) + 1)) / len(members)
        height = max(_box_height(d) for d in members)
        for index, domain in enumerate(members):
            x = GAP + index * (box_w + GAP)
            parts.append(f'<a href="#domain-{escape(domain.name)}">'
                         f'<rect class="arch-box" x="{x:.0f}" y="{y}" width="{box_w:.0f}" '
                         f'height="{height}" rx="6"/>'
                         f'<text class="arch-name" x="{x + 10:.0f}" y="{y + 18}">'
                         f'{escape(domain.name)}</text>')
            column_w = (box_w - 20) / len(SECTIONS)
            for column, key in enumerate(SECTIONS):
                items: list[str] = getattr(domain, key)
                if not items:
                    continue
                cx = x + 10 + column * column_w
                line_y = y + HEAD + 10
                parts.append(f'<text class="arch-head" x="{cx:.0f}" y="{line_y}">'
                             f'{escape(labels[key])}</text>')
                for item in items:
                    line_y += LINE
                    parts.append(f'<text class="arch-{key}" x="{cx:.0f}" y="{line_y}" '
                                 f'textLength="{min(len(item) * 6.2, column_w - 8):.0f}" '
                                 f'lengthAdjust="spacingAndGlyphs">{escape(item)}</text>')
            parts.append("</a>")
        y += height + GAP
    head = (f'<svg class="arch" viewBox="0 0 {WIDTH} {y}" role="group" '
            f'aria-labelledby="arch-title" xmlns="http://www.w3.org/2000/svg">'
            f'<title id="arch-title">{escape(title)}</title>')
    return Markup(head + "".join(parts) + "</svg>")  # noqa: S704 - all text escaped above


@router.get("/full-system-architecture", response_class=HTMLResponse)
async def architecture_page(request: Request) -> Response:
    """Public, as seed 004 asks: the diagram and, below it, each domain's lists."""
    actor = await sessions.browser_actor(request)
    i18n.use(i18n.language_of(request))
    labels = {"tables": i18n.gettext("Tables"), "emits": i18n.gettext("Emits"),
              "listens": i18n.gettext("Listens to")}
    return render(request, "architecture.html", {
        "domains": describe(), "diagram": svg(i18n.gettext("Domains, tables and events"), labels),
    }, actor=actor)
