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


def _color(kind: str) -> str:
    return PRIMARY_COLOR if kind == "primary" else SECONDARY_COLOR


@dataclass(frozen=True)
class _Geometry:
    """Where a radar's axes lie: ``size`` sets the grid radius (``size / 4``) and the text size (``size / 40``)."""

    count: int
    max_value: float
    centre: float
    radius: float
    font_size: float

    @classmethod
    def of(cls, *, count: int, max_value: float, size: int) -> _Geometry:
        return cls(count=count, max_value=max_value, centre=size / 2, radius=size * 0.25, font_size=size / 40)

    def direction(self, axis: int) -> tuple[float, float]:
        """(sine, cosine) of an axis: the first points up, the others follow clockwise."""
        angle = 2 * math.pi * axis / self.count
        return math.sin(angle), math.cos(angle)

    def vertex(self, axis: int, value: float) -> tuple[float, float]:
        """The point of ``value`` on an axis, clamped to ``[0, max_value]``."""
        r = self.radius * max(0.0, min(value, self.max_value)) / self.max_value
        sin, cos = self.direction(axis)
        return self.centre + r * sin, self.centre - r * cos


def _check_radar(axis_labels: Sequence[str], series: Sequence[RadarSeries], max_value: float) -> None:
    if len(axis_labels) < 3:
        raise ValueError("A radar chart needs at least 3 axes.")
    if max_value <= 0:
        raise ValueError("max_value must be positive.")
    for serie in series:
        if len(serie.values) != len(axis_labels):
            raise ValueError(f"Series {serie.label!r} must have one value per axis.")


def _grid(geo: _Geometry, ticks: Sequence[float]) -> list[str]:
    """One ring per tick, then one spoke per axis from the centre to the top of the scale."""
    rings = [
        f'<polygon points="{_points([geo.vertex(i, t) for i in range(geo.count)])}" '
        f'fill="none" stroke="{GRID_COLOR}" stroke-width="1"/>'
        for t in ticks
    ]
    centre = _num(geo.centre)
    spokes = [
        f'<line x1="{centre}" y1="{centre}" x2="{_num(x)}" y2="{_num(y)}" stroke="{GRID_COLOR}" stroke-width="1"/>'
        for x, y in (geo.vertex(i, geo.max_value) for i in range(geo.count))
    ]
    return rings + spokes


def _tick_labels(geo: _Geometry, ticks: Sequence[float]) -> list[str]:
    # Right of the first spoke, just above each ring line; the wide label gap below
    # leaves room for the top value under the first axis label.
    tick_size = _num(geo.font_size * 0.85)
    x = _num(geo.centre + 5)
    return [
        f'<text x="{x}" y="{_num(geo.vertex(0, t)[1] - 3)}" font-size="{tick_size}" '
        f'fill="{MUTED_TEXT_COLOR}">{escape(format_score(t, 0 if float(t).is_integer() else 1))}</text>'
        for t in ticks
    ]


def _wrap_label(label: str) -> list[str]:
    lines = textwrap.wrap(
        label, LABEL_WRAP_CHARS, break_long_words=False, max_lines=LABEL_MAX_LINES, placeholder=" …",
    )
    return lines or [""]


def _anchor(sin: float, x: float, width: float) -> tuple[str, float]:
    """Text anchor of a label whose tip is at ``x``, and its left edge: away from the polygon."""
    if abs(sin) < 0.3:
        return "middle", x - width / 2
    if sin > 0:
        return "start", x
    return "end", x - width


def _axis_label(geo: _Geometry, axis: int, label: str, bounds: _Bounds) -> str:
    sin, cos = geo.direction(axis)
    gap = line_height = geo.font_size * 1.2
    x, y = geo.centre + (geo.radius + gap) * sin, geo.centre - (geo.radius + gap) * cos
    lines = _wrap_label(label)
    width = max(_text_width(line, geo.font_size) for line in lines)
    anchor, left = _anchor(sin, x, width)
    # Slide the text block from "above the tip" (top axis) to "below the tip"
    # (bottom axis) so multi-line labels never overlap the grid.
    height = (len(lines) - 1) * line_height + geo.font_size
    top = y - height / 2 - cos * height / 2
    bounds.add(left, top, left + width, top + height)
    tspans = "".join(
        f'<tspan x="{_num(x)}" y="{_num(top + geo.font_size * 0.8 + n * line_height)}">{escape(line)}</tspan>'
        for n, line in enumerate(lines)
    )
    return f'<text text-anchor="{anchor}" font-size="{_num(geo.font_size)}" fill="{TEXT_COLOR}">{tspans}</text>'


