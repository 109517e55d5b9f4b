"""What the study report (printed to PDF) shows: methodology, then the dashboard's figures.

Every figure reaches the template as text already decided here: a suppressed one is « s »
and nothing else, so no template can print a hidden value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from grille.core.charts import format_score
from grille.core.statistics import MANN_WHITNEY_TEST_NAME
from grille.disclosure.cells import SUPPRESSED_MARK, Cell
from grille.frameworks import grid as g
from grille.frameworks.charts import situation_radar, situation_series
from grille.frameworks.models import Practice

from .comparison import ComparisonRow, compare_waves
from .dashboard import Dashboard, MeanCell, Tracking
from .exporters import filter_labels, secrecy_note, synthetic_notice
from .models import Campaign, PreviousWave

P_VALUE_FLOOR = 0.001
# More dashed polygons than this cannot be told apart; the table beside the radar gives every segment.
RADAR_MAX_SEGMENTS = 3


@dataclass(frozen=True)
class Figure:
    """A figure as printed: its text, and whether it is the suppression mark."""

    text: str
    suppressed: bool = False

    def __str__(self) -> str:
        return self.text


SECRET = Figure(SUPPRESSED_MARK, suppressed=True)
NONE = Figure("—")


@dataclass(frozen=True)
class MeanRow:
    code: str
    label: str
    mean: Figure
    low: Figure
    high: Figure
    n: Figure


@dataclass(frozen=True)
class PracticeLine:
    practice: g.Practice
    answered: Figure
    shares: list[Figure]  # one per level option, in percent of the answers
    mean: Figure
    wish: Figure
    partnership: Figure


@dataclass(frozen=True)
class PracticeGroup:
    code: str
    label: str
    lines: list[PracticeLine]


@dataclass(frozen=True)
class SegmentLine:
    label: str
    size: Figure
    means: list[Figure]


@dataclass(frozen=True)
class WaveComparison:
    """One earlier wave compared with the campaign: `comparison.compare_waves`' result."""

    wave: PreviousWave
    rows: list[ComparisonRow]
    unmapped: list[Practice]


@dataclass(frozen=True)
class ComparisonLine:
    practice: g.Practice
    items: str
    mean_before: Figure
    mean_after: Figure
    rank_biserial: Figure
    p_value: Figure
    n_before: Figure
    n_after: Figure
    note: str = ""


@dataclass(frozen=True)
class WaveSection:
    wave: PreviousWave
    lines: list[ComparisonLine]
    not_comparable: list[g.Practice]
    unmapped: list[Practice]


def wave_comparisons(campaign: Campaign) -> list[WaveComparison]:
    """Every earlier wave of the campaign compared with it, most recent first."""
    return [
        WaveComparison(wave, *compare_waves(campaign, wave))
        for wave in PreviousWave.objects.filter(campaign=campaign).order_by("-year", "-pk")
    ]


def _number(value: float | None, digits: int = 2) -> Figure:
    return NONE if value is None else Figure(format_score(value, digits))


def _count(cell: Cell) -> Figure:
    if cell.suppressed:
        return SECRET
    return NONE if cell.value is None else Figure(str(cell.value))


def _share(cell: Cell, total: Cell) -> Figure:
    if cell.suppressed or total.suppressed:
        return SECRET
    if not total.value or cell.value is None:
        return NONE
    return Figure(format_score(100 * cell.value / total.value, 0))


def _mean_row(item: g.Situation | g.Axis, mean: MeanCell) -> MeanRow:
    if mean.suppressed:
        return MeanRow(item.code, item.label, SECRET, SECRET, SECRET, SECRET)
    return MeanRow(
        item.code, item.label, _number(mean.mean), _number(mean.low), _number(mean.high),
        NONE if mean.n is None else Figure(str(mean.n)),
    )


def _signed(value: float | None) -> Figure:
    if value is None:
        return NONE
    text = format_score(abs(value), 2)
    if round(value, 2) == 0:
        return Figure(text)
    return Figure(("+" if value > 0 else "−") + text)


def _p_value(value: float | None) -> Figure:
    if value is None:
        return NONE
    if value < P_VALUE_FLOOR:
        return Figure("< " + format_score(P_VALUE_FLOOR, 3))
    return Figure(format_score(value, 3))


def _comparison_line(row: ComparisonRow) -> ComparisonLine:
    items = ", ".join(row.items)
    if row.suppressed:
        return ComparisonLine(row.practice, items, SECRET, SECRET, SECRET, SECRET, SECRET, SECRET)
    test = row.test
    return ComparisonLine(
        practice=row.practice,
        items=items,
        mean_before=_number(row.mean_before),
        mean_after=_number(row.mean_after),
        rank_biserial=_signed(test.rank_biserial if test else None),
        p_value=_p_value(test.p_value if test else None),
        n_before=Figure(str(sum((row.before or {}).values()))),
        n_after=Figure(str(sum(row.after.values()))),
        note=test.reason if test else "",
    )


