"""The team map: what the members who chose to share show of their practices.

Two kinds of share, two rules:
- a named share is seen: each answer is shown beside the member's name, and the team's figures
  count it exactly through the aggregation core (no perturbation: every named answer is
  visible anyway);
- an anonymous share counts only through the team's anonymous pool (pools.py): shown from
  ANONYMOUS_MIN released shares on, changing by batches of at least ANONYMOUS_BATCH brand-new
  shares, shown not at all after a departure until the next batch; its figures come out of the
  disclosure layer (publish_group with k = ANONYMOUS_MIN: perturbed, hidden below k, empty
  cells hidden too).

A team figure adds the named exact counts and the pool's *shown* cells, and every derived
figure (mean, spread, « Réguliers », gaps, strengths, situation means) is computed from those
sums, with the definitions of grille/disclosure/aggregation.py. Figures that include the pool
are approximate. The number of queries does not depend on the size of the team.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction

from django.db.models import Count, QuerySet

from grille.assessments.models import Answer
from grille.core.charts import distribution_bar
from grille.core.people import distinct_labels
from grille.core.statistics import mean_variance_from_sums
from grille.disclosure import release
from grille.disclosure.aggregation import GroupTallies, person_score, tally_groups
from grille.disclosure.cells import EMPTY, Cell
from grille.disclosure.policy import ANONYMOUS_BATCH, ANONYMOUS_MIN
from grille.disclosure.protect import GroupFigures, publish_group
from grille.frameworks import grid as g
from grille.frameworks.selectors import get_grid

from .enums import ShareMode
from .models import Organisation, Share
from .pools import team_pool

__all__ = ["ANONYMOUS_BATCH", "ANONYMOUS_MIN", "Contributor", "PracticeStats", "TeamMap", "build_team_map"]


@dataclass(frozen=True)
class Contributor:
    assessment_id: int
    name: str


@dataclass
class PracticeStats:
    practice: g.Practice
    answered: int = 0            # answers with a level (« Non concerné·e » included)
    scored: int = 0              # answers with a value: the denominator of the mean and of « Réguliers »
    mean: float | None = None
    variance: float | None = None  # sample variance (ddof = 1), from two answers with a value
    regular: int = 0             # at or above the grid's strength floor
    wish: int = 0
    partnership: int = 0
    levels: dict[int, int] = field(default_factory=dict)   # option id -> count
    approximate: bool = False    # the anonymous pool's shown cells are in these figures
    # Some of the pool's cells at a strength level are hidden: « nobody regularly » is not known.
    regular_uncertain: bool = False

    @property
    def spread(self) -> float | None:
        return None if self.variance is None else max(self.variance, 0.0) ** 0.5


@dataclass
class TeamMap:
    grid: g.Grid
    contributors: list[Contributor]           # named contributions, in name order
    named_count: int
    anonymous_count: int                      # the published pool's size (approximate), 0 when not shown
    anonymous_included: bool                  # the anonymous pool's figures are in the team's figures
    practices: list[PracticeStats]
    matrix: dict[tuple[int, int], dict]       # (assessment id, practice id) -> {"level": option, ...}
    situation_means: dict[str, float | None]  # situation code -> team mean of its members' scores
    member_situation_means: dict[int, dict[str, float | None]]  # assessment id -> code -> score
    anonymous_pending: int = 0                # active anonymous shares not in the figures: waiting for a batch
    anonymous_withheld: bool = False          # a counted anonymous share left: nothing shown until the next batch
    pool: GroupFigures | None = None          # the anonymous pool's published figures

    @property
    def contribution_count(self) -> int:
        return self.named_count + self.anonymous_count

    @property
    def approximate(self) -> bool:
        """Team figures include perturbed counts of the anonymous pool."""
        return self.anonymous_included

    def stats(self, code: str) -> PracticeStats:
        return next(p for p in self.practices if p.practice.code == code)

    def distribution(self, stats: PracticeStats) -> list[tuple[g.Option, int]]:
        """(level option, count) in the scale's order, for one practice."""
        return [(option, stats.levels.get(option.id, 0)) for option in self.grid.level.options]

    def matrix_rows(self) -> list[dict]:
        """One row per practice: its stats and each named member's answer, in contributor order."""
        return [
            {
                "stats": stats,
                "distribution": self.distribution(stats),
                "bar": distribution_bar(
                    segments=[(o.label, n, o.value is not None) for o, n in self.distribution(stats)]
                ),
                "cells": [self.matrix.get((c.assessment_id, stats.practice.id)) for c in self.contributors],
            }
            for stats in self.practices
        ]

    def situation_rows(self) -> list[dict]:
        """Per situation: the team mean and each named member's mean."""
        return [
            {
                "situation": situation,
                "team": self.situation_means.get(situation.code),
                "members": [self.member_situation_means.get(c.assessment_id, {}).get(situation.code) for c in self.contributors],
            }
            for situation in self.grid.situations
        ]

    @property
    def gaps(self) -> list[PracticeStats]:
        """Practices nobody in the team carries regularly (not claimed where anonymous cells at a
        strength level are hidden: someone may be there)."""
        if not self.contribution_count:
            return []
        return [p for p in self.practices if p.regular == 0 and not p.regular_uncertain]

    @property
    def strengths(self) -> list[PracticeStats]:
        ranked = [p for p in self.practices if p.regular > 0]
        return sorted(ranked, key=lambda p: (-p.regular, -(p.mean or 0)))[:6]

    @property
    def disagreements(self) -> list[PracticeStats]:
        """Where levels differ most within the team (standard deviation), at least two answers."""
        spread = [p for p in self.practices if p.scored >= 2 and (p.spread or 0) > 0]
        return sorted(spread, key=lambda p: -(p.spread or 0))[:5]


