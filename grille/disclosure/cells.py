"""The published figures: a count, a mean, and the raw tally they are made from."""

from __future__ import annotations

import operator
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
class Tally:
    """An exact count of contributors and the sum of their record keys. Never published."""

    n: int = 0
    keys: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.n + other.n, self.keys + other.keys)


EMPTY = Tally()


@dataclass(frozen=True)
class Cell:
    """A figure ready to show: its value, or nothing at all when it is suppressed.

    A suppressed cell never carries its value, so that no template or export can leak it.
    `approximate` marks a value that went through perturbation.
    """

    value: int | float | None
    suppressed: bool
    reason: str  # "" when shown, else PRIMARY (under k) or COMPLEMENTARY (protects another)
    approximate: bool = False

    def __post_init__(self) -> None:
        if self.suppressed:
            if self.value is not None:
                raise ValueError("a suppressed cell must not carry its value")
            if self.reason not in (PRIMARY, COMPLEMENTARY):
                raise ValueError(f"unknown suppression reason {self.reason!r}")
        elif self.reason:
            raise ValueError("a shown cell has no suppression reason")

    @classmethod
    def shown(cls, value: int | float | None, *, approximate: bool = False) -> Cell:
        return cls(value=value, suppressed=False, reason="", approximate=approximate)

    @classmethod
    def hidden(cls, reason: str = PRIMARY) -> Cell:
        return cls(value=None, suppressed=True, reason=reason)

    @property
    def number(self) -> int | float:
        """The value of a shown figure, to compute with; asking a cell without one is a bug."""
        if self.value is None:
            raise ValueError("this cell holds no value")
        return self.value

    @property
    def display(self) -> int | float | str | None:
        """The value to print (left to the template to localise), or « s » when suppressed."""
        return SUPPRESSED_MARK if self.suppressed else self.value


@dataclass(frozen=True)
class MeanCell:
    """A mean with its 95 % confidence interval and n, or suppressed."""

    n: int | None
    mean: float | None = None
    low: float | None = None
    high: float | None = None
    suppressed: bool = False
    approximate: bool = False

    @classmethod
    def hidden(cls) -> MeanCell:
        return cls(n=None, suppressed=True)