def _wave_section(comparison: WaveComparison | tuple) -> WaveSection:
    if not isinstance(comparison, WaveComparison):
        comparison = WaveComparison(*comparison)
    return WaveSection(
        wave=comparison.wave,
        lines=[_comparison_line(row) for row in comparison.rows if row.comparable],
        not_comparable=[row.practice for row in comparison.rows if not row.comparable],
        unmapped=list(comparison.unmapped),
    )


def _shown_means(cells: Mapping[str, MeanCell]) -> dict[str, float | None]:
    return {code: None if cell.suppressed else cell.mean for code, cell in cells.items()}


def study_radar(dashboard: Dashboard, *, chart_id: str) -> str:
    """The radar of the study page and of the study PDF: the mean level per situation of the
    respondents and, when one to three segments are shown, of each segment; suppressed means are
    left out. Empty when no mean of the respondents may be shown."""
    overall = _shown_means({situation.code: cell for situation, cell in dashboard.situations})
    if dashboard.population_suppressed or all(mean is None for mean in overall.values()):
        return ""
    grid = dashboard.grid
    series = [situation_series(grid, overall, label=_("Ensemble"))]
    shown = [segment for segment in dashboard.segments if not segment.suppressed]
    if len(shown) <= RADAR_MAX_SEGMENTS:
        series += [
            situation_series(
                grid, _shown_means(dashboard.segment_situations.get(segment.code, {})),
                label=segment.label, kind="secondary",
            )
            for segment in shown
        ]
    return situation_radar(grid, series, chart_id=chart_id, title=_("Niveau moyen par situation professionnelle"))


def _percent(value: float | None) -> str:
    return "" if value is None else format_score(100 * value, 1) + " %"


def report_context(
    campaign: Campaign,
    dashboard: Dashboard,
    tracking: Tracking,
    comparisons: Iterable[WaveComparison | tuple[PreviousWave, list[ComparisonRow], list[Practice]]] | None = None,
    *,
    now: datetime | None = None,
    chart_id: str = "study-radar-pdf",
) -> dict:
    """Everything studies/report_pdf.html needs, radar SVG included.

    `tracking` is `dashboard.build_tracking(campaign)`; `comparisons` the earlier waves to
    compare with (`wave_comparisons(campaign)`, or `(wave, *compare_waves(campaign, wave))`
    tuples), none by default. Queries: the filters' labels only.
    """
    grid = dashboard.grid
    groups = {s.code: PracticeGroup(s.code, s.label, []) for s in grid.situations}
    for row in dashboard.practices:
        groups[row.practice.situation_code].lines.append(PracticeLine(
            practice=row.practice,
            answered=_count(row.answered),
            shares=[_share(cell, row.answered) for _option, cell in row.levels],
            mean=SECRET if row.mean.suppressed else _number(row.mean.mean),
            wish=_count(row.wish),
            partnership=_count(row.partnership),
        ))
    segments = [
        SegmentLine(
            label=segment.label,
            size=SECRET if segment.suppressed else Figure(str(segment.size)),
            means=[
                SECRET if segment.suppressed else _segment_mean(dashboard, segment.code, s.code)
                for s in grid.situations
            ],
        )
        for segment in dashboard.segments
    ] if dashboard.compare is not None else []
    return {
        "campaign": campaign,
        "grid": grid,
        "dashboard": dashboard,
        "tracking": tracking,
        "k": dashboard.k,
        "generated_at": now or timezone.now(),
        "synthetic_notice": synthetic_notice(),
        "secrecy_note": secrecy_note(dashboard.k),
        "respondents": SECRET if dashboard.population_suppressed else Figure(str(dashboard.respondents)),
        "response_rate": _percent(tracking.response_rate),
        "filters": filter_labels(campaign, dashboard.filters),
        "test_name": MANN_WHITNEY_TEST_NAME,
        "radar": study_radar(dashboard, chart_id=chart_id),
        "situations": [_mean_row(s, mean) for s, mean in dashboard.situations],
        "axes": [_mean_row(a, mean) for a, mean in dashboard.axes],
        "level_options": grid.level.options,
        "scored_levels": [o for o in grid.level.options if o.value is not None],
        "practice_groups": [group for group in groups.values() if group.lines],
        "segments": segments,
        "waves": [_wave_section(c) for c in comparisons or ()],
    }


def _segment_mean(dashboard: Dashboard, segment: str, situation: str) -> Figure:
    mean = dashboard.segment_situations.get(segment, {}).get(situation)
    if mean is None:
        return NONE
    return SECRET if mean.suppressed else _number(mean.mean)
