"""Server-side SVG charts rendered as plain SVG 1.1.

The markup is inlined in HTML pages served under a strict CSP and printed by
WeasyPrint, so it only uses presentation attributes: no ``style``, no script,
no external font.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, pgettext

TEXT_COLOR = "#1a1a1a"
MUTED_TEXT_COLOR = "#4d4d4d"  # 8.4:1 on white, still AA for the small tick labels
GRID_COLOR = "#c8c8c8"
PRIMARY_COLOR = "#1d4e89"
SECONDARY_COLOR = "#6b6b6b"
LABEL_WRAP_CHARS = 26
LABEL_MAX_LINES = 3
# Generous average glyph width for sans-serif: the real font is unknown at render
# time, so over-estimating keeps labels inside the viewBox.
CHAR_WIDTH_EM = 0.6


@dataclass(frozen=True)
class RadarSeries:
    """One polygon of a radar chart; ``None`` values mean "no data" for that axis."""

    label: str
    values: Sequence[float | None]
    kind: str = "primary"  # "primary" or "secondary"


def format_score(value: float | None, digits: int = 1) -> str:
    """Format a score with a French decimal comma ("2,3"), or an em dash for ``None``.

    Halves round up, as people do by hand (1,25 → 1,3), not to the even digit as floats do.
    """
    if value is None:
        return "—"
    rounded = Decimal(str(float(value))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return f"{rounded:f}".replace(".", pgettext("decimal separator", ","))


def _num(value: float) -> str:
    # Two decimals are plenty for a few-hundred-unit viewBox and keep output small.
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _points(coords: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{_num(x)},{_num(y)}" for x, y in coords)


class _Bounds:
    """Running bounding box of everything drawn, used to size the viewBox."""

    def __init__(self) -> None:
        self.min_x = self.min_y = math.inf
        self.max_x = self.max_y = -math.inf

    def add(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self.min_x, self.min_y = min(self.min_x, x0), min(self.min_y, y0)
        self.max_x, self.max_y = max(self.max_x, x1), max(self.max_y, y1)


def _text_width(text: str, font_size: float) -> float:
    return len(text) * font_size * CHAR_WIDTH_EM


def radar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    axis_labels: Sequence[str],
    series: Sequence[RadarSeries],
    max_value: float,
    ticks: Sequence[float] | None = None,
    size: int = 480,
) -> SafeString:
    """Render an accessible radar (spider) chart as an inline SVG string.

    The first axis points up and axes go clockwise. ``size`` sets the drawing
    scale (grid radius ``size / 4``, text ``size / 40``); the viewBox is fitted
    around the labels and legend, and the SVG scales to its container since it
    has no width/height.
    Values are clamped to ``[0, max_value]``; ``None`` is drawn at the centre
    without a point marker.
    """
    count = len(axis_labels)
    if count < 3:
        raise ValueError("A radar chart needs at least 3 axes.")
    if max_value <= 0:
        raise ValueError("max_value must be positive.")
    for serie in series:
        if len(serie.values) != count:
            raise ValueError(f"Series {serie.label!r} must have one value per axis.")
    if ticks is None:
        ticks = [float(t) for t in range(1, int(max_value) + 1)]

    font_size = size / 40
    line_height = font_size * 1.2
    radius = size * 0.25
    cx = cy = size / 2
    bounds = _Bounds()
    bounds.add(cx - radius, cy - radius, cx + radius, cy + radius)
    angles = [2 * math.pi * i / count for i in range(count)]

    def vertex(axis: int, value: float) -> tuple[float, float]:
        r = radius * max(0.0, min(value, max_value)) / max_value
        return cx + r * math.sin(angles[axis]), cy - r * math.cos(angles[axis])

    def ring(value: float) -> str:
        return _points([vertex(i, value) for i in range(count)])

    grid: list[str] = [
        f'<polygon points="{ring(t)}" fill="none" stroke="{GRID_COLOR}" stroke-width="1"/>'
        for t in ticks
    ]
    for i in range(count):
        x, y = vertex(i, max_value)
        grid.append(
            f'<line x1="{_num(cx)}" y1="{_num(cy)}" x2="{_num(x)}" y2="{_num(y)}" '
            f'stroke="{GRID_COLOR}" stroke-width="1"/>'
        )

    labels: list[str] = []
    gap = font_size * 1.2
    for i, label in enumerate(axis_labels):
        sin, cos = math.sin(angles[i]), math.cos(angles[i])
        x, y = cx + (radius + gap) * sin, cy - (radius + gap) * cos
        lines = textwrap.wrap(
            label, LABEL_WRAP_CHARS, break_long_words=False,
            max_lines=LABEL_MAX_LINES, placeholder=" …",
        ) or [""]
        width = max(_text_width(line, font_size) for line in lines)
        if abs(sin) < 0.3:
            anchor, left = "middle", x - width / 2
        elif sin > 0:
            anchor, left = "start", x
        else:
            anchor, left = "end", x - width
        # Slide the text block from "above the tip" (top axis) to "below the tip"
        # (bottom axis) so multi-line labels never overlap the grid.
        height = (len(lines) - 1) * line_height + font_size
        top = y - height / 2 - cos * height / 2
        bounds.add(left, top, left + width, top + height)
        tspans = "".join(
            f'<tspan x="{_num(x)}" y="{_num(top + font_size * 0.8 + n * line_height)}">'
            f"{escape(line)}</tspan>"
            for n, line in enumerate(lines)
        )
        labels.append(
            f'<text text-anchor="{anchor}" font-size="{_num(font_size)}" '
            f'fill="{TEXT_COLOR}">{tspans}</text>'
        )

    shapes: list[str] = []
    for serie in series:
        color = PRIMARY_COLOR if serie.kind == "primary" else SECONDARY_COLOR
        paint = (
            f'fill="{color}" fill-opacity="0.25" stroke="{color}" stroke-width="2"'
            if serie.kind == "primary"
            else f'fill="none" stroke="{color}" stroke-width="2" stroke-dasharray="6 4"'
        )
        coords = [vertex(i, v or 0.0) for i, v in enumerate(serie.values)]
        shapes.append(f'<polygon points="{_points(coords)}" {paint}/>')
        for i, value in enumerate(serie.values):
            if value is None:
                continue
            tooltip = gettext("%(label)s : %(value)s") % {"label": axis_labels[i], "value": format_score(value)}
            shapes.append(
                f'<circle cx="{_num(coords[i][0])}" cy="{_num(coords[i][1])}" r="3.5" '
                f'fill="{color}"><title>{escape(tooltip)}</title></circle>'
            )

    # Right of the first spoke, just above each ring line; the wide label gap below
    # leaves room for the top value under the first axis label.
    tick_size = font_size * 0.85
    tick_labels: list[str] = []
    for t in ticks:
        _, y = vertex(0, t)
        text = format_score(t, 0 if float(t).is_integer() else 1)
        tick_labels.append(
            f'<text x="{_num(cx + 5)}" y="{_num(y - 3)}" font-size="{_num(tick_size)}" '
            f'fill="{MUTED_TEXT_COLOR}">{escape(text)}</text>'
        )

    legend: list[str] = []
    if len(series) > 1:
        swatch = font_size
        x0 = bounds.min_x
        y = bounds.max_y + font_size * 1.5
        for serie in series:
            color = PRIMARY_COLOR if serie.kind == "primary" else SECONDARY_COLOR
            if serie.kind == "primary":
                legend.append(
                    f'<rect x="{_num(x0)}" y="{_num(y)}" width="{_num(swatch)}" '
                    f'height="{_num(swatch)}" fill="{color}" fill-opacity="0.25" '
                    f'stroke="{color}" stroke-width="2"/>'
                )
            else:
                mid = y + swatch / 2
                legend.append(
                    f'<line x1="{_num(x0)}" y1="{_num(mid)}" x2="{_num(x0 + swatch)}" '
                    f'y2="{_num(mid)}" stroke="{color}" stroke-width="2" stroke-dasharray="4 2"/>'
                )
            text_x = x0 + swatch * 1.6
            legend.append(
                f'<text x="{_num(text_x)}" y="{_num(y + swatch * 0.85)}" '
                f'font-size="{_num(font_size)}" fill="{TEXT_COLOR}">{escape(serie.label)}</text>'
            )
            bounds.add(x0, y, text_x + _text_width(serie.label, font_size), y + swatch)
            y += swatch * 1.8

    pad = font_size
    view_box = " ".join(
        _num(v)
        for v in (
            bounds.min_x - pad,
            bounds.min_y - pad,
            bounds.max_x - bounds.min_x + 2 * pad,
            bounds.max_y - bounds.min_y + 2 * pad,
        )
    )
    title_id, desc_id = escape(f"{chart_id}-title"), escape(f"{chart_id}-desc")
    # Tick values go above the series so the filled polygon never hides them.
    body = "".join(grid + shapes + tick_labels + labels + legend)
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{view_box}" '
        f'preserveAspectRatio="xMidYMid meet" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" font-family="sans-serif">'
        f'<title id="{title_id}">{escape(title)}</title>'
        f'<desc id="{desc_id}">{escape(description)}</desc>'
        f"{body}</svg>"
    )
    return mark_safe(svg)


# Light to dark for an ordinal scale; options left out of means are drawn white.
SCALE_COLORS = ("#e5e7eb", "#c6d7ee", "#7fa3d1", "#1d4e89", "#0b2a4d", "#061a30")


def distribution_bar(*, segments: Sequence[tuple[str, int, bool]], width: int = 120, height: int = 14) -> SafeString:
    """A small stacked bar of counts, e.g. the levels given to one practice by a team.

    ``segments`` are (label, count, ordinal) in the scale's order; non-ordinal
    ones (« Non concerné·e ») are drawn white. The bar is decorative
    (aria-hidden): the same counts must be written out beside it.
    """
    total = sum(n for _label, n, _ordinal in segments)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-hidden="true" focusable="false">',
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" fill="#ffffff" stroke="{GRID_COLOR}"/>',
    ]
    x = 0.0
    rank = 0
    for label, count, ordinal in segments:
        color = SCALE_COLORS[min(rank, len(SCALE_COLORS) - 1)] if ordinal else "#ffffff"
        rank += 1 if ordinal else 0
        if not count or not total:
            continue
        w = width * count / total
        parts.append(
            f'<rect x="{_num(x)}" y="0" width="{_num(w)}" height="{height}" fill="{color}" '
            f'stroke="#ffffff" stroke-width="0.5"><title>{escape(label)} : {count}</title></rect>'
        )
        x += w
    parts.append("</svg>")
    return mark_safe("".join(parts))


def line_chart(
    *, chart_id: str, title: str, description: str, x_labels: Sequence[str], series: Sequence[RadarSeries],
    width: int = 640, height: int = 260,
) -> SafeString:
    """Cumulative curves over time (e.g. responses per day); values must be >= 0.

    Reuses RadarSeries for a series' label, values and kind (primary: solid, secondary: dashed).
    """
    left, right, top, bottom = 48, 16, 16, 64
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = max((v for s in series for v in s.values if v is not None), default=0) or 1
    count = max(len(x_labels), 1)

    def x(i: int) -> float:
        return left + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / top_value

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" font-family="sans-serif" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(description)}</desc>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="{GRID_COLOR}"/>',
    ]
    for tick in (0, top_value / 2, top_value):
        parts.append(
            f'<text x="{left - 6}" y="{_num(y(tick) + 4)}" text-anchor="end" font-size="11" fill="{MUTED_TEXT_COLOR}">'
            f"{escape(format_score(tick, 0))}</text>"
            f'<line x1="{left}" y1="{_num(y(tick))}" x2="{left + plot_w}" y2="{_num(y(tick))}" stroke="{GRID_COLOR}" stroke-width="0.5"/>'
        )
    step = max(1, count // 8)
    for i, label in enumerate(x_labels):
        if i % step == 0 or i == count - 1:
            parts.append(
                f'<text x="{_num(x(i))}" y="{top + plot_h + 16}" text-anchor="middle" font-size="11" fill="{TEXT_COLOR}">{escape(label)}</text>'
            )
    for s in series:
        colour = PRIMARY_COLOR if s.kind == "primary" else SECONDARY_COLOR
        dash = "" if s.kind == "primary" else ' stroke-dasharray="6 4"'
        points = [(x(i), y(v)) for i, v in enumerate(s.values) if v is not None]
        if points:
            parts.append(f'<polyline points="{_points(points)}" fill="none" stroke="{colour}" stroke-width="2.5"{dash}/>')
    for i, s in enumerate(series):
        colour = PRIMARY_COLOR if s.kind == "primary" else SECONDARY_COLOR
        dash = "" if s.kind == "primary" else ' stroke-dasharray="6 4"'
        ly = height - 20 + 0 * i
        lx = left + i * 200
        parts.append(
            f'<line x1="{lx}" y1="{ly}" x2="{lx + 24}" y2="{ly}" stroke="{colour}" stroke-width="2.5"{dash}/>'
            f'<text x="{lx + 30}" y="{ly + 4}" font-size="12" fill="{TEXT_COLOR}">{escape(s.label)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))