def _series_shapes(geo: _Geometry, serie: RadarSeries, axis_labels: Sequence[str]) -> list[str]:
    """The polygon of a series (``None`` at the centre), and a point with a tooltip on each known value."""
    color = _color(serie.kind)
    paint = (
        f'fill="{color}" fill-opacity="0.25" stroke="{color}" stroke-width="2"'
        if serie.kind == "primary"
        else f'fill="none" stroke="{color}" stroke-width="2" stroke-dasharray="6 4"'
    )
    coords = [geo.vertex(i, v or 0.0) for i, v in enumerate(serie.values)]
    shapes = [f'<polygon points="{_points(coords)}" {paint}/>']
    for (x, y), label, value in zip(coords, axis_labels, serie.values, strict=True):
        if value is not None:
            tooltip = gettext("%(label)s : %(value)s") % {"label": label, "value": format_score(value)}
            shapes.append(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3.5" fill="{color}"><title>{escape(tooltip)}</title></circle>')
    return shapes


def _swatch(kind: str, x: float, y: float, side: float) -> str:
    color = _color(kind)
    if kind == "primary":
        return (
            f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(side)}" height="{_num(side)}" fill="{color}" '
            f'fill-opacity="0.25" stroke="{color}" stroke-width="2"/>'
        )
    mid = _num(y + side / 2)
    return (
        f'<line x1="{_num(x)}" y1="{mid}" x2="{_num(x + side)}" y2="{mid}" stroke="{color}" '
        f'stroke-width="2" stroke-dasharray="4 2"/>'
    )


def _legend(geo: _Geometry, series: Sequence[RadarSeries], bounds: _Bounds) -> list[str]:
    """A swatch and a label per series, under everything drawn so far; none for a single series."""
    if len(series) < 2:
        return []
    side = font_size = geo.font_size
    x0, y = bounds.min_x, bounds.max_y + font_size * 1.5
    text_x = x0 + side * 1.6
    legend: list[str] = []
    for serie in series:
        legend.append(_swatch(serie.kind, x0, y, side))
        legend.append(
            f'<text x="{_num(text_x)}" y="{_num(y + side * 0.85)}" font-size="{_num(font_size)}" '
            f'fill="{TEXT_COLOR}">{escape(serie.label)}</text>'
        )
        bounds.add(x0, y, text_x + _text_width(serie.label, font_size), y + side)
        y += side * 1.8
    return legend


def _view_box(bounds: _Bounds, pad: float) -> tuple[float, float, float, float]:
    return (
        bounds.min_x - pad,
        bounds.min_y - pad,
        bounds.max_x - bounds.min_x + 2 * pad,
        bounds.max_y - bounds.min_y + 2 * pad,
    )


def _accessible_svg(
    *, chart_id: str, title: str, description: str, bounds: _Bounds, pad: float, body: str, css_class: str = "",
) -> SafeString:
    """The root element: a named image (title and description) whose viewBox fits ``bounds`` plus ``pad``."""
    view_box = " ".join(_num(v) for v in _view_box(bounds, pad))
    title_id, desc_id = escape(f"{chart_id}-title"), escape(f"{chart_id}-desc")
    class_attr = f' class="{escape(css_class)}"' if css_class else ""
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg"{class_attr} viewBox="{view_box}" '
        f'preserveAspectRatio="xMidYMid meet" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" font-family="sans-serif">'
        f'<title id="{title_id}">{escape(title)}</title>'
        f'<desc id="{desc_id}">{escape(description)}</desc>'
        f"{body}</svg>"
    )
    return mark_safe(svg)


def _short_label(geo: _Geometry, axis: int, label: str, bounds: _Bounds) -> str:
    """A one-line axis label (a situation's code) just beyond the tip of its spoke."""
    sin, cos = geo.direction(axis)
    gap = geo.font_size * 0.8
    x, y = geo.centre + (geo.radius + gap) * sin, geo.centre - (geo.radius + gap) * cos
    width = _text_width(label, geo.font_size)
    anchor, left = _anchor(sin, x, width)
    top = y - geo.font_size / 2 - cos * geo.font_size / 2
    bounds.add(left, top, left + width, top + geo.font_size)
    return (
        f'<text x="{_num(x)}" y="{_num(top + geo.font_size * 0.8)}" text-anchor="{anchor}" '
        f'font-size="{_num(geo.font_size)}" font-weight="bold" fill="{TEXT_COLOR}">{escape(label)}</text>'
    )


