"""Small-cell suppression: the single place that decides which figures of a study may be shown.

DESIGN.md, privacy rules: no statistic on fewer than k respondents (k = 5 by default, never
below 3), and complementary suppression so that a hidden figure cannot be recomputed from the
totals and the figures that are shown. Pages, charts, PDF, exports and API all ask this module.

Vocabulary: a *line* is a row or a column of a table, its *margin* the total shown at its end.
A hidden figure is *recomputable* when the shown figures and the additions that hold between
them (line sums equal margins, counts are whole and non-negative) leave it only one value.

Pure Python, no Django: the tables are a few segments by a few levels, never respondents.
"""

from __future__ import annotations

import heapq
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MIN_THRESHOLD = 3
DEFAULT_THRESHOLD = 5

PRIMARY = "primary"
COMPLEMENTARY = "complementary"

# « s » is the mark of French official statistics for a figure under statistical secrecy.
SUPPRESSED_MARK = "s"


def validate_threshold(k: int) -> int:
    """Return k when it is an allowed threshold; raise otherwise (never below 3)."""
    if isinstance(k, bool) or not isinstance(k, int):
        try:
            k = operator.index(k)
        except TypeError:
            raise TypeError(
                f"Le seuil de diffusion doit être un nombre entier de répondants (reçu : {k!r})."
            ) from None
    if k < MIN_THRESHOLD:
        raise ValueError(
            f"Le seuil de diffusion ne peut pas être inférieur à {MIN_THRESHOLD} répondants "
            f"(reçu : {k})."
        )
    return k


@dataclass(frozen=True)
class Cell:
    """A figure ready to show: its value, or nothing at all when it is suppressed.

    A suppressed cell never carries its value, so that no template or export can leak it.
    """

    value: int | float | None
    suppressed: bool
    reason: str  # "" when shown, else PRIMARY (under k) or COMPLEMENTARY (protects another)

    def __post_init__(self) -> None:
        if self.suppressed:
            if self.value is not None:
                raise ValueError("a suppressed cell must not carry its value")
            if self.reason not in (PRIMARY, COMPLEMENTARY):
                raise ValueError(f"unknown suppression reason {self.reason!r}")
        elif self.reason:
            raise ValueError("a shown cell has no suppression reason")

    @classmethod
    def shown(cls, value: int | float | None) -> Cell:
        return cls(value=value, suppressed=False, reason="")

    @classmethod
    def hidden(cls, reason: str) -> Cell:
        return cls(value=None, suppressed=True, reason=reason)

    @property
    def display(self) -> int | float | str | None:
        """The value to print (left to the template to localise), or « s » when suppressed."""
        return SUPPRESSED_MARK if self.suppressed else self.value


@dataclass(frozen=True)
class SuppressedTable:
    """A segments × categories table with its margins, each figure shown or suppressed."""

    cells: list[list[Cell]]
    row_totals: list[Cell]
    column_totals: list[Cell]
    total: Cell


def _as_counts(counts: Sequence[int]) -> list[int]:
    values = []
    for count in counts:
        if isinstance(count, bool):
            raise ValueError("counts must be whole numbers, not booleans")
        try:
            value = operator.index(count)
        except TypeError:
            raise ValueError(f"counts must be whole numbers (got {count!r})") from None
        if value < 0:
            raise ValueError(f"counts cannot be negative (got {value})")
        values.append(value)
    return values


def _line_is_safe(values: Sequence[int], hidden: set[int], k: int) -> bool:
    # Shown margin minus shown cells gives the sum of the hidden ones: that sum must be no
    # small cell itself, and must be shared by at least two cells.
    if not hidden:
        return True
    return len(hidden) >= 2 and sum(values[i] for i in hidden) >= k


def _complete_line(values: Sequence[int], hidden: set[int], k: int) -> set[int]:
    """Hide the smallest non-zero shown cells of a line until its hidden part is safe."""
    hidden = set(hidden)
    candidates = sorted((value, index) for index, value in enumerate(values) if value > 0)
    for _value, index in candidates:
        if _line_is_safe(values, hidden, k):
            break
        if index not in hidden:
            hidden.add(index)
    return hidden


def _line_cells(values: Sequence[int], k: int, total_shown: bool) -> tuple[list[Cell], bool]:
    """Cells of one line, and whether everything (the total too) must be hidden."""
    total = sum(values)
    if 0 < total < k:
        # A line about fewer than k respondents says nothing, not even where nobody answered.
        return [Cell.hidden(PRIMARY) for _ in values], True
    primary = {i for i, value in enumerate(values) if 0 < value < k}
    hidden = _complete_line(values, primary, k) if total_shown else primary
    everything = total_shown and not _line_is_safe(values, hidden, k)
    if everything:
        # Defensive: with a total of at least k the smallest cells always add up to safety.
        hidden = set(range(len(values)))
    cells = [
        Cell.hidden(PRIMARY if i in primary else COMPLEMENTARY) if i in hidden else Cell.shown(v)
        for i, v in enumerate(values)
    ]
    return cells, everything


