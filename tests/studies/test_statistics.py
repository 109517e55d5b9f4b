from decimal import Decimal

import numpy as np
import pytest
from scipy import stats

from grille.core.statistics import (
    MANN_WHITNEY_TEST_NAME,
    mann_whitney_from_counts,
    mean_ci,
    mean_ci_from_sums,
    mean_variance_from_sums,
)

LEVELS = np.array([0, 1, 2, 3])
ANSWERS = np.array([0, 1, 1, 2, 3, 3, 2, 0, 1, 2, 2, 3, 1])


def expand(counts):
    """The individual answers behind counts per level, as scipy wants them."""
    levels = np.array(sorted(counts), dtype=np.float64)
    return np.repeat(levels, [counts[level] for level in sorted(counts)])


def scipy_mann_whitney(before, after):
    return stats.mannwhitneyu(
        expand(before), expand(after), alternative="two-sided", method="asymptotic",
        use_continuity=True,
    )


def test_mean_ci_matches_scipy_t_interval():
    n, mean, variance = len(ANSWERS), ANSWERS.mean(), ANSWERS.var(ddof=1)
    expected = stats.t.interval(0.95, df=n - 1, loc=mean, scale=stats.sem(ANSWERS))

    assert mean_ci(n, mean, variance) == pytest.approx(expected, rel=1e-12)


def test_mean_ci_uses_the_requested_confidence():
    n, mean, variance = len(ANSWERS), ANSWERS.mean(), ANSWERS.var(ddof=1)
    expected = stats.t.interval(0.9, df=n - 1, loc=mean, scale=stats.sem(ANSWERS))

    assert mean_ci(n, mean, variance, confidence=0.9) == pytest.approx(expected, rel=1e-12)


def test_mean_ci_is_a_point_when_everyone_agrees():
    assert mean_ci(6, 2.0, 0.0) == (2.0, 2.0)


def test_mean_ci_refuses_fewer_than_two_answers():
    with pytest.raises(ValueError, match="at least 2 answers"):
        mean_ci(1, 2.0, 0.0)


def test_mean_ci_refuses_a_negative_variance():
    with pytest.raises(ValueError, match="negative"):
        mean_ci(10, 2.0, -0.1)


def test_mean_ci_refuses_a_confidence_outside_zero_one():
    with pytest.raises(ValueError, match="confidence"):
        mean_ci(10, 2.0, 1.0, confidence=95)


def test_mean_ci_from_sums_matches_numpy():
    estimate = mean_ci_from_sums(
        len(ANSWERS), int(ANSWERS.sum()), int((ANSWERS * ANSWERS).sum())
    )

    assert estimate.n == len(ANSWERS)
    assert estimate.mean == pytest.approx(np.mean(ANSWERS), rel=1e-15)
    assert estimate.variance == pytest.approx(np.var(ANSWERS, ddof=1), rel=1e-15)
    assert (estimate.low, estimate.high) == pytest.approx(
        stats.t.interval(0.95, df=len(ANSWERS) - 1, loc=np.mean(ANSWERS), scale=stats.sem(ANSWERS)),
        rel=1e-12,
    )
    assert estimate.confidence == 0.95


def test_mean_ci_from_sums_does_not_cancel_on_large_values():
    # In floating point, n·Σx² − (Σx)² loses every digit here; the variance is exactly 1.
    data = 10**8 + np.array([0, 1, 2], dtype=np.int64)
    total, total_squares = int(data.sum()), sum(int(x) ** 2 for x in data)

    mean, variance = mean_variance_from_sums(3, total, total_squares)

    assert mean == 100_000_001.0
    assert variance == 1.0
    assert variance == np.var(data.astype(np.float64), ddof=1)


def test_mean_ci_from_sums_accepts_decimals_from_the_database():
    estimate = mean_ci_from_sums(4, Decimal("6"), Decimal("14"))

    assert estimate.mean == 1.5
    assert estimate.variance == pytest.approx(np.var([0, 1, 2, 3], ddof=1))


def test_mean_ci_from_sums_clamps_a_rounded_variance_at_zero():
    # Three answers of 1 whose sum of squares came back rounded just below 3.
    mean, variance = mean_variance_from_sums(3, 3.0, 2.9999999999)

    assert mean == 1.0
    assert variance == 0.0


def test_counts_with_non_concerne_are_refused():
    with pytest.raises(ValueError, match="Non concerné"):
        mann_whitney_from_counts({0: 3, None: 2}, {0: 1})


def test_negative_counts_are_refused():
    with pytest.raises(ValueError, match="negative"):
        mann_whitney_from_counts({0: -1}, {0: 1})


