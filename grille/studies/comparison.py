"""Wave-to-wave comparison through a crosswalk: the change in each practice's level
distribution, its effect size and a significance test, and plainly what cannot be compared."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from grille.core.statistics import MannWhitney, mann_whitney_from_counts
from grille.disclosure.aggregation import GroupTallies, tally_groups
from grille.disclosure.protect import publish_group
from grille.frameworks import grid as g
from grille.frameworks.models import CrosswalkEntry, Practice
from grille.frameworks.selectors import get_grid

from .dashboard import completed_answers
from .models import Campaign, PreviousWave, WaveItem
from .pools import results_withheld


@dataclass
class ComparisonRow:
    practice: g.Practice
    items: list[str]                    # earlier items read as this practice
    before: dict[int, int] | None       # level value -> count (None: not comparable)
    after: dict[int, int]
    test: MannWhitney | None
    comparable: bool
    suppressed: bool
    reason: str = ""

    @property
    def mean_before(self) -> float | None:
        return _mean(self.before)

    @property
    def mean_after(self) -> float | None:
        return _mean(self.after)


def _mean(counts: dict[int, int] | None) -> float | None:
    if not counts:
        return None
    total = sum(counts.values())
    return sum(level * n for level, n in counts.items()) / total if total else None


def combine(counts: list[tuple[dict[int, int], float]]) -> dict[int, int]:
    """Several earlier items read as one practice (many-to-one): their distributions are
    averaged with the crosswalk's weights, so no respondent counts twice."""
    if len(counts) == 1:
        return dict(counts[0][0])
    total_weight = sum(weight for _counts, weight in counts) or 1.0
    levels: dict[int, float] = defaultdict(float)
    for item_counts, weight in counts:
        for level, n in item_counts.items():
            levels[level] += n * weight / total_weight
    return {level: round(n) for level, n in levels.items()}


def current_distributions(campaign: Campaign) -> dict[int, dict[int, int]]:
    """Practice id -> level value -> published count among the campaign's published results:
    the protected distributions of the aggregation core, shown cells only."""
    if results_withheld(campaign):
        return {}
    grid = get_grid(campaign.version_id)
    tallies = tally_groups(completed_answers(campaign), grid).get(None) or GroupTallies()
    figures = publish_group(tallies, grid, campaign.threshold)
    return {
        practice_id: {
            o.value: int(c.value)
            for o, c in practice.levels.cells
            if o.value is not None and not c.suppressed and c.value is not None
        }
        for practice_id, practice in figures.practices.items()
    }


def compare_waves(campaign: Campaign, wave: PreviousWave) -> tuple[list[ComparisonRow], list[Practice]]:
    """One row per practice of the campaign's grid, and the earlier items that map to nothing.

    The earlier items are read through the crosswalk from the wave's version to the campaign's.
    """
    grid = get_grid(campaign.version_id)
    k = campaign.threshold
    wave_items = WaveItem.objects.filter(wave=wave).select_related("practice").order_by("practice__code")
    items = {item.practice_id: item for item in wave_items}
    links = (
        CrosswalkEntry.objects.filter(crosswalk__source_id=wave.version_id, crosswalk__target_id=campaign.version_id)
        .order_by("pk")
        .values_list("source_practice_id", "target_practice_id", "weight")
    )
    by_practice: dict[int, list[tuple[WaveItem, Decimal]]] = defaultdict(list)
    for source_id, target_id, weight in links:
        by_practice[target_id].append((items[source_id], weight))
    after_all = current_distributions(campaign)
    rows = []
    for practice in grid.practices:
        after = after_all.get(practice.id, {})
        mapped = by_practice.get(practice.id, [])
        if not mapped:
            rows.append(ComparisonRow(practice, [], None, after, None, comparable=False, suppressed=False,
                                      reason="no-item"))
            continue
        codes = [item.practice.code for item, _weight in mapped]
        before = combine([({int(level): n for level, n in item.counts.items()}, float(weight)) for item, weight in mapped])
        n_before, n_after = sum(before.values()), sum(after.values())
        if n_before < k or n_after < k:
            rows.append(ComparisonRow(practice, codes, None, {}, None, comparable=True, suppressed=True, reason="small"))
            continue
        rows.append(ComparisonRow(
            practice, codes, before, after, mann_whitney_from_counts(before, after), comparable=True, suppressed=False,
        ))
    linked = {item.practice_id for mapped in by_practice.values() for item, _weight in mapped}
    return rows, [item.practice for item in items.values() if item.practice_id not in linked]