def _active_shares(organisation: Organisation) -> QuerySet[Share]:
    return Share.objects.filter(
        organisation=organisation, withdrawn_at__isnull=True, assessment__version=organisation.version_id
    )


def _shown(cell: Cell) -> int:
    return 0 if cell.suppressed or cell.value is None else int(cell.value)


def _answers_of(shares: QuerySet[Share]) -> QuerySet[Answer]:
    # A subquery, not a list of ids: the same queries run whether the list is empty or not.
    return Answer.objects.filter(assessment_id__in=shares.values("assessment_id"))


def _practice_stats(practice: g.Practice, levels: dict[int, int], wish: int, partnership: int,
                    grid: g.Grid, *, approximate: bool) -> PracticeStats:
    """A practice's figures from its level counts, with the definitions of the aggregation core."""
    floor = grid.level.strength_floor
    valued = [(o.value, levels.get(o.id, 0)) for o in grid.level.options if o.value is not None]
    scored = sum(n for _v, n in valued)
    stats = PracticeStats(
        practice=practice,
        answered=sum(levels.values()),
        scored=scored,
        regular=sum(n for v, n in valued if v >= floor),
        wish=wish,
        partnership=partnership,
        levels={option_id: n for option_id, n in levels.items() if n},
        approximate=approximate,
    )
    if scored:
        total = sum(v * n for v, n in valued)
        stats.mean = float(Fraction(total, scored))
        if scored >= 2:
            _mean, stats.variance = mean_variance_from_sums(scored, total, sum(v * v * n for v, n in valued))
    return stats


def _group_mean(scores: Iterable[tuple[Fraction, int]]) -> float | None:
    """The mean of the members' scores, given as (score, number of people)."""
    pairs = [(score, n) for score, n in scores if n > 0]
    people = sum(n for _s, n in pairs)
    return float(sum((s * n for s, n in pairs), Fraction(0)) / people) if people else None


def _published_pool(organisation: Organisation, grid: g.Grid) -> tuple[GroupFigures | None, int, bool]:
    """The anonymous pool's published figures, None when it shows nothing (withheld after a
    departure until the next batch, fewer than ANONYMOUS_MIN released shares, or a size that
    reads below it after noise); the number of active anonymous shares those figures do not
    count; and whether the pool is withheld."""
    key, eligible = team_pool(organisation)
    counts = dict(eligible.values_list("released").annotate(n=Count("id")).order_by())
    withheld = release.published(key, eligible) is None
    tallies = tally_groups(_answers_of(eligible.filter(released=True)), grid).get(None, GroupTallies())
    figures = publish_group(tallies, grid, k=ANONYMOUS_MIN) if tallies.population.n >= ANONYMOUS_MIN else None
    if withheld or figures is None or not figures.shown:
        return None, counts.get(False, 0) + counts.get(True, 0), withheld
    return figures, counts.get(False, 0), False


