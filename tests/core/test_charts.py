"""Tests for the server-side SVG radar chart (no database needed)."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from grille.core import charts
from grille.core.charts import (
    PRIMARY_COLOR,
    RadarSeries,
    format_score,
    radar_chart,
)

NS = {"svg": "http://www.w3.org/2000/svg"}
EIGHT_LABELS = [
    "1. Trouver et diversifier des financements",
    "2. Gérer les ressources humaines et bénévoles",
    "3. Piloter le projet associatif",
    "4. Communiquer auprès des publics et partenaires",
    "5. Gérer la comptabilité et la trésorerie",
    "6. Respecter les obligations juridiques",
    "7. Développer les partenariats locaux",
    "8. Évaluer l'impact social",
]


def render(
    labels: list[str] | None = None,
    series: list[RadarSeries] | None = None,
    **kwargs: object,
) -> str:
    labels = labels or EIGHT_LABELS
    if series is None:
        series = [RadarSeries("Positionnement du 12/03/2026", [2.0] * len(labels))]
    options: dict[str, object] = {"chart_id": "radar", "title": "Titre", "description": "Desc"}
    options.update(kwargs)
    return str(radar_chart(axis_labels=labels, series=series, max_value=4, **options))


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def spokes(root: ET.Element) -> list[ET.Element]:
    # Spokes are the only lines starting at the centre; legend swatches are offset.
    lines = root.findall("svg:line", NS)
    return [line for line in lines if line.get("stroke") == "#c8c8c8"]


def centre(root: ET.Element) -> tuple[float, float]:
    first = spokes(root)[0]
    return float(first.get("x1")), float(first.get("y1"))


def outer_radius(root: ET.Element) -> float:
    first = spokes(root)[0]
    cx, cy = centre(root)
    return math.dist((cx, cy), (float(first.get("x2")), float(first.get("y2"))))


def axis_labels_of(root: ET.Element) -> list[ET.Element]:
    return [text for text in root.findall("svg:text", NS) if text.find("svg:tspan", NS) is not None]


def series_vertices(root: ET.Element, fill: str = PRIMARY_COLOR) -> list[tuple[float, float]]:
    polygon = next(p for p in root.findall("svg:polygon", NS) if p.get("fill") == fill)
    return [tuple(float(n) for n in pair.split(",")) for pair in polygon.get("points").split()]


def test_radar_chart_root_is_accessible_svg() -> None:
    root = parse(render(chart_id="radar-42", title="Mon titre", description="Ma description"))

    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "radar-42-title radar-42-desc"
    assert root.find("svg:title", NS).get("id") == "radar-42-title"
    assert root.find("svg:title", NS).text == "Mon titre"
    assert root.find("svg:desc", NS).get("id") == "radar-42-desc"
    assert root.find("svg:desc", NS).text == "Ma description"
    assert root.get("preserveAspectRatio") == "xMidYMid meet"
    assert root.get("width") is None and root.get("height") is None
    assert len(root.get("viewBox").split()) == 4


def test_radar_chart_has_no_inline_style_or_script() -> None:
    svg = render(series=[
        RadarSeries("A", [1.0] * 8),
        RadarSeries("B", [2.0] * 8, kind="secondary"),
    ])

    assert "style" not in svg
    assert "<script" not in svg


@pytest.mark.parametrize("count", [3, 8])
def test_radar_chart_draws_one_spoke_and_one_label_per_axis(count: int) -> None:
    labels = EIGHT_LABELS[:count]
    root = parse(render(labels=labels))

    assert len(spokes(root)) == count
    texts = axis_labels_of(root)
    assert len(texts) == count
    rendered = [" ".join(span.text for span in text.findall("svg:tspan", NS)) for text in texts]
    assert rendered == labels


def test_radar_chart_wraps_labels_on_at_most_three_short_lines() -> None:
    long_label = "9. Un intitulé vraiment très long qui ne tiendrait jamais, au grand jamais, sur trois lignes"
    root = parse(render(labels=[*EIGHT_LABELS[:2], long_label]))

    wrapped = [
        [span.text for span in text.findall("svg:tspan", NS)] for text in axis_labels_of(root)
    ]
    for lines in wrapped:
        assert 1 <= len(lines) <= 3
        assert all(len(line) <= charts.LABEL_WRAP_CHARS for line in lines)
    assert len(wrapped[2]) == 3 and wrapped[2][-1].endswith("…")


def test_radar_chart_anchors_labels_away_from_the_polygon() -> None:
    root = parse(render())
    anchors = [text.get("text-anchor") for text in axis_labels_of(root)]

    # Axis 1 at the top, 3 at the right, 5 at the bottom, 7 at the left.
    assert anchors == ["middle", "start", "start", "start", "middle", "end", "end", "end"]


def test_radar_chart_keeps_label_anchors_inside_the_viewbox() -> None:
    root = parse(render())
    min_x, min_y, width, height = (float(n) for n in root.get("viewBox").split())

    for span in root.iter("{http://www.w3.org/2000/svg}tspan"):
        assert min_x <= float(span.get("x")) <= min_x + width
        assert min_y <= float(span.get("y")) <= min_y + height


@pytest.mark.parametrize("count", [3, 8])
def test_radar_chart_max_values_lie_on_the_outer_ring(count: int) -> None:
    root = parse(render(labels=EIGHT_LABELS[:count], series=[RadarSeries("A", [4.0] * count)]))
    cx, cy = centre(root)
    radius = outer_radius(root)
    vertices = series_vertices(root)

    assert len(vertices) == count
    for x, y in vertices:
        assert math.dist((cx, cy), (x, y)) == pytest.approx(radius, abs=0.02)
    # First axis at 12 o'clock, then clockwise.
    assert vertices[0][0] == pytest.approx(cx, abs=0.01) and vertices[0][1] < cy
    assert vertices[1][0] > cx


def test_radar_chart_places_half_value_halfway_to_the_outer_ring() -> None:
    root = parse(render(labels=EIGHT_LABELS[:4], series=[RadarSeries("A", [2.0, 4.0, 4.0, 4.0])]))
    cx, cy = centre(root)

    distance = math.dist((cx, cy), series_vertices(root)[0])
    assert distance == pytest.approx(outer_radius(root) / 2, abs=0.02)


def test_radar_chart_draws_none_at_the_centre_without_a_point() -> None:
    root = parse(render(labels=EIGHT_LABELS[:3], series=[RadarSeries("A", [None, 2.0, 3.0])]))
    cx, cy = centre(root)

    assert series_vertices(root)[0] == pytest.approx((cx, cy), abs=0.01)
    assert len(root.findall("svg:circle", NS)) == 2


def test_radar_chart_draws_one_grid_ring_per_default_tick() -> None:
    root = parse(render())
    rings = [p for p in root.findall("svg:polygon", NS) if p.get("fill") == "none"]
    tick_values = [t.text for t in root.findall("svg:text", NS) if t.find("svg:tspan", NS) is None]

    assert len(rings) == 4
    assert tick_values == ["1", "2", "3", "4"]


def test_radar_chart_escapes_all_text() -> None:
    nasty = "<script>alert('x')</script> & \"co\""
    svg = render(
        title=nasty,
        description=nasty,
        labels=[nasty, "B", "C"],
        series=[RadarSeries(nasty, [1.0, 2.0, 3.0]), RadarSeries("Autre", [1.0, 1.0, 1.0])],
    )

    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    root = parse(svg)
    assert root.find("svg:title", NS).text == nasty
    assert nasty in [t.text for t in root.findall("svg:text", NS)]


def test_radar_chart_shows_legend_only_with_several_series() -> None:
    single = parse(render(series=[RadarSeries("Seule", [1.0] * 8)]))
    double = parse(render(series=[
        RadarSeries("Positionnement du 12/03/2026", [3.0] * 8),
        RadarSeries("Positionnement du 01/09/2025", [2.0] * 8, kind="secondary"),
    ]))

    assert "Seule" not in [t.text for t in single.findall("svg:text", NS)]
    assert single.find("svg:rect", NS) is None
    legend_texts = [t.text for t in double.findall("svg:text", NS)]
    assert "Positionnement du 12/03/2026" in legend_texts
    assert "Positionnement du 01/09/2025" in legend_texts
    assert double.find("svg:rect", NS).get("fill") == PRIMARY_COLOR


def test_radar_chart_draws_secondary_series_dashed_without_fill() -> None:
    root = parse(render(series=[
        RadarSeries("A", [3.0] * 8),
        RadarSeries("B", [2.0] * 8, kind="secondary"),
    ]))
    secondary = next(p for p in root.findall("svg:polygon", NS) if p.get("stroke") == "#6b6b6b")

    assert secondary.get("fill") == "none"
    assert secondary.get("stroke-dasharray")


def test_radar_chart_rejects_fewer_than_three_axes() -> None:
    with pytest.raises(ValueError):
        render(labels=["A", "B"], series=[RadarSeries("A", [1.0, 2.0])])


def test_radar_chart_rejects_series_of_wrong_length() -> None:
    with pytest.raises(ValueError):
        render(labels=EIGHT_LABELS[:3], series=[RadarSeries("A", [1.0, 2.0])])


def test_format_score_uses_french_decimal_comma() -> None:
    assert format_score(2.3) == "2,3"
    assert format_score(1.456, digits=2) == "1,46"
    assert format_score(3, digits=0) == "3"


def test_format_score_rounds_halves_up_like_people_do() -> None:
    import numpy as np

    assert format_score(1.25) == "1,3"  # a float would give 1,2 (half to even)
    assert format_score(0.125, digits=2) == "0,13"
    assert format_score(np.float64(2.75)) == "2,8"
    assert format_score(-0.04) == "-0,0"


def test_format_score_shows_dash_for_missing_value() -> None:
    assert format_score(None) == "—"


def compact_of(root: ET.Element) -> ET.Element | None:
    return root.find("svg:svg", NS)


def test_radar_chart_without_short_labels_has_no_compact_drawing() -> None:
    root = parse(render())

    assert compact_of(root) is None
    assert root.get("class") is None


def test_radar_chart_with_short_labels_holds_a_hidden_compact_drawing_labelled_with_them() -> None:
    root = parse(render(short_labels=[str(n) for n in range(1, 9)]))
    compact = compact_of(root)

    assert root.get("class") == "radar-responsive"
    assert compact.get("class") == "radar-compact"
    # Hidden unless app.css shows it on a phone: print and PDF never show it.
    assert compact.get("display") == "none"
    codes = [t for t in compact.findall("svg:text", NS) if t.get("font-weight") == "bold"]
    assert [t.text for t in codes] == [str(n) for n in range(1, 9)]
    # The full drawing is unchanged beside it: one label per axis, the same series.
    assert [" ".join(s.text for s in t.findall("svg:tspan", NS)) for t in axis_labels_of(root)] == EIGHT_LABELS
    assert len(compact.findall("svg:polygon", NS)) == len(root.findall("svg:polygon", NS))


def test_radar_chart_compact_drawing_covers_the_square_centred_on_the_root() -> None:
    root = parse(render(short_labels=list("ABCDEFGH")))
    compact = compact_of(root)
    min_x, min_y, width, height = (float(n) for n in root.get("viewBox").split())
    side = max(width, height)

    assert float(compact.get("width")) == pytest.approx(side, abs=0.01)
    assert float(compact.get("height")) == pytest.approx(side, abs=0.01)
    assert float(compact.get("x")) + side / 2 == pytest.approx(min_x + width / 2, abs=0.01)
    assert float(compact.get("y")) + side / 2 == pytest.approx(min_y + height / 2, abs=0.01)


def test_radar_chart_compact_labels_are_larger_relative_to_the_drawing() -> None:
    root = parse(render(short_labels=list("ABCDEFGH")))
    compact = compact_of(root)
    full_label = float(axis_labels_of(root)[0].get("font-size"))
    compact_label = float(next(t for t in compact.findall("svg:text", NS) if t.get("font-weight") == "bold").get("font-size"))
    full_width = float(root.get("viewBox").split()[2])
    compact_width = float(compact.get("viewBox").split()[2])

    # What share of the drawing's width one letter takes: what makes it readable once scaled down.
    assert compact_label / compact_width > 2.5 * full_label / full_width


def test_radar_chart_rejects_short_labels_of_wrong_length() -> None:
    with pytest.raises(ValueError):
        render(short_labels=["1", "2"])