def suppress_counts(counts: Sequence[int], k: int, *, total_shown: bool = True) -> list[Cell]:
    """Suppress the small counts of one line (the levels of one practice, one segment…).

    Primary: every count with 0 < n < k. When the line total is shown, complementary: the
    smallest other non-zero counts until at least two are hidden and they add up to k or
    more, so that total minus shown counts recomputes nothing under k. A line whose total is
    under k is hidden whole (zeros included: « nobody answered 3 » is a figure too). Zeros
    are not small cells and stay shown otherwise.
    """
    k = validate_threshold(k)
    cells, _everything = _line_cells(_as_counts(counts), k, total_shown)
    return cells


def suppress_row(counts: Sequence[int], k: int) -> tuple[list[Cell], Cell]:
    """`suppress_counts` with the total shown, and that total as a cell (hidden when under k)."""
    k = validate_threshold(k)
    values = _as_counts(counts)
    cells, everything = _line_cells(values, k, total_shown=True)
    total = sum(values)
    if everything:
        reason = PRIMARY if 0 < total < k else COMPLEMENTARY
        return cells, Cell.hidden(reason)
    return cells, Cell.shown(total)


def suppress_segments(sizes: Mapping[str, int], k: int) -> set[str]:
    """Segments of a partition (types of structure, regions…) whose figures must be hidden.

    The overall total is shown, so one hidden segment could be recomputed from it and the
    others: segments under k are hidden, then the next smallest ones until at least two are
    hidden and together they hold k respondents or more. An overall total under k hides
    every segment (and the caller must not show that total either). Empty segments stay
    shown. Ties are broken by the order of `sizes`.
    """
    k = validate_threshold(k)
    keys = list(sizes)
    cells = suppress_counts(_as_counts([sizes[key] for key in keys]), k, total_shown=True)
    return {key for key, cell in zip(keys, cells, strict=True) if cell.suppressed}


def safe_mean(n: int, mean: float | None, k: int) -> float | None:
    """The mean when it rests on k respondents or more, else None.

    Only primary suppression: the segments of a partition are decided by `suppress_segments`.
    """
    k = validate_threshold(k)
    if mean is None or n < k:
        return None
    return mean


def suppress_table(rows: Sequence[Sequence[int]], k: int) -> list[list[Cell]]:
    """The cells of a segments × categories table shown with its row and column totals.

    See `suppress_table_with_totals`, which also returns the totals: they are part of the
    protection and must be shown from there, never recomputed by the caller.
    """
    return suppress_table_with_totals(rows, k).cells


def suppress_table_with_totals(rows: Sequence[Sequence[int]], k: int) -> SuppressedTable:
    """Suppress a segments × categories table shown with row, column and grand totals.

    The table is read with its margins as one grid (the totals are figures like the others):
    1. primary: every figure with 0 < n < k; every line (row or column) whose total is under
       k is hidden whole, except cells whose crossing line is empty (a zero already shown);
    2. in every line: either no hidden cell, or at least two hidden cells holding k or more
       between them, or everything hidden (the line rule of `suppress_counts`);
    3. no hidden figure may be pinned to a single value by the additions along rows and
       columns with whole non-negative counts; each pinned one is freed by hiding the
       cheapest chain of figures that lets it move (a cycle through the grid);
    steps 2 and 3 repeat until nothing changes. Suppression only grows, so this ends.
    """
    k = validate_threshold(k)
    values = [_as_counts(row) for row in rows]
    width = len(values[0]) if values else 0
    if any(len(row) != width for row in values):
        raise ValueError("every row of the table must have the same number of cells")
    if not values or width == 0:
        return SuppressedTable(
            cells=[[] for _ in values],
            row_totals=[Cell.shown(0) for _ in values],
            column_totals=[Cell.shown(0) for _ in range(width)],
            total=Cell.shown(0),
        )
    grid = _Grid(values, k)
    grid.suppress()
    return grid.result()


