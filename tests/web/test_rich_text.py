"""The contract preview's Markdown (web/rich_text.py): Markdown becomes HTML, but nothing in
the text can add a tag, an event attribute or a script link - checked against an allow-list of
tags and attributes for hostile input and for generated text, and end to end: a contract whose
title, description and terms carry `<script>` and `onerror` previews without them."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mindlinks.web import rich_text
from tests.contracts.conftest import Party
from tests.web.money import post_form, signed_in
from tests.web.test_contract_pages import fields

# What markdown-it's CommonMark renderer makes (images are off), and their attributes.
ALLOWED = {"p": set(), "em": set(), "strong": set(), "code": {"class"}, "pre": set(),
           "blockquote": set(), "ul": set(), "ol": {"start"}, "li": set(), "hr": set(),
           "br": set(), "h1": set(), "h2": set(), "h3": set(), "h4": set(), "h5": set(),
           "h6": set(), "a": {"href", "title", "rel"}}
HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<svg/onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](  JaVaScRiPt:alert(1) )",
    "[click](java&#115;cript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](//evil.example/x)",
    "<javascript:alert(1)>",
    "![pixel](https://evil.example/p.png)",
    '[x](https://ok.example "a\\" onmouseover=\\"alert(1)")',
    "<iframe src=https://evil.example></iframe>",
    "```html\n<script>alert(1)</script>\n```",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "[ref]\n\n[ref]: javascript:alert(1)",
]


class Tags(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.seen: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, dict(attrs)))


def assert_safe(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(html)
    parser.close()
    for tag, attrs in parser.seen:
        assert tag in ALLOWED, (tag, html)
        assert set(attrs) <= ALLOWED[tag], (tag, attrs, html)
        href = (attrs.get("href") or "").strip().lower()
        if tag == "a":
            assert href.startswith(("http:", "https:", "mailto:", "/", "#")), (href, html)
            assert not href.startswith("//"), html
            assert attrs.get("rel") == "nofollow noopener noreferrer"
    return parser.seen


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_markdown_adds_no_tag_attribute_or_script_link(source: str):
    html = str(rich_text.to_html(source))
    assert_safe(html)
    assert "<script" not in html and "<img" not in html and "<iframe" not in html


def test_markdown_is_rendered():
    html = str(rich_text.to_html(
        "# Terms\n\n- **Pay** monthly\n- see [the site](https://mind-links.example/terms)\n\n"
        "Questions: [mail](mailto:legal@example.com), [section 2](#s2)"))
    tags = [tag for tag, _ in assert_safe(html)]
    assert tags.count("li") == 2 and "h1" in tags and "strong" in tags
    assert 'href="https://mind-links.example/terms"' in html
    assert 'href="mailto:legal@example.com"' in html and 'href="#s2"' in html


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["<", ">", "\"", "'", "=", "[", "]", "(", ")", "!", "`",
                                 "script", "img", "onerror", "javascript:", "on", " ", "\n",
                                 "&", "#", ";", "/", "x", "http:", "*", "-", "a"]),
                max_size=60).map("".join))
def test_generated_text_never_makes_markup_outside_the_allow_list(source: str):
    assert_safe(str(rich_text.to_html(source)))


async def test_rendered_off_the_event_loop():
    import threading

    seen: list[str] = []
    original = rich_text.to_html

    def spy(source: str) -> Any:
        seen.append(threading.current_thread().name)
        return original(source)

    rich_text.to_html = spy  # type: ignore[assignment]
    try:
        html = await rich_text.render_markdown("*x*")
    finally:
        rich_text.to_html = original  # type: ignore[assignment]
    assert str(html) == "<p><em>x</em></p>\n"
    assert seen and seen[0].startswith("mindlinks-cpu"), seen


@pytest.mark.usefixtures("db_backend")
async def test_hostile_contract_text_never_reaches_the_preview(
    app: Any, party: Party, fixed_template: dict[str, Any],
):
    hostile = {"title": '<script>alert("t")</script>Shop',
               "description": '<img src=x onerror="alert(1)"> [x](javascript:alert(2))',
               "terms": "<script>alert(3)</script>\n**Bold** term\n<svg onload=alert(4)>"}
    async with signed_in(app, party.client.email) as c:
        preview = await post_form(c, "/contracts/new", "/contracts/new",
                                  {**fields(party, fixed_template, **hostile),
                                   "action": "preview"})
    assert preview.status_code == 200, preview.text
    start = preview.text.index('<div class="preview markdown"')
    body = preview.text[preview.text.index(">", start) + 1:preview.text.index("</div>", start)]
    assert_safe(body)
    assert "Acme Widgets Ltd" in body and "<strong>Bold</strong>" in body  # Markdown, rendered
    page = preview.text
    assert "<script>alert" not in page and "<img" not in page and "<svg" not in page
    assert not any((attrs.get("href") or "").strip().lower().startswith("javascript")
                   for _, attrs in _all_tags(page))
    assert not any(attrs.get("onerror") or attrs.get("onload") for _, attrs in _all_tags(page))


def _all_tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(page)
    return parser.seen
