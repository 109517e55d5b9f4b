"""The team map: what the members who chose to share show of their practices.

Every figure is computed by the database, in a fixed number of queries
whatever the size of the team. Anonymous contributions are only counted
once there are at least ANONYMOUS_MIN of them, and are never shown alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Avg, Count, F, Q, QuerySet

from grille.assessments.models import Answer
from grille.core.charts import distribution_bar
from grille.frameworks import grid as g
from grille.frameworks.models import Situation
from grille.frameworks.selectors import get_grid

from .enums import ShareMode
from .models import Organisation, Share

ANONYMOUS_MIN = 3


@dataclass(frozen=True)
class Contributor:
    share_id: int
    assessment_id: int
    name: str


@dataclass
class PracticeStats:
    practice: g.Practice
    answered: int = 0            # contributions with a level (« Non concerné·e » included)
    scored: int = 0              # contributions counted in the mean
    mean: float | None = None
    variance: float | None = None
    regular: int = 0             # at the two top levels
    wish: int = 0
    partnership: int = 0
    levels: dict[int, int] = field(default_factory=dict)   # option id -> count

    @property
    def spread(self) -> float | None:
        return None if self.variance is None else max(self.variance, 0.0) ** 0.5


@dataclass
class TeamMap:
    grid: g.Grid
    contributors: list[Contributor]           # named contributions, in name order
    named_count: int
    anonymous_count: int                      # active anonymous shares, counted or not
    anonymous_included: bool
    practices: list[PracticeStats]
    matrix: dict[tuple[int, int], dict]       # (assessment id, practice id) -> {"level": option, ...}
    situation_means: dict[str, float | None]  # situation code -> team mean
    member_situation_means: dict[int, dict[str, float | None]]  # assessment id -> code -> mean

    @property
    def contribution_count(self) -> int:
        return self.named_count + (self.anonymous_count if self.anonymous_included else 0)

    @property
    def anonymous_pending(self) -> int:
        return 0 if self.anonymous_included else self.anonymous_count

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
        """Practices nobody in the team carries regularly."""
        if not self.contribution_count:
            return []
        return [p for p in self.practices if p.regular == 0]

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


def build_team_map(organisation: Organisation) -> TeamMap:
    """All the numbers of the team map, in a fixed number of queries whatever the team's size."""
    grid = get_grid(organisation.version_id)
    counts = dict(_active_shares(organisation).values_list("mode").annotate(n=Count("id")))
    named_count = counts.get(ShareMode.NAMED, 0)
    anonymous_count = counts.get(ShareMode.ANONYMOUS, 0)
    anonymous_included = anonymous_count >= ANONYMOUS_MIN
    shares = _active_shares(organisation)
    if not anonymous_included:
        shares = shares.filter(mode=ShareMode.NAMED)
    named = list(
        _active_shares(organisation)
        .filter(mode=ShareMode.NAMED)
        .select_related("user")
        .order_by("user__display_name", "user__email")
    )
    contributors = [Contributor(s.pk, s.assessment_id, str(s.user)) for s in named]
    answers = Answer.objects.filter(assessment__shares__in=shares)
    strength_floor = max(1, grid.level.max_value - 1)
    partnership_ids = [o.id for o in grid.carrying.options if o.partnership]
    per_practice = answers.values("practice_id").annotate(
        answered=Count("id", filter=Q(level__isnull=False)),
        scored=Count("level__value"),
        mean=Avg("level__value"),
        mean_sq=Avg(F("level__value") * F("level__value")),
        regular=Count("id", filter=Q(level__value__gte=strength_floor)),
        wish=Count("id", filter=Q(wish__value__gt=0)),
        partnership=Count("id", filter=Q(carrying__in=partnership_ids)),
    )
    stats = {p.id: PracticeStats(practice=p) for p in grid.practices}
    for row in per_practice:
        item = stats[row["practice_id"]]
        item.answered, item.scored, item.regular = row["answered"], row["scored"], row["regular"]
        item.wish, item.partnership = row["wish"], row["partnership"]
        if row["mean"] is not None:
            item.mean = float(row["mean"])
            item.variance = float(row["mean_sq"]) - item.mean**2
    for row in answers.filter(level__isnull=False).values("practice_id", "level_id").annotate(n=Count("id")):
        stats[row["practice_id"]].levels[row["level_id"]] = row["n"]
    matrix: dict[tuple[int, int], dict] = {}
    for assessment_id, practice_id, level_id, wish_id, carrying_id in Answer.objects.filter(
        assessment_id__in=[c.assessment_id for c in contributors]
    ).values_list("assessment_id", "practice_id", "level_id", "wish_id", "carrying_id"):
        matrix[(assessment_id, practice_id)] = {
            "level": grid.level.option_by_id(level_id),
            "wish": grid.wish.option_by_id(wish_id),
            "carrying": grid.carrying.option_by_id(carrying_id),
        }
    code_of = dict(Situation.objects.filter(version=organisation.version_id).values_list("pk", "code"))
    situation_means = {s.code: None for s in grid.situations}
    for row in answers.values("practice__situation_id").annotate(mean=Avg("level__value")):
        situation_means[code_of[row["practice__situation_id"]]] = row["mean"]
    member_means: dict[int, dict[str, float | None]] = {c.assessment_id: {} for c in contributors}
    for row in (
        Answer.objects.filter(assessment_id__in=list(member_means))
        .values("assessment_id", "practice__situation_id")
        .annotate(mean=Avg("level__value"))
    ):
        member_means[row["assessment_id"]][code_of[row["practice__situation_id"]]] = row["mean"]
    return TeamMap(
        grid=grid,
        contributors=contributors,
        named_count=named_count,
        anonymous_count=anonymous_count,
        anonymous_included=anonymous_included,
        practices=[stats[p.id] for p in grid.practices],
        matrix=matrix,
        situation_means=situation_means,
        member_situation_means=member_means,
    )