def _compact_drawing(
    *, short_labels: Sequence[str], axis_labels: Sequence[str], series: Sequence[RadarSeries], max_value: float,
    ticks: Sequence[float], size: int, root: tuple[float, float, float, float],
) -> str:
    """The same radar for a narrow screen: short labels (codes) in large type, the full labels being
    in the table beside it. A nested SVG, hidden unless the page's stylesheet shows it (app.css,
    phones only): print and PDF never show it.

    It covers the square centred on the root viewBox, which is what a root made square by CSS shows.
    """
    geo = _Geometry(count=len(short_labels), max_value=max_value, centre=size / 2, radius=size * 0.25, font_size=size / 24)
    bounds = _Bounds()
    bounds.add(geo.centre - geo.radius, geo.centre - geo.radius, geo.centre + geo.radius, geo.centre + geo.radius)
    labels = [_short_label(geo, i, label, bounds) for i, label in enumerate(short_labels)]
    shapes = [shape for serie in series for shape in _series_shapes(geo, serie, axis_labels)]
    legend = _legend(geo, series, bounds)
    # Tick values a little smaller than the codes, and clear of the first axis' code.
    tick_size, tick_x = _num(geo.font_size * 0.85), _num(geo.centre + geo.font_size * 0.4)
    tick_labels = [
        f'<text x="{tick_x}" y="{_num(geo.vertex(0, t)[1] - 3)}" font-size="{tick_size}" '
        f'fill="{MUTED_TEXT_COLOR}">{escape(format_score(t, 0 if float(t).is_integer() else 1))}</text>'
        for t in ticks
    ]
    body = "".join(_grid(geo, ticks) + shapes + tick_labels + labels + legend)
    view_box = " ".join(_num(v) for v in _view_box(bounds, geo.font_size / 2))
    x, y, width, height = root
    side = max(width, height)
    return (
        f'<svg class="radar-compact" display="none" x="{_num(x + width / 2 - side / 2)}" '
        f'y="{_num(y + height / 2 - side / 2)}" width="{_num(side)}" height="{_num(side)}" '
        f'viewBox="{view_box}" preserveAspectRatio="xMidYMid meet">{body}</svg>'
    )


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
    short_labels: Sequence[str] | None = None,
) -> SafeString:
    """Render an accessible radar (spider) chart as an inline SVG string.

    The first axis points up and axes go clockwise. ``size`` sets the drawing
    scale (grid radius ``size / 4``, text ``size / 40``); the viewBox is fitted
    around the labels and legend, and the SVG scales to its container since it
    has no width/height.
    Values are clamped to ``[0, max_value]``; ``None`` is drawn at the centre
    without a point marker.
    With ``short_labels`` (one per axis, e.g. codes), the SVG also holds a compact
    drawing labelled with them, that app.css swaps in on a phone, where the full
    labels would be a few pixels high.
    """
    _check_radar(axis_labels, series, max_value)
    if short_labels is not None and len(short_labels) != len(axis_labels):
        raise ValueError("short_labels must have one label per axis.")
    if ticks is None:
        ticks = [float(t) for t in range(1, int(max_value) + 1)]
    geo = _Geometry.of(count=len(axis_labels), max_value=max_value, size=size)
    bounds = _Bounds()
    bounds.add(geo.centre - geo.radius, geo.centre - geo.radius, geo.centre + geo.radius, geo.centre + geo.radius)
    labels = [_axis_label(geo, i, label, bounds) for i, label in enumerate(axis_labels)]
    shapes = [shape for serie in series for shape in _series_shapes(geo, serie, axis_labels)]
    legend = _legend(geo, series, bounds)
    # Tick values go above the series so the filled polygon never hides them.
    body = "".join(_grid(geo, ticks) + shapes + _tick_labels(geo, ticks) + labels + legend)
    if short_labels is not None:
        body += _compact_drawing(
            short_labels=short_labels, axis_labels=axis_labels, series=series, max_value=max_value, ticks=ticks,
            size=size, root=_view_box(bounds, geo.font_size),
        )
    return _accessible_svg(
        chart_id=chart_id, title=title, description=description, bounds=bounds, pad=geo.font_size, body=body,
        css_class="radar-responsive" if short_labels is not None else "",
    )


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
        colour = _color(s.kind)
        dash = "" if s.kind == "primary" else ' stroke-dasharray="6 4"'
        points = [(x(i), y(v)) for i, v in enumerate(s.values) if v is not None]
        if points:
            parts.append(f'<polyline points="{_points(points)}" fill="none" stroke="{colour}" stroke-width="2.5"{dash}/>')
    for i, s in enumerate(series):
        colour = _color(s.kind)
        dash = "" if s.kind == "primary" else ' stroke-dasharray="6 4"'
        ly = height - 20 + 0 * i
        lx = left + i * 200
        parts.append(
            f'<line x1="{lx}" y1="{ly}" x2="{lx + 24}" y2="{ly}" stroke="{colour}" stroke-width="2.5"{dash}/>'
            f'<text x="{lx + 30}" y="{ly + 4}" font-size="12" fill="{TEXT_COLOR}">{escape(s.label)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))
