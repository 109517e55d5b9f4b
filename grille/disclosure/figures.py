"""The figures the page « Protection des données » states, read from the code that applies them.

The page explains thresholds, noise and batches in plain French; each number it gives comes from
here, and each value here is imported from where it is enforced (the disclosure layer, its
perturbation table, the pool policy that the apps apply), so that the page cannot say one thing while the code
does another.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.template.defaultfilters import floatformat
from django.utils.html import format_html
from django.utils.safestring import SafeString

from .cells import DEFAULT_THRESHOLD, MIN_THRESHOLD
from .policy import ANONYMOUS_BATCH, ANONYMOUS_MIN, MAX_QUESTIONS, POOL_BATCH
from .ptable import PerturbationTable, default_ptable

# A count the page takes as an example of what the noise does to a large cell.
EXAMPLE_COUNT = 80


@dataclass(frozen=True)
class ProtectionFigures:
    default_k: int
    min_k: int
    peers_k: int
    team_k: int
    max_noise: int
    variance: float
    uniform_from: int  # the smallest count whose noise is uniform over -max_noise..max_noise
    peers_batch: int
    team_batch: int
    max_questions: int


def uniform_from(table: PerturbationTable) -> int:
    full = tuple(range(-table.max_noise, table.max_noise + 1))
    return min(n for n, (_cumulative, noises) in table.rows.items() if noises == full)


def protection_figures() -> ProtectionFigures:
    table = default_ptable()
    return ProtectionFigures(
        default_k=DEFAULT_THRESHOLD,
        min_k=MIN_THRESHOLD,
        peers_k=DEFAULT_THRESHOLD,
        team_k=ANONYMOUS_MIN,
        max_noise=table.max_noise,
        variance=table.variance,
        uniform_from=uniform_from(table),
        peers_batch=POOL_BATCH,
        team_batch=ANONYMOUS_BATCH,
        max_questions=MAX_QUESTIONS,
    )


def _figure(name: str, value: int | float) -> SafeString:
    # Marked in the page, so that a test reads back exactly what it states.
    shown = floatformat(value) if isinstance(value, float) else str(value)
    return format_html('<span class="figure" data-figure="{}">{}</span>', name, shown)


def figure_marks(figures: ProtectionFigures) -> dict[str, str]:
    """Each figure as it is printed in the page, by the name the template uses."""
    return {
        "default_k": _figure("default-k", figures.default_k),
        "min_k": _figure("min-k", figures.min_k),
        "peers_k": _figure("peers-k", figures.peers_k),
        "team_k": _figure("team-k", figures.team_k),
        "max_noise": _figure("max-noise", figures.max_noise),
        "variance": _figure("variance", figures.variance),
        "uniform_from": _figure("uniform-from", figures.uniform_from),
        "peers_batch": _figure("peers-batch", figures.peers_batch),
        "team_batch": _figure("team-batch", figures.team_batch),
        "max_questions": _figure("max-questions", figures.max_questions),
        "example": str(EXAMPLE_COUNT),
        "example_low": str(EXAMPLE_COUNT - figures.max_noise),
        "example_high": str(EXAMPLE_COUNT + figures.max_noise),
    }
