"""Charts drawn on the server as SVG (no script, no library): a page embeds the markup.

Each chart is an `<svg role="img">` with a `<title>` (its accessible name) and a `<desc>`
listing every value, so a screen reader gets the numbers the bars show. Colours come from
the stylesheet's classes (`.chart-bar`, `.chart-axis`), so light/dark themes apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape
from itertools import count

from markupsafe import Markup
from markupsafe import escape as m_escape

from mindlinks.web.pages import templates

WIDTH, HEIGHT = 480, 220
PAD_TOP, PAD_BOTTOM, PAD_SIDE = 24, 40, 8


def _label(value: str, limit: int = 14) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def bars(title: str, items: Sequence[tuple[str, int]], *, chart_id: str,
         number: object = str, width: int = WIDTH) -> Markup:
    """A column chart of `items` ((label, value) pairs, drawn in order). `number` formats
    the values shown (the page language's digits)."""
    fmt = number if callable(number) else str
    peak = max((v for _, v in items), default=0) or 1
    count = max(len(items), 1)
    slot = (width - 2 * PAD_SIDE) / count
    bar = max(slot * 0.6, 2)
    plot = HEIGHT - PAD_TOP - PAD_BOTTOM
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">'
        + escape("; ".join(f"{label}: {fmt(value)}" for label, value in items)) + "</desc>",
        f'<line class="chart-axis" x1="{PAD_SIDE}" y1="{HEIGHT - PAD_BOTTOM}" '
        f'x2="{width - PAD_SIDE}" y2="{HEIGHT - PAD_BOTTOM}"/>',
    ]
    for index, (label, value) in enumerate(items):
        height = plot * value / peak
        x = PAD_SIDE + index * slot + (slot - bar) / 2
        y = HEIGHT - PAD_BOTTOM - height
        centre = x + bar / 2
        parts.append(f'<rect class="chart-bar" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                     f'height="{height:.1f}" rx="2"/>')
        parts.append(f'<text class="chart-value" x="{centre:.1f}" y="{y - 4:.1f}" '
                     f'text-anchor="middle">{escape(str(fmt(value)))}</text>')
        if count <= 16 or index % max(count // 8, 1) == 0:
            parts.append(f'<text class="chart-label" x="{centre:.1f}" '
                         f'y="{HEIGHT - PAD_BOTTOM + 16}" text-anchor="middle">'
                         f'{escape(_label(label))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text inserted above is escaped


# The money dashboards' charts (`bar_chart`, drawn by the templates so their title and
# description are translated like any page text).
MONEY_WIDTH, MONEY_HEIGHT = 640, 240
PAD_LEFT = 8
_ids = count(1)


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: Decimal
    text: str  # the value as shown (formatted with its currency)


def bar_chart(title: str, desc: str, data: Sequence[Bar], empty: str = "No data yet") -> Markup:
    """A responsive bar chart (viewBox scales to the container); empty data gives a chart
    that says so in its description."""
    n = next(_ids)
    tid, did = f"chart-{n}-title", f"chart-{n}-desc"
    top = max((b.value for b in data), default=Decimal(0))
    plot_h = MONEY_HEIGHT - PAD_BOTTOM - PAD_TOP
    slot = (MONEY_WIDTH - PAD_LEFT * 2) / max(len(data), 1)
    width = max(min(slot * 0.7, 80), 4)
    parts = [
        f'<svg class="chart" viewBox="0 0 {MONEY_WIDTH} {MONEY_HEIGHT}" role="img" '
        f'aria-labelledby="{tid} {did}" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{tid}">{m_escape(title)}</title><desc id="{did}">{m_escape(desc)}</desc>',
        f'<line class="axis" x1="{PAD_LEFT}" y1="{MONEY_HEIGHT - PAD_BOTTOM}" '
        f'x2="{MONEY_WIDTH - PAD_LEFT}" y2="{MONEY_HEIGHT - PAD_BOTTOM}"/>',
    ]
    for i, bar in enumerate(data):
        h = 0.0 if top <= 0 else float(bar.value / top) * plot_h
        x = PAD_LEFT + slot * i + (slot - width) / 2
        y = MONEY_HEIGHT - PAD_BOTTOM - h
        label = m_escape(bar.label[:18])
        parts.append(
            f'<g class="bar"><rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
            f'height="{h:.1f}"><title>{m_escape(bar.label)}: {m_escape(bar.text)}</title></rect>'
            f'<text class="value" x="{x + width / 2:.1f}" y="{y - 4:.1f}" '
            f'text-anchor="middle">{m_escape(bar.text)}</text>'
            f'<text class="label" x="{x + width / 2:.1f}" y="{MONEY_HEIGHT - PAD_BOTTOM + 16}" '
            f'text-anchor="middle">{label}</text></g>')
    if not data:
        parts.append(f'<text class="empty" x="{MONEY_WIDTH / 2:.0f}" y="{MONEY_HEIGHT / 2:.0f}" '
                     f'text-anchor="middle">{m_escape(empty)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text above is escaped)


templates.env.globals["bar_chart"] = bar_chart