def build_team_map(organisation: Organisation) -> TeamMap:
    """All the numbers of the team map, in a fixed number of queries whatever the team's size."""
    grid = get_grid(organisation.version_id)
    named_shares = _active_shares(organisation).filter(mode=ShareMode.NAMED)
    # In name order, people without a name last (in the order they joined, not by address).
    named = sorted(
        named_shares.select_related("user"),
        key=lambda s: (not s.user.display_name.strip(), s.user.display_name.strip().casefold(), s.user_id),
    )
    # Named by the name each chose, never by their address; two alike are numbered.
    contributors = [Contributor(s.assessment_id, label) for s, label in zip(named, distinct_labels([s.user for s in named]), strict=True)]

    matrix: dict[tuple[int, int], dict] = {}
    levels_of: dict[int, dict[str, list[int]]] = {c.assessment_id: {} for c in contributors}
    situation_of = {p.id: p.situation_code for p in grid.practices}
    for assessment_id, practice_id, level_id, wish_id, carrying_id in _answers_of(named_shares).values_list(
        "assessment_id", "practice_id", "level_id", "wish_id", "carrying_id"
    ):
        level = grid.level.option_by_id(level_id)
        matrix[(assessment_id, practice_id)] = {
            "level": level,
            "wish": grid.wish.option_by_id(wish_id),
            "carrying": grid.carrying.option_by_id(carrying_id),
        }
        scores = levels_of.setdefault(assessment_id, {}).setdefault(situation_of[practice_id], [])
        if level is not None and level.value is not None:
            scores.append(level.value)

    exact = tally_groups(_answers_of(named_shares), grid).get(None, GroupTallies())
    pool, pending, withheld = _published_pool(organisation, grid)
    approximate = pool is not None

    practices = []
    for practice in grid.practices:
        levels = {option_id: tally.n for option_id, tally in exact.levels.get(practice.id, {}).items()}
        wish = exact.wish.get(practice.id, EMPTY).n
        partnership = exact.partnership.get(practice.id, EMPTY).n
        if pool is not None:
            figures = pool.practices[practice.id]
            for option_id, n in figures.levels.shown_counts().items():
                levels[option_id] = levels.get(option_id, 0) + n
            wish += _shown(figures.wish)
            partnership += _shown(figures.partnership)
        stats = _practice_stats(practice, levels, wish, partnership, grid, approximate=approximate)
        if pool is not None:
            floor = grid.level.strength_floor
            stats.regular_uncertain = any(
                c.suppressed for o, c in pool.practices[practice.id].levels.cells if o.value is not None and o.value >= floor
            )
        practices.append(stats)

    # A member's score in a situation: the mean of their levels with a value in it (None when
    # they answered only « Non concerné·e » there); the team's: the mean of its members' scores.
    member_means: dict[int, dict[str, float | None]] = {}
    named_scores: dict[str, list[tuple[Fraction, int]]] = defaultdict(list)
    for assessment_id, by_situation in levels_of.items():
        member_means[assessment_id] = {}
        for code, values in by_situation.items():
            score = person_score(values)
            member_means[assessment_id][code] = None if score is None else float(score)
            if score is not None:
                named_scores[code].append((score, 1))
    situation_means = {
        s.code: _group_mean([*named_scores[s.code], *(pool.situation_classes.get(s.code, ()) if pool else ())])
        for s in grid.situations
    }

    return TeamMap(
        grid=grid,
        contributors=contributors,
        named_count=len(contributors),
        anonymous_count=_shown(pool.size) if pool is not None else 0,
        anonymous_included=pool is not None,
        practices=practices,
        matrix=matrix,
        situation_means=situation_means,
        member_situation_means=member_means,
        anonymous_pending=pending,
        anonymous_withheld=withheld,
        pool=pool,
    )
