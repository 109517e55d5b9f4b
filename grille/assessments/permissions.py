"""Who may see what about a positioning: the one answer that the views and the access-matrix
test ask (README, « Qui voit quoi »).

Reaching a positioning at all is the scope of the selectors: its owner's account, or a browser
it was started in or opened by its resume link; anyone else gets the 404 of a missing one.
"""

from __future__ import annotations

from .models import PeerShare


def can_compare_with_type(share: PeerShare | None, structure_type: str) -> bool:
    """A positioning is compared with all peers; with the peers of one type of structure only
    once it takes part in the comparison as that type, so that nobody reads the figures of a
    group they are not in."""
    return share is not None and share.structure_type == structure_type
