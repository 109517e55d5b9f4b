import numpy as np
import pytest
from scipy.optimize import linprog

from grille.studies.suppression import (
    COMPLEMENTARY,
    DEFAULT_THRESHOLD,
    MIN_THRESHOLD,
    PRIMARY,
    Cell,
    safe_mean,
    suppress_counts,
    suppress_row,
    suppress_segments,
    suppress_table,
    suppress_table_with_totals,
    validate_threshold,
)


def shown(cells):
    return [cell.display for cell in cells]


def reasons(cells):
    return [cell.reason for cell in cells]


# -- threshold ---------------------------------------------------------------------------


def test_thresholds_are_five_by_default_and_never_below_three():
    assert (DEFAULT_THRESHOLD, MIN_THRESHOLD) == (5, 3)


def test_validate_threshold_accepts_three_and_more():
    assert validate_threshold(3) == 3
    assert validate_threshold(np.int64(10)) == 10


def test_validate_threshold_refuses_below_three_in_french():
    with pytest.raises(ValueError, match="ne peut pas être inférieur à 3 répondants"):
        validate_threshold(2)


def test_validate_threshold_refuses_a_non_integer():
    with pytest.raises(TypeError, match="nombre entier"):
        validate_threshold(4.5)


@pytest.mark.parametrize(
    "call",
    [
        lambda: suppress_counts([1, 2], 2),
        lambda: suppress_row([1, 2], 2),
        lambda: suppress_table([[1, 2]], 2),
        lambda: suppress_segments({"a": 1}, 2),
        lambda: safe_mean(10, 1.5, 2),
    ],
)
def test_every_suppression_refuses_a_threshold_below_three(call):
    with pytest.raises(ValueError, match="inférieur à 3"):
        call()


# -- cells -------------------------------------------------------------------------------


def test_cell_shows_its_value_or_the_secrecy_mark():
    assert Cell.shown(12).display == 12
    assert Cell.shown(0).display == 0
    assert Cell.hidden(PRIMARY).display == "s"


def test_cell_suppressed_never_carries_its_value():
    with pytest.raises(ValueError, match="must not carry its value"):
        Cell(value=3, suppressed=True, reason=PRIMARY)


def test_cell_reason_is_only_for_suppressed_cells():
    with pytest.raises(ValueError, match="no suppression reason"):
        Cell(value=3, suppressed=False, reason=PRIMARY)
    with pytest.raises(ValueError, match="unknown suppression reason"):
        Cell(value=None, suppressed=True, reason="")


# -- one line ----------------------------------------------------------------------------


def test_suppress_counts_hides_small_counts_without_total():
    cells = suppress_counts([9, 3, 0, 12], 5, total_shown=False)

    assert shown(cells) == [9, "s", 0, 12]
    assert reasons(cells) == ["", PRIMARY, "", ""]


def test_suppress_counts_keeps_zeros_and_counts_at_the_threshold():
    assert shown(suppress_counts([5, 0, 7], 5)) == [5, 0, 7]


def test_suppress_counts_hides_a_second_cell_when_the_total_is_shown():
    cells = suppress_counts([9, 3, 0, 12], 5)

    assert shown(cells) == ["s", "s", 0, 12]
    assert reasons(cells) == [COMPLEMENTARY, PRIMARY, "", ""]


def test_suppress_counts_hides_until_the_hidden_cells_hold_k():
    cells = suppress_counts([2, 1, 6, 40], 5)

    assert shown(cells) == ["s", "s", "s", 40]
    assert reasons(cells) == [PRIMARY, PRIMARY, COMPLEMENTARY, ""]


def test_suppress_counts_two_small_cells_holding_k_need_no_more():
    assert shown(suppress_counts([3, 4, 20], 5)) == ["s", "s", 20]


def test_suppress_counts_of_a_line_under_k_hides_everything():
    cells = suppress_counts([1, 0, 2, 0], 5)

    assert shown(cells) == ["s", "s", "s", "s"]
    assert reasons(cells) == [PRIMARY] * 4


def test_suppress_counts_refuses_negative_counts():
    with pytest.raises(ValueError, match="negative"):
        suppress_counts([3, -1], 5)


def test_suppress_row_shows_the_total_of_k_or_more():
    cells, total = suppress_row([9, 3, 0, 12], 5)

    assert shown(cells) == ["s", "s", 0, 12]
    assert total == Cell.shown(24)