class _Grid:
    """The table with its margins as an (R+1) × (C+1) grid, and the cells hidden in it.

    Every figure lies on one row and one column, and each line says "its cells add up to its
    margin". Seen as a bipartite graph (lines are vertices, figures are edges), the hidden
    figures can move together exactly along cycles, +t and −t in turn. Writing margins with
    a minus sign makes every line a plain sum, so a hidden figure can go up when the cycle
    crosses it row→column (or down, column→row), as long as no figure drops below zero.
    """

    def __init__(self, values: list[list[int]], k: int) -> None:
        self.k = k
        self.rows = len(values)  # index of the totals row
        self.cols = len(values[0])  # index of the totals column
        column_totals = [sum(column) for column in zip(*values, strict=True)]
        self.a = [[*row, sum(row)] for row in values]
        self.a.append([*column_totals, sum(column_totals)])
        self.hidden: dict[tuple[int, int], str] = {}

    # -- the grid -------------------------------------------------------------------------

    def _row_line(self, i: int) -> list[tuple[int, int]]:
        return [(i, j) for j in range(self.cols)]

    def _column_line(self, j: int) -> list[tuple[int, int]]:
        return [(i, j) for i in range(self.rows)]

    def _lines(self) -> list[tuple[list[tuple[int, int]], tuple[int, int]]]:
        """Every line of the grid as (its cells, its margin)."""
        rows = [(self._row_line(i), (i, self.cols)) for i in range(self.rows + 1)]
        columns = [(self._column_line(j), (self.rows, j)) for j in range(self.cols + 1)]
        return rows + columns

    def _is_margin(self, cell: tuple[int, int]) -> bool:
        i, j = cell
        return (i == self.rows) != (j == self.cols)

    def _can_rise(self, cell: tuple[int, int]) -> bool:
        # "Rise" is +t in the signed grid: a margin is minus its value, so it must drop.
        return not self._is_margin(cell) or self.a[cell[0]][cell[1]] > 0

    def _can_fall(self, cell: tuple[int, int]) -> bool:
        return self._is_margin(cell) or self.a[cell[0]][cell[1]] > 0

    def _hide(self, cell: tuple[int, int], reason: str) -> bool:
        if cell in self.hidden:
            return False
        self.hidden[cell] = reason
        return True

    # -- the steps ------------------------------------------------------------------------

    def suppress(self) -> None:
        self._primary()
        changed = True
        while changed:
            changed = self._line_rules()
            pinned = next((cell for cell in sorted(self.hidden) if not self._movable(cell)), None)
            if pinned is not None:
                self._free(pinned)
                changed = True

    def _primary(self) -> None:
        k = self.k
        for i, row in enumerate(self.a):
            for j, value in enumerate(row):
                if 0 < value < k:
                    self._hide((i, j), PRIMARY)
        for cells, margin in self._lines():
            total = self.a[margin[0]][margin[1]]
            if not 0 < total < k:
                continue
            for cell in [*cells, margin]:
                # The crossing line's margin: a zero on an empty line is known anyway.
                crossing = (cell[0], self.cols) if cell[1] == margin[1] else (self.rows, cell[1])
                if self.a[crossing[0]][crossing[1]] > 0:
                    self._hide(cell, PRIMARY)

    def _line_rules(self) -> bool:
        changed = False
        for cells, margin in self._lines():
            values = [self.a[i][j] for i, j in cells]
            hidden = {index for index, cell in enumerate(cells) if cell in self.hidden}
            completed = _complete_line(values, hidden, self.k)
            for index in completed - hidden:
                changed |= self._hide(cells[index], COMPLEMENTARY)
            if not _line_is_safe(values, completed, self.k) and self.a[margin[0]][margin[1]] > 0:
                changed |= self._hide(margin, COMPLEMENTARY)
        return changed

    # -- cycles ---------------------------------------------------------------------------

    def _arcs(self, cell: tuple[int, int]) -> list[tuple[int, int]]:
        """Directed arcs a hidden cell offers, between vertices rows 0..R and columns R+1..."""
        i, j = cell
        row_vertex, column_vertex = i, self.rows + 1 + j
        arcs = []
        if self._can_rise(cell):
            arcs.append((row_vertex, column_vertex))
        if self._can_fall(cell):
            arcs.append((column_vertex, row_vertex))
        return arcs

    def _movable(self, cell: tuple[int, int]) -> bool:
        """Whether a hidden cell can take another value: it lies on a feasible cycle."""
        graph: dict[int, list[int]] = {}
        for other in self.hidden:
            if other != cell:
                for source, target in self._arcs(other):
                    graph.setdefault(source, []).append(target)
        i, j = cell
        row_vertex, column_vertex = i, self.rows + 1 + j
        if self._can_rise(cell) and _reaches(graph, column_vertex, row_vertex):
            return True
        return self._can_fall(cell) and _reaches(graph, row_vertex, column_vertex)

    def _free(self, cell: tuple[int, int]) -> None:
        """Hide the cheapest chain of shown non-zero figures that puts `cell` on a cycle."""
        i, j = cell
        row_vertex, column_vertex = i, self.rows + 1 + j
        paths = []
        if self._can_rise(cell):
            paths.append(self._cheapest_path(column_vertex, row_vertex, cell))
        if self._can_fall(cell):
            paths.append(self._cheapest_path(row_vertex, column_vertex, cell))
        found = [path for path in paths if path is not None]
        if not found:
            # Cannot happen on a table with non-zero margins (see the tests); stay safe anyway.
            for r in range(self.rows + 1):
                for c in range(self.cols + 1):
                    if self.a[r][c] > 0:
                        self._hide((r, c), COMPLEMENTARY)
            return
        _cost, new_cells = min(found)
        for new in new_cells:
            self._hide(new, COMPLEMENTARY)

    def _cheapest_path(
        self, source: int, target: int, excluded: tuple[int, int]
    ) -> tuple[int, list[tuple[int, int]]] | None:
        """Dijkstra over hidden figures (free) and shown non-zero ones (cost: their value)."""
        arcs: dict[int, list[tuple[int, int, tuple[int, int]]]] = {}
        for r in range(self.rows + 1):
            for c in range(self.cols + 1):
                cell = (r, c)
                if cell == excluded:
                    continue
                if cell in self.hidden:
                    cost, cell_arcs = 0, self._arcs(cell)
                elif self.a[r][c] > 0:
                    row_vertex, column_vertex = r, self.rows + 1 + c
                    cost = self.a[r][c]
                    cell_arcs = [(row_vertex, column_vertex), (column_vertex, row_vertex)]
                else:
                    continue
                for start, end in cell_arcs:
                    arcs.setdefault(start, []).append((end, cost, cell))
        best = {source: 0}
        previous: dict[int, tuple[int, tuple[int, int]]] = {}
        queue = [(0, source)]
        while queue:
            cost, vertex = heapq.heappop(queue)
            if vertex == target:
                break
            if cost > best[vertex]:
                continue
            for end, step, cell in arcs.get(vertex, []):
                if cost + step < best.get(end, cost + step + 1):
                    best[end] = cost + step
                    previous[end] = (vertex, cell)
                    heapq.heappush(queue, (cost + step, end))
        if target not in best:
            return None
        new_cells = []
        vertex = target
        while vertex != source:
            vertex, cell = previous[vertex]
            if cell not in self.hidden:
                new_cells.append(cell)
        return best[target], sorted(new_cells)

    def result(self) -> SuppressedTable:
        def cell(i: int, j: int) -> Cell:
            if (i, j) in self.hidden:
                return Cell.hidden(self.hidden[(i, j)])
            return Cell.shown(self.a[i][j])

        return SuppressedTable(
            cells=[[cell(i, j) for j in range(self.cols)] for i in range(self.rows)],
            row_totals=[cell(i, self.cols) for i in range(self.rows)],
            column_totals=[cell(self.rows, j) for j in range(self.cols)],
            total=cell(self.rows, self.cols),
        )


