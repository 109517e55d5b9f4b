import numpy as np
import pytest

from grille.disclosure.cells import (
    DEFAULT_THRESHOLD,
    MIN_THRESHOLD,
    PRIMARY,
    Cell,
    Tally,
    validate_threshold,
)
from grille.disclosure.protect import Protector

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


def test_a_protector_refuses_a_threshold_below_three():
    with pytest.raises(ValueError, match="inférieur à 3"):
        Protector(Tally(10, 123), 2)


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


def test_tallies_add_up_counts_and_keys():
    assert Tally(2, 10) + Tally(3, 5) == Tally(5, 15)
