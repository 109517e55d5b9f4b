"""Statistics of study campaigns, computed from the aggregates the database returns.

Pure functions, no Django, no loop over respondents: counts per level, sums and sums of squares
come in, numbers come out. Levels are the ordinal « Niveau de pratique » (0–3); the answers
« Non concerné·e » are left out by the caller before anything reaches this module. What may be
shown is decided by `grille.disclosure`, not here.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

# numpy and scipy are imported by the functions that use them: a web worker that never
# computes a statistic does not load them (issue 16; tests/core/test_lazy_imports.py).
if TYPE_CHECKING:
    import numpy as np

MANN_WHITNEY_TEST_NAME = (
    "Mann–Whitney U (approximation normale, correction de continuité et des ex-aequo)"
)

# A total from the database: SUM over integers, or over decimals and floats.
Sum = int | float | Fraction | Decimal

NO_ANSWER_REASON = "Une des deux vagues n'a aucune réponse : pas de comparaison possible."
SINGLE_LEVEL_REASON = "Toutes les réponses sont au même niveau : pas de test possible."


@dataclass(frozen=True)
class MeanEstimate:
    """A mean with its sample variance (ddof=1) and its Student t confidence interval."""

    n: int
    mean: float
    variance: float
    low: float
    high: float
    confidence: float


@dataclass(frozen=True)
class MannWhitney:
    """Two waves compared on one ordinal item.

    `u` is the U statistic of `before`, as `scipy.stats.mannwhitneyu(before, after).statistic`:
    the number of (before, after) pairs where before is higher, ties counting one half.
    `rank_biserial` is r = 1 − 2U / (n_before · n_after) = P(after > before) − P(before > after),
    in [−1, 1]: positive means levels are higher in `after`.
    `probability_of_superiority` is the common-language effect size
    P(after > before) + ½ P(tie), in [0, 1]: above ½ means levels are higher in `after`.
    `p_value` is None, with a `reason`, when no test is possible.
    """

    n_before: int
    n_after: int
    u: float | None
    p_value: float | None
    rank_biserial: float | None
    probability_of_superiority: float | None
    test_name: str = MANN_WHITNEY_TEST_NAME
    reason: str = ""


def _check_confidence(confidence: float) -> float:
    confidence = float(confidence)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1 (got {confidence})")
    return confidence


def _check_n(n: int) -> int:
    if isinstance(n, bool):
        raise ValueError("n must be a whole number, not a boolean")
    n = operator.index(n)
    if n < 2:
        raise ValueError(f"a sample variance needs at least 2 answers (got {n})")
    return n


def mean_ci(
    n: int, mean: float, variance: float, confidence: float = 0.95
) -> tuple[float, float]:
    """Student t confidence interval of a mean, from the sample variance (ddof=1)."""
    n = _check_n(n)
    confidence = _check_confidence(confidence)
    variance = float(variance)
    if not variance >= 0:  # also refuses NaN
        raise ValueError(f"variance cannot be negative (got {variance})")
    from scipy import stats

    quantile = float(stats.t.ppf((1 + confidence) / 2, n - 1))
    half_width = quantile * math.sqrt(variance / n)
    return float(mean) - half_width, float(mean) + half_width


def _exact(value: Sum) -> Fraction:
    if isinstance(value, bool):
        raise ValueError("sums must be numbers, not booleans")
    if isinstance(value, numbers.Integral):
        return Fraction(int(value))
    if isinstance(value, (Decimal, float, Fraction)):
        if isinstance(value, (Decimal, float)) and not math.isfinite(value):
            raise ValueError(f"sums must be finite (got {value})")
        return Fraction(value)
    raise ValueError(f"sums must be numbers (got {value!r})")


def mean_variance_from_sums(
    n: int, total: Sum, total_squares: Sum
) -> tuple[float, float]:
    """Mean and sample variance (ddof=1) from n, SUM(x) and SUM(x*x).

    The textbook n·Σx² − (Σx)² cancels catastrophically in floating point, so it is done on
    exact fractions of the inputs (integers from SUM over integers stay exact) and rounded
    once; a variance made negative by inputs already rounded is clamped at 0.
    """
    n = _check_n(n)
    s1, s2 = _exact(total), _exact(total_squares)
    mean = s1 / n
    variance = (n * s2 - s1 * s1) / (n * (n - 1))
    return float(mean), max(float(variance), 0.0)


def mean_ci_from_sums(
    n: int,
    total: Sum,
    total_squares: Sum,
    confidence: float = 0.95,
) -> MeanEstimate:
    """Mean, sample variance and Student t interval from n, SUM(x) and SUM(x*x)."""
    mean, variance = mean_variance_from_sums(n, total, total_squares)
    low, high = mean_ci(n, mean, variance, confidence)
    return MeanEstimate(
        n=operator.index(n), mean=mean, variance=variance, low=low, high=high,
        confidence=float(confidence),
    )


def _levels_and_counts(counts: Mapping[int, int]) -> tuple[list[int], np.ndarray]:
    levels: list[int] = []
    values: list[int] = []
    for level, count in counts.items():
        if isinstance(level, bool) or not isinstance(level, numbers.Real):
            raise ValueError(
                f"levels must be numbers (got {level!r}); leave « Non concerné·e » out first"
            )
        if isinstance(count, bool):
            raise ValueError("counts must be whole numbers, not booleans")
        count = operator.index(count)
        if count < 0:
            raise ValueError(f"counts cannot be negative (got {count} for level {level})")
        levels.append(level)
        values.append(count)
    import numpy as np

    order = sorted(range(len(levels)), key=levels.__getitem__)
    return [levels[i] for i in order], np.array([values[i] for i in order], dtype=np.int64)


def mann_whitney_from_counts(
    before: Mapping[int, int], after: Mapping[int, int]
) -> MannWhitney:
    """Mann–Whitney U test of two waves from their counts per level (grouped ordinal data).

    Same result as `scipy.stats.mannwhitneyu(x, y, alternative="two-sided",
    method="asymptotic", use_continuity=True)` on the expanded samples, computed from the
    counts: each level's tied answers share one midrank, so the cost is the number of levels,
    not of respondents, and an earlier wave known only by its aggregates can be compared.
    """
    import numpy as np
    from scipy import special

    before_levels, before_counts = _levels_and_counts(before)
    after_levels, after_counts = _levels_and_counts(after)
    levels = sorted(set(before_levels) | set(after_levels))
    b = np.zeros(len(levels), dtype=np.int64)
    a = np.zeros(len(levels), dtype=np.int64)
    index = {level: i for i, level in enumerate(levels)}
    if before_levels:
        np.add.at(b, [index[level] for level in before_levels], before_counts)
    if after_levels:
        np.add.at(a, [index[level] for level in after_levels], after_counts)
    n1, n2 = int(b.sum()), int(a.sum())
    if n1 == 0 or n2 == 0:
        return MannWhitney(
            n_before=n1, n_after=n2, u=None, p_value=None, rank_biserial=None,
            probability_of_superiority=None, reason=NO_ANSWER_REASON,
        )

    # U of `before`: for each of its answers, the `after` answers strictly below plus half
    # the ties, counted twice to stay in exact integers.
    # Python integers over the few levels: exact whatever the campaign's size.
    after_below = np.cumsum(a) - a
    twice_u1 = sum(
        x * (2 * y + z) for x, y, z in zip(b.tolist(), after_below.tolist(), a.tolist(), strict=True)
    )
    pairs = n1 * n2
    u1 = twice_u1 / 2
    rank_biserial = (pairs - twice_u1) / pairs
    superiority = (pairs - u1) / pairs

    ties = (a + b).astype(np.float64)
    if np.count_nonzero(ties) < 2:
        return MannWhitney(
            n_before=n1, n_after=n2, u=u1, p_value=None, rank_biserial=rank_biserial,
            probability_of_superiority=superiority, reason=SINGLE_LEVEL_REASON,
        )
    n = n1 + n2
    tie_term = float(np.sum(ties**3 - ties))
    sigma = math.sqrt(pairs / 12 * ((n + 1) - tie_term / (n * (n - 1))))
    u = max(u1, pairs - u1)
    z = (u - pairs / 2 - 0.5) / sigma
    p_value = min(max(2 * float(special.ndtr(-z)), 0.0), 1.0)
    return MannWhitney(
        n_before=n1, n_after=n2, u=u1, p_value=p_value, rank_biserial=rank_biserial,
        probability_of_superiority=superiority,
    )
