"""`/full-system-architecture`: the domains, their tables and events, drawn from the code's
own registries at start-up, so the picture cannot drift from the code:

- layers: the import-linter `layers` contract (`.importlinter`, the enforced dependency
  order), falling back to the packages that own tables when the file is not shipped;
- tables: SQLAlchemy's metadata (every mapped class's module names its domain);
- events: emitted names found in each domain's source (`emit(session, "name", ...)`;
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


BOX_W, GAP, LINE, HEAD = 300, 20, 15, 26


def _box_height(domain: Domain) -> int:
    lines = len(domain.tables) + len(domain.emits) + len(domain.listens)
    sections = sum(1 for part in (domain.tables, domain.emits, domain.listens) if part)
    return HEAD + (lines + sections) * LINE + 12


def svg(title: str, labels: dict[str, str]) -> Markup:
    """The diagram: one row per layer (top depends on those below), a box per domain with
    its tables, the events it emits and those it listens to. Each box links to its section."""
    domains = describe()
    rows: dict[int, list[Domain]] = {}
    for domain in domains:
        rows.setdefault(domain.layer, []).append(domain)
    per_row = 4
    width = per_row * BOX_W + (per_row + 1) * GAP
    parts: list[str] = []
    y = GAP + 10
    for layer in sorted(rows):
        chunk_start = 0
        members = rows[layer]
        while chunk_start < len(members):
            chunk = members[chunk_start:chunk_start + per_row]
            height = max(_box_height(d) for d in chunk)
            for column, domain in enumerate(chunk):
                x = GAP + column * (BOX_W + GAP)
                parts.append(f'<a href="#domain-{escape(domain.name)}">'
                             f'<rect class="arch-box" x="{x}" y="{y}" width="{BOX_W}" '
                             f'height="{height}" rx="6"/>'
                             f'<text class="arch-name" x="{x + 10}" y="{y + 18}">'
                             f'{escape(domain.name)}</text>')
                line_y = y + HEAD + 8
                for key, items in (("tables", domain.tables), ("emits", domain.emits),
                                   ("listens", domain.listens)):
                    if not items:
                        continue
                    parts.append(f'<text class="arch-head" x="{x + 10}" y="{line_y}">'
                                 f'{escape(labels[key])}</text>')
                    line_y += LINE
                    for item in items:
                        parts.append(f'<text class="arch-{key}" x="{x + 18}" y="{line_y}">'
                                     f'{escape(item)}</text>')
                        line_y += LINE
                parts.append("</a>")
            y += height + GAP
            chunk_start += per_row
        parts.append(f'<line class="arch-layer" x1="{GAP}" y1="{y - GAP / 2}" '
                     f'x2="{width - GAP}" y2="{y - GAP / 2}"/>')
    head = (f'<svg class="arch" viewBox="0 0 {width} {y + GAP}" role="group" '
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