def _reaches(graph: Mapping[int, list[int]], source: int, target: int) -> bool:
    seen = {source}
    stack = [source]
    while stack:
        vertex = stack.pop()
        if vertex == target:
            return True
        for following in graph.get(vertex, []):
            if following not in seen:
                seen.add(following)
                stack.append(following)
    return False


def suppress_row_against(counts: Sequence[int], complement: Sequence[int], k: int) -> tuple[list[Cell], Cell]:
    """A filtered row whose unfiltered row is published elsewhere (the whole campaign).

    The unfiltered row minus this one gives the complement's row (e.g. everyone who is
    *not* an association), so a cell is hidden when it, or its complement, is a small
    group, and the hidden part must be safe on both lines.
    """
    k = validate_threshold(k)
    values, others = _as_counts(counts), _as_counts(complement)
    total, other_total = sum(values), sum(others)
    if 0 < total < k or 0 < other_total < k:
        return [Cell.hidden(PRIMARY) for _ in values], Cell.hidden(PRIMARY)
    primary = {i for i, (v, c) in enumerate(zip(values, others, strict=True)) if 0 < v < k or 0 < c < k}
    hidden = set(primary)
    while True:
        grown = _complete_line(others, _complete_line(values, hidden, k), k)
        if grown == hidden:
            break
        hidden = grown
    if not (_line_is_safe(values, hidden, k) and _line_is_safe(others, hidden, k)):
        hidden = set(range(len(values)))
    cells = [
        Cell.hidden(PRIMARY if i in primary else COMPLEMENTARY) if i in hidden else Cell.shown(v)
        for i, v in enumerate(values)
    ]
    return cells, Cell.shown(total)
