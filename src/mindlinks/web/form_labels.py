"""The labels a page's forms show, read from the page's own template: a field error names the
field as the form does ("Routing number / sort code: ...", in the page's language), never by
its API name (`routingNumber`), and without a second list of labels to keep in step.

A template is read once (cached by name), following its static `{% include %}`s and
`{% extends %}`: each `<label>` whose text is a `_("...")` message names the control it wraps
or the one its `for` points at (`<input|select|textarea id=... name=...>`). The message id is
kept; the page's language translates it when the error is shown (`errors_i18n`).
`pages.render` and `dash.render_template` say which template is being rendered
(`use`); an error page or a message outside any page falls back to `errors_i18n.FIELD_LABELS`.
"""

from __future__ import annotations

import contextvars
import re
from functools import cache

from jinja2 import Environment, TemplateNotFound

_LABEL = re.compile(r"<label\b([^>]*)>(.*?)</label>", re.S)
_CONTROL = re.compile(r"<(?:input|select|textarea)\b([^>]*)>", re.S)
_ATTR = re.compile(r'\b(id|for|name|type)="([^"]*)"')
_CHOICES = {"radio", "checkbox"}  # their label names one value, not the field
# The message of a label: `_("...")` or `_('...')` closed at once (a message with parameters
# cannot be shown without them, so it is skipped).
_MESSAGE = re.compile(r"""_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\)""")
_INCLUDE = re.compile(r"""{%-?\s*(?:include|extends)\s+["']([^"']+)["']""")

_current: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar(
    "web_form_labels", default={})  # noqa: B039 - read only: never mutated
_env: Environment | None = None


def install(env: Environment) -> None:
    """The environment whose loader finds the templates (web/pages.py)."""
    global _env
    _env = env


def _attrs(text: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in _ATTR.finditer(text)}


@cache
def labels_of(name: str) -> dict[str, str]:
    """Field name -> label message id of every form of template `name` (and what it includes
    or extends; the page's own labels win)."""
    if _env is None or _env.loader is None:
        return {}
    try:
        source = _env.loader.get_source(_env, name)[0]
    except TemplateNotFound:
        return {}
    labels: dict[str, str] = {}
    by_id: dict[str, str] = {}
    for match in _LABEL.finditer(source):
        message = _MESSAGE.search(match.group(2))
        if message is None:
            continue
        text = message.group(1) if message.group(1) is not None else message.group(2)
        wrapped = _CONTROL.search(match.group(2))
        if wrapped:
            attrs = _attrs(wrapped.group(1))
            if attrs.get("name") and attrs.get("type") not in _CHOICES:
                labels.setdefault(attrs["name"], text)
        elif target := _attrs(match.group(1)).get("for"):
            by_id.setdefault(target, text)
    for match in _CONTROL.finditer(source):
        attrs = _attrs(match.group(1))
        if attrs.get("id") in by_id and attrs.get("name") and attrs.get("type") not in _CHOICES:
            labels.setdefault(attrs["name"], by_id[attrs["id"]])
    for included in _INCLUDE.findall(source):
        for field, text in labels_of(included).items():
            labels.setdefault(field, text)
    return labels


def use(name: str | None) -> None:
    """The template about to be rendered (in this request's context)."""
    _current.set(labels_of(name) if name else {})


def label(*names: str) -> str | None:
    """The current page's label message id of the first of `names` its forms have."""
    labels = _current.get()
    return next((labels[n] for n in names if n in labels), None)
