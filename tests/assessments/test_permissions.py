"""Who may see what about a positioning (assessments/permissions.py)."""

from __future__ import annotations

from grille.assessments.models import PeerShare
from grille.assessments.permissions import can_compare_with_type


def test_a_positioning_compares_with_the_peers_of_its_own_type_only_once_it_takes_part():
    share = PeerShare(structure_type="association")

    allowed = [can_compare_with_type(s, t) for s, t in ((share, "association"), (share, "commune"), (None, "association"))]

    assert allowed == [True, False, False]
