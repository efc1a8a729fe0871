"""Trend charts as server-rendered SVG: the same markup on the page and in the PDF report.

`line_chart` is a pure function of its points. The SVG it returns needs nothing from outside:
no JavaScript, no stylesheet, no web font (presentation attributes and the generic
`sans-serif` family only), so WeasyPrint draws it as the browser does. It is readable without
colour: every point has a marker and its value written beside it, the axes are labelled, and a
<title> and <desc> name the chart for screen readers. A missing value (None) is a gap in the
line, never a zero; a value given as text (a suppressed count, "≤3") is written at the foot of
its month with no marker, because its height would give the count away.
"""

import hashlib
import math

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 480, 270
LEFT, RIGHT, TOP, BOTTOM = 46, 10, 48, 48
INK, MUTED, GRID, LINE = "#14202b", "#55626f", "#d9dee4", "#1d5c96"


def format_value(value: float | None, unit: str = "") -> str:
    """A value as the chart and its table write it: whole numbers without decimals, others to a
    tenth, the unit after it ("%" joined, words spaced); "—" for None."""
    if value is None:
        return "—"
    text = f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def format_tick(value: float, unit: str = "") -> str:
    """An axis value: up to two decimals, trailing zeros dropped; "%" joined, other units left to
    the axis caption (a tick like "2.5 min" would not fit beside the axis)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text + ("%" if unit == "%" else "")


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 or 10 times a power of ten at or above `value` (1 for 0)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value - 1e-9:
            return step * power
    return 10 * power  # pragma: no cover: the loop always returns


def _runs(coordinates: list[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    """Consecutive present points, split at every gap."""
    runs, current = [], []
    for point in coordinates:
        if point is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(point)
    if current:
        runs.append(current)
    return runs


def line_chart(points: list[tuple[str, float | str | None]], *, title: str, unit: str = "",
               description: str = "", y_max: float | None = None, chart_id: str | None = None) -> SafeString:
    """An SVG line chart of `points` ((x label, value) in order; value None for no figure, a str
    for a figure that may only be shown as text; a newline in a label starts a second line).
    `unit` follows the axis values and the description ("%", "min"); `y_max` fixes the top of
    the axis (100 for a percentage), otherwise a round number above the largest value. Every piece
    of text is escaped; the result is safe to put in a template."""
    chart_id = chart_id or "chart-" + hashlib.sha1(title.encode(), usedforsecurity=False).hexdigest()[:8]
    numbers = [value for _label, value in points if isinstance(value, int | float)]
    top = y_max if y_max is not None else nice_ceiling(max(numbers, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(points), 1)

    def x_at(index: int) -> float:
        return LEFT + step * (index + 0.5)

    def y_at(value: float) -> float:
        return TOP + plot_h - (min(value, top) / top) * plot_h

    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'role="img" aria-labelledby="{escape(title_id)} {escape(desc_id)}" class="chart" '
        f'font-family="sans-serif" font-size="13" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{escape(title_id)}">{escape(title)}</title>',
        f'<desc id="{escape(desc_id)}">{escape(description or _describe(points, unit))}</desc>',
        f'<text x="4" y="18" font-size="15" font-weight="bold" fill="{INK}">{escape(title)}</text>',
    ]
    # The value axis: 0, half and the top, with light grid lines and its unit.
    for fraction in (0, 0.5, 1):
        value = top * fraction
        y = y_at(value)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="{GRID}" '
                     f'stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">'
                     f'{escape(format_tick(value, unit))}</text>')
    if unit and unit != "%":
        parts.append(f'<text x="{WIDTH - RIGHT}" y="18" text-anchor="end" fill="{MUTED}" font-size="12">'
                     f'{escape(unit)}</text>')
    parts.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="{MUTED}" stroke-width="1"/>')
    parts.append(f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
                 f'stroke="{MUTED}" stroke-width="1"/>')

    coordinates = [(x_at(i), y_at(value)) if isinstance(value, int | float) else None
                   for i, (_label, value) in enumerate(points)]
    for run in _runs(coordinates):
        if len(run) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
            parts.append(f'<polyline class="chart-line" points="{path}" fill="none" stroke="{LINE}" '
                         f'stroke-width="2.5" stroke-linejoin="round"/>')

    for i, (label, value) in enumerate(points):
        x = x_at(i)
        lines = "".join(f'<tspan x="{x:.1f}" dy="{0 if n == 0 else 14}">{escape(line)}</tspan>'
                        for n, line in enumerate(label.split("\n")))
        parts.append(f'<text x="{x:.1f}" y="{TOP + plot_h + 17}" text-anchor="middle" fill="{MUTED}" '
                     f'font-size="13">{lines}</text>')
        if isinstance(value, int | float):
            y = y_at(value)
            parts.append(f'<circle class="chart-point" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#fff" '
                         f'stroke="{LINE}" stroke-width="2.5"><title>{escape(label.replace(chr(10), " "))}: '
                         f'{escape(format_value(value, unit))}</title></circle>')
            # The unit is on the axis and in the description; the point carries the number only.
            parts.append(f'<text class="chart-value" x="{x:.1f}" y="{y - 9:.1f}" text-anchor="middle" '
                         f'fill="{INK}" font-size="13">{escape(format_value(value))}</text>')
        elif isinstance(value, str):
            parts.append(f'<text class="chart-value chart-text-value" x="{x:.1f}" y="{TOP + plot_h - 6}" '
                         f'text-anchor="middle" fill="{INK}" font-size="13">{escape(value)}</text>')
        else:
            parts.append(f'<text class="chart-gap" x="{x:.1f}" y="{TOP + plot_h - 6}" text-anchor="middle" '
                         f'fill="{MUTED}" font-size="12">—</text>')
    if not numbers and not any(isinstance(value, str) for _label, value in points):
        parts.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{TOP + plot_h / 2:.1f}" text-anchor="middle" '
                     f'fill="{MUTED}">—</text>')
    parts.append("</svg>")
    # Every interpolated text above went through escape(); numbers are formatted by this module.
    return mark_safe("".join(parts))  # noqa: S308


def _describe(points: list[tuple[str, float | str | None]], unit: str) -> str:
    """A one-line text version of the chart: each label and its value."""
    return "; ".join(f"{label.replace(chr(10), ' ')}: {value if isinstance(value, str) else format_value(value, unit)}"
                     for label, value in points)
