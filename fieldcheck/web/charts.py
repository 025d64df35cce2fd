"""Charts drawn on the server as inline SVG: no script, no library, readable without colour.

The page's CSP forbids inline styles, so everything is SVG presentation attributes and the
classes of ``app.css`` (``svg.chart``, ``zone-fill-*``). A chart carries its own accessible name
(``aria-label``) and every bar its ``<title>``; pages put the same figures in a table beside it
for screen readers and for copying.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from fieldcheck.web.formatting import number

#: Geometry of a horizontal bar chart, in SVG user units (the SVG scales to its box).
WIDTH = 640
LABEL_WIDTH = 230
VALUE_WIDTH = 50
ROW = 22
BAR = 15
TOP = 18
#: Labels longer than this are cut with an ellipsis (the bar's <title> has the whole name).
LABEL_CHARS = 34


@dataclass(frozen=True)
class Bar:
    """One bar: a label, a value (None: no result) and the zone that colours it."""

    label: str
    value: Any
    zone: str | None = None


#: Put between bars to draw a gap ("…"): the lowest and the highest of a long list.
GAP = None


def _cut(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1].rstrip() + "…"


def bar_chart(bars: Sequence[Bar | None], *, label: str, maximum: float = 100) -> Markup:
    """A horizontal bar chart of ``bars`` in the order given (``GAP`` entries leave a gap),
    with a 0..``maximum`` scale; ``label`` names the chart for assistive technology."""
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = TOP + ROW * max(len(bars), 1) + 4
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(label)}" preserveAspectRatio="xMinYMin meet">'
    ]
    # A light scale every quarter, labelled with the locale's digits.
    for i in range(5):
        x = LABEL_WIDTH + span * i / 4
        parts.append(
            f'<line x1="{x:g}" y1="{TOP - 4}" x2="{x:g}" y2="{height - 2}" '
            'stroke="#d9e2ec" stroke-width="1"></line>'
            f'<text x="{x:g}" y="{TOP - 7}" text-anchor="middle">'
            f"{escape(number(maximum * i / 4, 0))}</text>"
        )
    for i, bar in enumerate(bars):
        y = TOP + i * ROW
        if bar is None:
            parts.append(
                f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR - 3}" text-anchor="end">…</text>'
            )
            continue
        value = None if bar.value is None else float(bar.value)
        shown = number(bar.value)
        width = 0 if value is None else max(min(value / maximum, 1), 0) * span
        zone = bar.zone or "none"
        parts.append(
            f"<g><title>{escape(bar.label)}: {escape(shown)}</title>"
            f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR - 3}" text-anchor="end">'
            f"{escape(_cut(bar.label))}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" height="{BAR}" '
            f'class="zone-fill-{escape(zone)}"></rect>'
            f'<text x="{LABEL_WIDTH + width + 4:.1f}" y="{y + BAR - 3}">{escape(shown)}</text>'
            "</g>"
        )
    parts.append("</svg>")
    # Every text and attribute value above went through escape().
    return Markup("".join(parts))  # noqa: S704
