"""Markdown of user-written text (a contract's preview: the admin's template with the client's
title, description and terms in it) as HTML a page can include.

markdown-it-py (already the PDFs' Markdown parser, `platform/pdf.py`), CommonMark with raw
HTML off: any `<tag>` in the text - `<script>`, `<img onerror=...>` - is written out as text,
and the renderer itself only makes a fixed set of tags whose attribute values it escapes.
Two more rules than markdown-it's defaults:
- links only to `http(s):`, `mailto:`, or this site's paths and anchors (markdown-it already
  refuses `javascript:`, `vbscript:`, `file:` and most `data:`; an allow-list also refuses
  whatever scheme comes next); a refused link stays as its text;
- no images: a preview must not load anything from elsewhere (a tracking pixel).
No sanitiser library is in the dependencies; `tests/web/test_rich_text.py` checks the output's
tags and attributes against an allow-list, for hostile and for generated input.

Rendering is pure CPU and a preview can be long (the terms take 100,000 characters): pages call
`render_markdown`, which runs on the platform's CPU pool (`run_cpu`), not the event loop.
"""

from __future__ import annotations

from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup

from mindlinks.platform.offload import run_cpu

SAFE_SCHEMES = ("http:", "https:", "mailto:")


def _safe_link(url: str) -> bool:
    value = url.strip().lower()
    if value.startswith("//"):  # another host, with this page's scheme
        return False
    if value.startswith(("/", "#")):
        return True
    return value.startswith(SAFE_SCHEMES)


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable("image")
    md.validateLink = _safe_link  # type: ignore[method-assign]

    def link_open(renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        # A link in someone else's text: no referrer, no access to this window.
        tokens[idx].attrSet("rel", "nofollow noopener noreferrer")
        return str(renderer.renderToken(tokens, idx, options, env))

    md.add_render_rule("link_open", link_open)
    return md


_markdown = _parser()


def to_html(source: str) -> Markup:
    """The HTML, marked safe for Jinja: markdown-it built it from escaped text only (raw HTML
    off), which is the whole point of this module."""
    return Markup(_markdown.render(source))  # noqa: S704 - see above and the module's docstring


async def render_markdown(source: str) -> Markup:
    """`to_html` on the CPU pool."""
    return await run_cpu(to_html, source)
