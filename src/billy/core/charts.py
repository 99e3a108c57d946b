"""A small daily bar chart as inline SVG, drawn on the server: no script, nothing from a CDN."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

from billy.core.money import format_amount

WIDTH, HEIGHT = 720, 180
LEFT, RIGHT, TOP, BOTTOM = 70, 10, 10, 24


@dataclass(frozen=True)
class Series:
    label: str
    css_class: str  # the bar colour, from console.css
    values: Sequence[int]  # minor units, one per day


def daily_bars(*, days: Sequence[dt.date], series: Sequence[Series], currency: str, title: str) -> SafeString:
    """Grouped bars, one group per day, one bar per series; each bar says its figure on hover."""
    top = max([v for s in series for v in s.values] + [1])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group = plot_w / max(1, len(days))
    bar = max(1.0, (group - 2) / max(1, len(series)))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="billy-chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}"><title>{escape(title)}</title>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}"/>',
        f'<text class="tick" x="{LEFT - 6}" y="{TOP + 10}" text-anchor="end">{format_amount(top)}</text>',
        f'<text class="tick" x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end">0</text>',
    ]
    for i, day in enumerate(days):
        x0 = LEFT + i * group + 1
        for j, s in enumerate(series):
            value = s.values[i]
            if value <= 0:
                continue
            h = max(1.0, plot_h * value / top)
            tip = f"{day.isoformat()} {s.label}: {format_amount(value)} {currency}"
            parts.append(
                f'<rect class="{s.css_class}" x="{x0 + j * bar:.1f}" y="{TOP + plot_h - h:.1f}" '
                f'width="{bar:.1f}" height="{h:.1f}"><title>{escape(tip)}</title></rect>'
            )
    for i in sorted({0, len(days) // 2, len(days) - 1}):
        if 0 <= i < len(days):
            x = LEFT + i * group + group / 2
            parts.append(f'<text class="tick" x="{x:.1f}" y="{HEIGHT - 6}" text-anchor="middle">{days[i]:%d.%m}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text in it is escaped above)
