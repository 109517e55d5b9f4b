"""The pools' parameters: how many people a published group holds, and how it may change.

Each app's pool applies them (assessments.peers, organisations.pools, studies.queries); the page
« Protection des données » states them (figures.py), so the page and the code cannot differ.
"""

from typing import Final

from .cells import DEFAULT_THRESHOLD

# Peers: the pool changes only when at least this many brand-new positionings arrive at once.
POOL_BATCH: Final = DEFAULT_THRESHOLD

# A team's anonymous pool changes by at least ANONYMOUS_BATCH brand-new shares at a time, and is
# shown only from ANONYMOUS_MIN people on, its cells under the same threshold: at 3, a pool read by
# two accounts of one person told the third's levels far more often than chance (the attack tests).
ANONYMOUS_BATCH: Final = 3
ANONYMOUS_MIN: Final = DEFAULT_THRESHOLD

# A study's results view crosses at most this many profile questions, filters and comparison
# together: beyond that, two views differ by too few people too easily.
MAX_QUESTIONS: Final = 2
