"""The disclosure-control layer: the only way a figure about other people gets published.

The cell key method of the statistical offices (ABS TableBuilder, ONS custom datasets), with
two choices of ours, written down in docs/protection-des-donnees.md:

- A cell's key is drawn from its contributors' record keys *and* from those of the whole
  population of the table (`Protector`): the same people always give the same figure, in every
  view and at every moment, but one person more or less in a table gives every cell of that
  table a fresh noise, so that the difference of two tables does not point at the cells where
  that person is.
- Counts that read below k after noise are not published, zeros included (a hidden cell may be
  empty or not), and every figure published beside them (totals, shares, means, intervals,
  percentiles of a practice) is computed from the published counts only: nothing published
  beside a count gives a hidden one back. The score classes behind a situation's or an axis's
  mean are never published: that mean is made from all of them, each perturbed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from grille.core.statistics import mean_ci_from_sums
from grille.frameworks import grid as g

from .aggregation import GroupTallies
from .cells import EMPTY, Cell, MeanCell, Tally, validate_threshold
from .ptable import PerturbationTable, default_ptable


@dataclass(frozen=True)
class Distribution:
    """A practice's protected level distribution."""

    cells: tuple[tuple[g.Option, Cell], ...]
    total: Cell  # the sum of the shown cells
    mean: MeanCell  # over the shown cells whose option has a value

    def count(self, option_id: int) -> Cell:
        return next(cell for option, cell in self.cells if option.id == option_id)

    def shown_counts(self) -> dict[int, int]:
        """option id -> published count, for the shown cells only."""
        return {o.id: int(c.value) for o, c in self.cells if not c.suppressed and c.value is not None}


@dataclass(frozen=True)
class PracticeFigures:
    practice: g.Practice
    levels: Distribution
    wish: Cell
    partnership: Cell
    regular: Cell  # shown cells at or above the strength floor, added up
    scored: int  # shown cells with a value, added up (the mean's n; 0 when none is shown)


@dataclass(frozen=True)
class GroupFigures:
    """Everything that may be published about one group."""

    k: int
    size: Cell
    practices: dict[int, PracticeFigures]  # practice id ->
    situations: dict[str, MeanCell]
    axes: dict[str, MeanCell]
    # situation code -> (score class, perturbed count), never published as such
    situation_classes: dict[str, tuple[tuple[Fraction, int], ...]]

    @property
    def shown(self) -> bool:
        return not self.size.suppressed


class Protector:
    """Publishes the figures of one population (a table): each count perturbed by its cell key,
    hidden below k, everything else derived from what is shown."""

    def __init__(self, population: Tally, k: int, *, table: PerturbationTable | None = None) -> None:
        self.population = population
        self.k = validate_threshold(k)
        self.table = table or default_ptable()
        self._salt = f"{population.n}:{population.keys}|"

    def key(self, figure: str, tally: Tally) -> float:
        """The cell key in [0, 1): decided by the contributors, the population and the figure."""
        text = f"{self._salt}{figure}|{tally.n}:{tally.keys}".encode()
        return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") / 2**64

    def perturb(self, figure: str, tally: Tally) -> int:
        if tally.n <= 0:
            return 0
        return max(0, tally.n + self.table.noise(tally.n, self.key(figure, tally)))

    def count(self, figure: str, tally: Tally, *, less: int = 0) -> Cell:
        """The published count of a cell, `less` (the reader's own, known to them) taken off
        after the noise: every reader of the same population sees the same noise."""
        value = self.perturb(figure, tally) - less
        return Cell.shown(value, approximate=True) if value >= self.k else Cell.hidden()

    def size(self, *, less: int = 0) -> Cell:
        return self.count("population", self.population, less=less)

    def mean(self, weighted: Iterable[tuple[Fraction | int, int]]) -> MeanCell:
        """Mean, sample variance and 95 % interval of values with published weights."""
        pairs = [(Fraction(v), w) for v, w in weighted if w > 0]
        n = sum(w for _v, w in pairs)
        if n < max(self.k, 2):
            return MeanCell.hidden()
        total = sum((v * w for v, w in pairs), Fraction(0))
        squares = sum((v * v * w for v, w in pairs), Fraction(0))
        estimate = mean_ci_from_sums(n, total, squares)
        return MeanCell(n=n, mean=estimate.mean, low=estimate.low, high=estimate.high, approximate=True)

    def distribution(
        self, figure: str, options: Sequence[g.Option], tallies: Mapping[int, Tally],
        less: Mapping[int, Tally] | None = None,
    ) -> Distribution:
        less = less or {}
        cells = tuple(
            (o, self.count(f"{figure}:{o.code}", tallies.get(o.id, EMPTY), less=less.get(o.id, EMPTY).n)) for o in options
        )
        shown = [(o, int(c.value)) for o, c in cells if not c.suppressed and c.value is not None]
        total = sum(n for _o, n in shown)
        return Distribution(
            cells=cells,
            total=Cell.shown(total, approximate=True) if total >= self.k else Cell.hidden(),
            mean=self.mean((o.value, n) for o, n in shown if o.value is not None),
        )

    def classes(
        self, figure: str, tallies: Mapping[Fraction, Tally], less: Mapping[Fraction, Tally] | None = None
    ) -> tuple[tuple[Fraction, int], ...]:
        """The perturbed score classes of a situation or an axis.

        The classes themselves are never published, only the mean, interval and percentiles
        made from them: so every class counts with its perturbed value, small ones included
        (dropping them would bias the means of small groups), and no figure gives one back
        exactly (three figures for about ten perturbed classes)."""
        less = less or {}
        perturbed = (
            (score, self.perturb(f"{figure}:{score}", tallies[score]) - less.get(score, EMPTY).n) for score in sorted(tallies)
        )
        return tuple((score, n) for score, n in perturbed if n > 0)


