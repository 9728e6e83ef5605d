"""Server-rendered SVG charts (no script, no chart library): a bar chart with a `<title>` and
`<desc>` for screen readers. Pages pair each chart with a data table (the same numbers as
text), so nothing depends on seeing the picture. Only presentation attributes and classes are
used: the page CSP allows no inline style."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import count

from markupsafe import Markup, escape

from mindlinks.web.pages import templates

WIDTH, HEIGHT = 640, 240
PAD_LEFT, PAD_BOTTOM, PAD_TOP = 8, 36, 20
_ids = count(1)


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: Decimal
    text: str  # the value as shown (formatted with its currency)


def bar_chart(title: str, desc: str, bars: Sequence[Bar], empty: str = "No data yet") -> Markup:
    """A responsive bar chart (viewBox scales to the container); empty data gives a chart
    that says so in its description."""
    n = next(_ids)
    tid, did = f"chart-{n}-title", f"chart-{n}-desc"
    top = max((b.value for b in bars), default=Decimal(0))
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    slot = (WIDTH - PAD_LEFT * 2) / max(len(bars), 1)
    width = max(min(slot * 0.7, 80), 4)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{tid} {did}" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{tid}">{escape(title)}</title><desc id="{did}">{escape(desc)}</desc>',
        f'<line class="axis" x1="{PAD_LEFT}" y1="{HEIGHT - PAD_BOTTOM}" '
        f'x2="{WIDTH - PAD_LEFT}" y2="{HEIGHT - PAD_BOTTOM}"/>',
    ]
    for i, bar in enumerate(bars):
        h = 0.0 if top <= 0 else float(bar.value / top) * plot_h
        x = PAD_LEFT + slot * i + (slot - width) / 2
        y = HEIGHT - PAD_BOTTOM - h
        label = escape(bar.label[:18])
        parts.append(
            f'<g class="bar"><rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
            f'height="{h:.1f}"><title>{escape(bar.label)}: {escape(bar.text)}</title></rect>'
            f'<text class="value" x="{x + width / 2:.1f}" y="{y - 4:.1f}" '
            f'text-anchor="middle">{escape(bar.text)}</text>'
            f'<text class="label" x="{x + width / 2:.1f}" y="{HEIGHT - PAD_BOTTOM + 16}" '
            f'text-anchor="middle">{label}</text></g>')
    if not bars:
        parts.append(f'<text class="empty" x="{WIDTH / 2:.0f}" y="{HEIGHT / 2:.0f}" '
                     f'text-anchor="middle">{escape(empty)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text above is escaped)


templates.env.globals["bar_chart"] = bar_chart