MANN_WHITNEY_CASES = {
    "ties": ({0: 3, 1: 5, 2: 7, 3: 2}, {0: 1, 1: 4, 2: 8, 3: 6}),
    "unequal_sizes": ({0: 10, 1: 2}, {1: 1, 2: 3, 3: 40}),
    "one_before_many_after": ({2: 1}, {0: 5, 1: 7, 2: 9, 3: 4}),
    "many_before_one_after": ({0: 5, 1: 7, 2: 9, 3: 4}, {0: 1}),
    "one_against_one": ({1: 1}, {3: 1}),
    "disjoint_levels": ({0: 4, 1: 3}, {2: 6, 3: 2}),
    "same_distribution": ({0: 2, 1: 4, 2: 4, 3: 2}, {0: 2, 1: 4, 2: 4, 3: 2}),
    "levels_missing_on_one_side": ({0: 0, 1: 12, 3: 3}, {2: 7, 3: 9, 0: 0}),
    "large_close": (
        {0: 12_000, 1: 18_000, 2: 15_000, 3: 5_000},
        {0: 9_610, 1: 14_420, 2: 12_000, 3: 3_970},
    ),
}


@pytest.mark.parametrize("case", sorted(MANN_WHITNEY_CASES))
def test_mann_whitney_from_counts_matches_scipy(case):
    before, after = MANN_WHITNEY_CASES[case]
    expected = scipy_mann_whitney(before, after)

    result = mann_whitney_from_counts(before, after)

    assert result.n_before == len(expand(before))
    assert result.n_after == len(expand(after))
    assert result.u == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    assert result.test_name == MANN_WHITNEY_TEST_NAME
    assert result.reason == ""


def test_mann_whitney_from_counts_handles_50000_against_40000():
    before = {0: 12_000, 1: 18_000, 2: 15_000, 3: 5_000}
    after = {0: 8_000, 1: 14_000, 2: 12_000, 3: 6_000}
    x, y = np.repeat(LEVELS, [12_000, 18_000, 15_000, 5_000]), np.repeat(LEVELS, [8_000, 14_000, 12_000, 6_000])
    expected = stats.mannwhitneyu(
        x.astype(np.float64), y.astype(np.float64), alternative="two-sided",
        method="asymptotic", use_continuity=True,
    )

    result = mann_whitney_from_counts(before, after)

    assert (result.n_before, result.n_after) == (50_000, 40_000)
    assert result.u == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    assert result.p_value < 1e-10


def test_mann_whitney_from_counts_stays_exact_for_billions_of_answers():
    # Counts this large could never be expanded; U must stay an exact half-integer.
    result = mann_whitney_from_counts({0: 3 * 10**9, 1: 10**9}, {0: 10**9, 1: 3 * 10**9})

    # before above after: 10⁹ × 10⁹ pairs; ties: 2 × 3·10⁹ × 10⁹ pairs, counting one half.
    assert result.u == 4 * 10**18
    assert result.rank_biserial == pytest.approx(0.5)
    assert result.p_value == 0.0


SMALL_CASES = sorted(case for case in MANN_WHITNEY_CASES if not case.startswith("large"))


@pytest.mark.parametrize("case", SMALL_CASES)
def test_mann_whitney_from_counts_effect_sizes_match_a_direct_count(case):
    before, after = MANN_WHITNEY_CASES[case]
    x, y = expand(before), expand(after)
    differences = y[:, None] - x[None, :]  # after − before, for every pair

    result = mann_whitney_from_counts(before, after)

    assert result.rank_biserial == pytest.approx(np.sign(differences).mean(), rel=1e-12, abs=1e-15)
    assert result.probability_of_superiority == pytest.approx(
        ((differences > 0) + 0.5 * (differences == 0)).mean(), rel=1e-12
    )


def test_mann_whitney_rank_biserial_is_positive_when_after_is_higher():
    result = mann_whitney_from_counts({0: 6, 1: 4}, {2: 5, 3: 5})

    assert result.rank_biserial == 1.0
    assert result.probability_of_superiority == 1.0
    assert result.u == 0.0


def test_mann_whitney_rank_biserial_is_negative_when_after_is_lower():
    result = mann_whitney_from_counts({2: 5, 3: 5}, {0: 6, 1: 4})

    assert result.rank_biserial == -1.0
    assert result.probability_of_superiority == 0.0


def test_mann_whitney_from_counts_without_answers_on_one_side_gives_no_test():
    result = mann_whitney_from_counts({0: 0, 1: 0}, {1: 4, 2: 3})

    assert result.n_before == 0
    assert result.n_after == 7
    assert result.u is None
    assert result.p_value is None
    assert result.rank_biserial is None
    assert result.probability_of_superiority is None
    assert result.reason == "Une des deux vagues n'a aucune réponse : pas de comparaison possible."


def test_mann_whitney_from_counts_with_all_answers_at_one_level_gives_no_test():
    result = mann_whitney_from_counts({2: 8}, {2: 5, 3: 0})

    assert result.u == 20.0
    assert result.p_value is None
    assert result.rank_biserial == 0.0
    assert result.probability_of_superiority == 0.5
    assert result.reason == "Toutes les réponses sont au même niveau : pas de test possible."


def test_mann_whitney_from_counts_refuses_non_concerne():
    with pytest.raises(ValueError, match="Non concerné"):
        mann_whitney_from_counts({0: 3, "NC": 2}, {1: 4})
