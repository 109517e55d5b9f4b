"""The API schemas read the disclosure layer's cells: a hidden figure never leaves with a value,
whatever the cell it is read from carries."""

from __future__ import annotations

from grille.api.schemas import MeanOut, SegmentOut
from grille.disclosure.cells import MeanCell
from grille.studies.dashboard import Segment


def test_mean_suppressed_publishes_none_of_its_figures():
    cell = MeanCell(n=7, mean=2.0, low=1.5, high=2.5, suppressed=True, approximate=True)

    assert MeanOut.model_validate(cell).model_dump() == {
        "n": None, "mean": None, "low": None, "high": None, "suppressed": True, "approximate": False,
    }


def test_mean_shown_publishes_its_figures():
    cell = MeanCell(n=7, mean=2.0, low=1.5, high=2.5, approximate=True)

    assert MeanOut.model_validate(cell).model_dump() == {
        "n": 7, "mean": 2.0, "low": 1.5, "high": 2.5, "suppressed": False, "approximate": True,
    }


def test_segment_suppressed_publishes_no_size():
    segment = Segment(code="commune", label="Commune", size=4, suppressed=True, reason="too-few")

    assert SegmentOut.model_validate(segment).model_dump() == {
        "code": "commune", "label": "Commune", "size": None, "suppressed": True, "reason": "too-few",
    }
