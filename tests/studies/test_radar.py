"""The study's radar: one builder, so the results page and the PDF report draw the same one."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from django.test import Client
from django.urls import reverse

from grille.disclosure.cells import MeanCell
from grille.studies.dashboard import Dashboard, Segment, build_dashboard, build_tracking
from grille.studies.reports import report_context, study_radar

NS = {"svg": "http://www.w3.org/2000/svg"}


def analyst_get(analyst, name: str, campaign, query: str = ""):
    client = Client()
    client.force_login(analyst)
    return client.get(reverse(f"studies:{name}", args=[campaign.uuid]) + query)


def drawn(svg: str) -> dict[str, object]:
    """What a radar shows, its id left aside: title, polygons, points and texts."""
    root = ET.fromstring(svg)
    return {
        "title": root.find("svg:title", NS).text,
        "polygons": [(p.get("points"), p.get("fill"), p.get("stroke")) for p in root.findall("svg:polygon", NS)],
        "points": [c.find("svg:title", NS).text for c in root.findall("svg:circle", NS)],
        "texts": ["".join(t.itertext()) for t in root.findall("svg:text", NS)],
    }


def dashboard(grid, *, overall: MeanCell, segments: dict[str, MeanCell] | None = None) -> Dashboard:
    """A dashboard of `grid` with the same mean on every situation, for the whole and per segment."""
    segments = segments or {}
    return Dashboard(
        campaign=None, grid=grid, k=5, filters={}, respondents=40, population_suppressed=overall.suppressed,
        situations=[(s, overall) for s in grid.situations], axes=[], practices=[],
        segments=[Segment(code=code, label=f"Segment {code}", size=10, suppressed=False) for code in segments],
        segment_situations={code: {s.code: cell for s in grid.situations} for code, cell in segments.items()},
    )


def test_study_page_and_pdf_report_draw_the_same_radar(campaign, analyst, respondents):
    respondents(6, level="3")
    respondents(4, level="1")

    page = analyst_get(analyst, "dashboard", campaign).context["radar"]
    # What the PDF's builder (grille/studies/files.py) prints, computed as it does.
    report = report_context(campaign, build_dashboard(campaign), build_tracking(campaign))["radar"]

    assert page.startswith("<svg") and 'id="study-radar-title"' in page
    assert 'id="study-radar-pdf-title"' in report
    assert drawn(page) == drawn(report)
    assert page.replace("study-radar", "radar") == report.replace("study-radar-pdf", "radar")


def test_study_radar_draws_each_shown_segment_dashed_under_the_whole(grid):
    svg = study_radar(
        dashboard(grid, overall=MeanCell(n=20, mean=2.0), segments={"a": MeanCell(n=10, mean=1.0), "b": MeanCell(n=10, mean=3.0)}),
        chart_id="r",
    )

    polygons = [p for p in ET.fromstring(svg).findall("svg:polygon", NS) if p.get("stroke") != "#c8c8c8"]
    assert [p.get("stroke-dasharray") for p in polygons] == [None, "6 4", "6 4"]
    assert {"Ensemble", "Segment a", "Segment b"} <= set(drawn(svg)["texts"])


def test_study_radar_leaves_segments_out_beyond_three(grid):
    cells = {code: MeanCell(n=10, mean=2.0) for code in "abcd"}
    svg = study_radar(dashboard(grid, overall=MeanCell(n=40, mean=2.0), segments=cells), chart_id="r")

    polygons = [p for p in ET.fromstring(svg).findall("svg:polygon", NS) if p.get("stroke") != "#c8c8c8"]
    assert len(polygons) == 1
    assert "Segment a" not in drawn(svg)["texts"]


def test_study_radar_draws_a_suppressed_segment_mean_without_a_point(grid):
    svg = study_radar(
        dashboard(grid, overall=MeanCell(n=20, mean=2.0), segments={"a": MeanCell.hidden()}), chart_id="r",
    )

    assert len(drawn(svg)["points"]) == len(grid.situations)


def test_study_radar_is_empty_when_no_mean_may_be_shown(grid):
    assert study_radar(dashboard(grid, overall=MeanCell.hidden()), chart_id="r") == ""
    assert study_radar(dashboard(grid, overall=MeanCell(n=20)), chart_id="r") == ""
