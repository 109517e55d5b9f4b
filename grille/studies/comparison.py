"""Wave-to-wave comparison through a crosswalk: the change in each practice's level
distribution, its effect size and a significance test, and plainly what cannot be compared."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from grille.core.statistics import MannWhitney, mann_whitney_from_counts
from grille.disclosure.aggregation import GroupTallies, tally_groups
from grille.disclosure.protect import publish_group
from grille.frameworks import grid as g
from grille.frameworks.selectors import get_grid

from .dashboard import completed_answers
from .models import Campaign, CrosswalkLink, PreviousWave, WaveItem
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

    def shares(self, counts: dict[int, int] | None) -> list[tuple[int, float]]:
        if not counts:
            return []
        total = sum(counts.values())
        return [(level, n / total) for level, n in sorted(counts.items())] if total else []

    @property
    def before_shares(self):
        return self.shares(self.before)

    @property
    def after_shares(self):
        return self.shares(self.after)

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


def compare_waves(campaign: Campaign, wave: PreviousWave) -> tuple[list[ComparisonRow], list[WaveItem]]:
    """One row per practice of the campaign's grid, and the earlier items that map to nothing."""
    grid = get_grid(campaign.version_id)
    k = campaign.threshold
    links = list(CrosswalkLink.objects.filter(wave=wave).select_related("item"))
    by_practice: dict[int, list[CrosswalkLink]] = defaultdict(list)
    for link in links:
        by_practice[link.practice_id].append(link)
    after_all = current_distributions(campaign)
    rows = []
    for practice in grid.practices:
        after = after_all.get(practice.id, {})
        mapped = by_practice.get(practice.id, [])
        if not mapped:
            rows.append(ComparisonRow(practice, [], None, after, None, comparable=False, suppressed=False,
                                      reason="no-item"))
            continue
        before = combine([({int(level): n for level, n in link.item.counts.items()}, float(link.weight)) for link in mapped])
        n_before, n_after = sum(before.values()), sum(after.values())
        if n_before < k or n_after < k:
            rows.append(ComparisonRow(practice, [link.item.code for link in mapped], None, {}, None,
                                      comparable=True, suppressed=True, reason="small"))
            continue
        rows.append(ComparisonRow(
            practice, [link.item.code for link in mapped], before, after, mann_whitney_from_counts(before, after),
            comparable=True, suppressed=False,
        ))
    linked_items = {link.item_id for link in links}
    unmapped = [item for item in WaveItem.objects.filter(wave=wave).order_by("code") if item.pk not in linked_items]
    return rows, unmapped