def test_suppress_row_hides_a_total_under_k():
    cells, total = suppress_row([1, 2, 0], 5)

    assert shown(cells) == ["s", "s", "s"]
    assert total == Cell.hidden(PRIMARY)


def test_suppress_row_of_an_empty_segment_shows_zeros():
    cells, total = suppress_row([0, 0, 0], 5)

    assert shown(cells) == [0, 0, 0]
    assert total == Cell.shown(0)


# -- segments ----------------------------------------------------------------------------


def test_suppress_segments_one_small_segment_forces_a_second_one():
    sizes = {"Association": 40, "Commune": 3, "Entreprise": 7, "EPCI": 25}

    assert suppress_segments(sizes, 5) == {"Commune", "Entreprise"}


def test_suppress_segments_two_small_segments_holding_k_are_enough():
    assert suppress_segments({"Fondation": 3, "État": 4, "Commune": 50}, 5) == {"Fondation", "État"}


def test_suppress_segments_hides_more_until_the_hidden_ones_hold_k():
    sizes = {"Fondation": 1, "État": 2, "Entreprise": 9, "Commune": 30}

    assert suppress_segments(sizes, 5) == {"Fondation", "État", "Entreprise"}


def test_suppress_segments_leaves_large_segments_and_empty_ones_alone():
    assert suppress_segments({"Commune": 12, "Région": 0, "EPCI": 8}, 5) == set()


def test_suppress_segments_under_k_in_all_hides_every_segment():
    assert suppress_segments({"Commune": 2, "Région": 0, "EPCI": 1}, 5) == {"Commune", "Région", "EPCI"}


def test_suppress_segments_follows_the_threshold():
    sizes = {"Commune": 6, "EPCI": 9, "Département": 40}

    assert suppress_segments(sizes, 5) == set()
    assert suppress_segments(sizes, 10) == {"Commune", "EPCI"}


def test_safe_mean_needs_k_respondents():
    assert safe_mean(4, 1.75, 5) is None
    assert safe_mean(5, 1.8, 5) == 1.8
    assert safe_mean(0, None, 5) is None


# -- tables ------------------------------------------------------------------------------


def test_suppress_table_hides_a_rectangle_around_a_small_cell():
    table = suppress_table_with_totals([[10, 2], [8, 9]], 5)

    assert [shown(row) for row in table.cells] == [["s", "s"], ["s", "s"]]
    assert [[cell.reason for cell in row] for row in table.cells] == [
        [COMPLEMENTARY, PRIMARY], [COMPLEMENTARY, COMPLEMENTARY]
    ]
    assert shown(table.row_totals) == [12, 17]
    assert shown(table.column_totals) == [18, 11]
    assert table.total == Cell.shown(29)


def test_suppress_table_leaves_a_table_without_small_cells_alone():
    table = suppress_table_with_totals([[10, 0, 7], [8, 9, 5]], 5)

    assert [shown(row) for row in table.cells] == [[10, 0, 7], [8, 9, 5]]
    assert shown(table.row_totals) == [17, 22]
    assert shown(table.column_totals) == [18, 9, 12]
    assert table.total == Cell.shown(39)


def test_suppress_table_hides_a_small_segment_and_its_total():
    table = suppress_table_with_totals([[20, 15, 11], [1, 1, 0], [30, 12, 14]], 5)

    assert shown(table.cells[1]) == ["s", "s", "s"]
    assert table.row_totals[1] == Cell.hidden(PRIMARY)
    assert_protected([[20, 15, 11], [1, 1, 0], [30, 12, 14]], 5, table)


def test_suppress_table_returns_the_cells_of_the_table_with_totals():
    rows = [[10, 2, 6], [8, 9, 1], [7, 7, 7]]

    assert suppress_table(rows, 5) == suppress_table_with_totals(rows, 5).cells


def test_suppress_table_of_no_segment_is_empty():
    table = suppress_table_with_totals([], 5)

    assert (table.cells, table.row_totals, table.column_totals) == ([], [], [])
    assert table.total == Cell.shown(0)


def test_suppress_table_refuses_ragged_rows():
    with pytest.raises(ValueError, match="same number of cells"):
        suppress_table([[1, 2], [3]], 5)