def publish_group(
    tallies: GroupTallies, grid: g.Grid, k: int, *, table: PerturbationTable | None = None,
    less: GroupTallies | None = None,
) -> GroupFigures:
    """The protected figures of one group: nothing shown at all when its size reads below k.

    `less` is the reader's own contribution to the group (exact, they know it): it is taken off
    the perturbed figures, so that the group's noise is the same for every reader, and several
    accounts cannot average it away by each reading "the group minus me"."""
    protector = Protector(tallies.population, k, table=table)
    less = less or GroupTallies()
    size = protector.size(less=less.population.n)
    if size.suppressed:
        return GroupFigures(k=protector.k, size=size, practices={}, situations={}, axes={}, situation_classes={})
    floor = grid.level.strength_floor
    practices = {}
    for practice in grid.practices:
        levels = protector.distribution(
            f"level:{practice.code}", grid.level.options, tallies.levels.get(practice.id, {}), less.levels.get(practice.id, {})
        )
        shown = [(o, int(c.value)) for o, c in levels.cells if not c.suppressed and c.value is not None]
        strong = [c for o, c in levels.cells if o.value is not None and o.value >= floor]
        regular = sum(n for o, n in shown if o.value is not None and o.value >= floor)
        practices[practice.id] = PracticeFigures(
            practice=practice,
            levels=levels,
            wish=protector.count(
                f"wish:{practice.code}", tallies.wish.get(practice.id, EMPTY), less=less.wish.get(practice.id, EMPTY).n
            ),
            partnership=protector.count(
                f"partnership:{practice.code}", tallies.partnership.get(practice.id, EMPTY),
                less=less.partnership.get(practice.id, EMPTY).n,
            ),
            regular=Cell.hidden() if all(c.suppressed for c in strong) else Cell.shown(regular, approximate=True),
            scored=sum(n for o, n in shown if o.value is not None),
        )
    situation_classes = {
        s.code: protector.classes(f"situation:{s.code}", tallies.situations.get(s.code, {}), less.situations.get(s.code, {}))
        for s in grid.situations
    }
    axis_classes = {
        a.code: protector.classes(f"axis:{a.code}", tallies.axes.get(a.code, {}), less.axes.get(a.code, {}))
        for a in grid.axes
    }
    return GroupFigures(
        k=protector.k,
        size=size,
        practices=practices,
        situations={code: protector.mean(shown) for code, shown in situation_classes.items()},
        axes={code: protector.mean(shown) for code, shown in axis_classes.items()},
        situation_classes=situation_classes,
    )