def augmented(rows):
    """The table with its row totals, column totals and grand total, as one grid."""
    values = np.array(rows, dtype=np.int64)
    with_totals = np.column_stack([values, values.sum(axis=1)])
    return np.vstack([with_totals, with_totals.sum(axis=0)])


def shown_grid(table):
    grid = [[*row, total] for row, total in zip(table.cells, table.row_totals, strict=True)]
    return grid + [[*table.column_totals, table.total]]


def lines(height, width):
    """Each line of the grid as (its cells, its margin), the totals row and column included."""
    for i in range(height):
        yield [(i, j) for j in range(width - 1)], (i, width - 1)
    for j in range(width):
        yield [(i, j) for i in range(height - 1)], (height - 1, j)


def feasible_range(values, hidden, cell):
    """What an attacker can learn of one hidden figure: the least and the greatest value that
    fits the shown figures, the additions along every line and non-negative counts.

    The additions form a network matrix (totally unimodular), so the linear bounds are whole
    numbers and reached by whole counts: this is the exact integer answer.
    """
    height, width = values.shape
    unknown = {position: index for index, position in enumerate(hidden)}
    equations, constants = [], []
    for cells, margin in lines(height, width):
        row = np.zeros(len(unknown))
        constant = 0
        for position, sign in [*((c, 1) for c in cells), (margin, -1)]:
            if position in unknown:
                row[unknown[position]] += sign
            else:
                constant -= sign * values[position]
        if row.any():
            equations.append(row)
            constants.append(constant)
    objective = np.zeros(len(unknown))
    objective[unknown[cell]] = 1
    bounds = []
    for sign in (1, -1):
        result = linprog(
            sign * objective, A_eq=np.array(equations), b_eq=constants, bounds=(0, None),
            method="highs",
        )
        if result.status == 3:  # no greatest value: certainly not pinned
            bounds.append(np.inf)
            continue
        assert result.status == 0, result.message
        bounds.append(sign * result.fun)
    return bounds[0], bounds[1]


def assert_protected(rows, k, table):
    values = augmented(rows)
    grid = shown_grid(table)
    height, width = values.shape
    hidden = [(i, j) for i in range(height) for j in range(width) if grid[i][j].suppressed]

    # What is shown is true, and no shown figure rests on fewer than k respondents.
    for i in range(height):
        for j in range(width):
            if not grid[i][j].suppressed:
                assert grid[i][j].value == values[i, j]
                assert not 0 < values[i, j] < k, (i, j)

    # Differencing along a line: no hidden cell, or two or more holding k, or all hidden.
    for cells, margin in lines(height, width):
        concealed = [c for c in cells if grid[c[0]][c[1]].suppressed]
        everything = grid[margin[0]][margin[1]].suppressed and all(
            grid[c[0]][c[1]].suppressed for c in cells if values[c] > 0
        )
        assert (
            not concealed
            or (len(concealed) >= 2 and sum(values[c] for c in concealed) >= k)
            or everything
        ), (cells, margin)

    # The full attack: every hidden figure can still take at least two values.
    for cell in hidden:
        low, high = feasible_range(values, hidden, cell)
        assert low <= values[cell] <= high
        assert high - low >= 1, (cell, low, high)


def random_table(rng):
    segments, levels = int(rng.integers(1, 8)), int(rng.integers(2, 6))
    # Per-segment sizes from tiny to large, so small rows, small cells and zeros all occur.
    scale = rng.choice([0.3, 1.0, 3.0, 8.0, 25.0], size=(segments, 1))
    weights = rng.dirichlet(np.ones(levels), size=segments)
    return rng.poisson(scale * weights * levels).tolist()


@pytest.mark.parametrize("seed", range(200))
def test_suppress_table_resists_differencing_on_random_tables(seed):
    rng = np.random.default_rng(seed)
    rows = random_table(rng)
    k = int(rng.choice([3, 5, 5, 10]))

    table = suppress_table_with_totals(rows, k)

    assert_protected(rows, k, table)


def test_suppress_table_random_tables_do_hide_figures():
    # The property test above is only worth something if its tables need suppression.
    hidden = 0
    for seed in range(200):
        rng = np.random.default_rng(seed)
        rows = random_table(rng)
        k = int(rng.choice([3, 5, 5, 10]))
        table = suppress_table_with_totals(rows, k)
        hidden += sum(cell.reason == COMPLEMENTARY for row in table.cells for cell in row)
    assert hidden > 200
