"""Pools that change in batches (grille/disclosure/release.py), on a real pool: peer shares.

The rule: a release happens only when at least `batch` brand-new contributions wait (positionings
never published in this pool); a published contribution that leaves withholds the pool (nothing
shown) until the next release; a positioning that was published, left and came back rides along
with a release without counting towards its batch. Hence any two published states, consecutive
or not, differ by no one or by at least `batch` people.
"""

from __future__ import annotations

import itertools
import random

import pytest
from django.utils import timezone

from grille.assessments.enums import AssessmentStatus
from grille.assessments.models import Assessment, PeerShare
from grille.disclosure.models import PoolRelease, ReleasedAssessment
from grille.disclosure.release import pending_count, published, settle

KEY = "peers:test"
BATCH = 3


@pytest.fixture
def pool(version):
    """add(n) -> n new pending contributions of brand-new positionings; add.back(assessment) -> a
    new pending contribution of a positioning that was in the pool; add.eligible() -> the pool."""

    def share(assessment: Assessment) -> PeerShare:
        return PeerShare.objects.create(assessment=assessment, structure_type="association", consent_version="test")

    def add(n: int) -> list[PeerShare]:
        return [
            share(
                Assessment.objects.create(version=version, status=AssessmentStatus.SUBMITTED, submitted_at=timezone.now())
            )
            for _ in range(n)
        ]

    def eligible():
        return PeerShare.objects.filter(assessment__version=version)

    add.back = share
    add.eligible = eligible
    return add


def _settle(pool) -> bool:
    return settle(KEY, pool.eligible(), batch=BATCH)


def _published(pool) -> set[int] | None:
    """The positionings the pool publishes (None: nothing shown)."""
    shown = published(KEY, pool.eligible())
    return None if shown is None else set(shown.values_list("assessment_id", flat=True))


def _state() -> PoolRelease:
    return PoolRelease.objects.get(key=KEY)


def _published_pool_of(pool, n: int) -> set[int]:
    """Arrange: a pool of `n` (a multiple of the batch or more) published contributions."""
    pool(n)
    assert _settle(pool) is True
    shown = _published(pool)
    assert shown is not None and len(shown) == n
    return shown


# -- releases -------------------------------------------------------------------------------


def test_nothing_is_released_below_a_batch_of_brand_new_contributions(pool):
    for _ in range(BATCH - 1):
        pool(1)
        assert _settle(pool) is False
        assert _published(pool) == set()
    assert pending_count(pool.eligible()) == BATCH - 1
    assert not ReleasedAssessment.objects.exists()


def test_a_batch_of_brand_new_contributions_is_released_at_once(pool):
    first = pool(BATCH - 1)
    _settle(pool)
    last = pool(1)

    assert _settle(pool) is True

    assert _published(pool) == {s.assessment_id for s in first + last}
    assert pending_count(pool.eligible()) == 0
    state = _state()
    assert (state.released_count, state.withheld, state.releases) == (BATCH, False, 1)
    # Remembered: if they come back, they are not new to this pool.
    assert set(ReleasedAssessment.objects.filter(pool=state).values_list("assessment_id", flat=True)) == _published(pool)


def test_additions_after_a_release_wait_for_the_next_batch(pool):
    before = _published_pool_of(pool, BATCH + 2)
    for _ in range(BATCH - 1):
        pool(1)
        assert _settle(pool) is False
        assert _published(pool) == before
    pool(1)

    assert _settle(pool) is True

    after = _published(pool)
    assert before < after and len(after - before) == BATCH


def test_a_pending_contribution_that_leaves_withholds_nothing(pool):
    before = _published_pool_of(pool, 6)
    (waiting,) = pool(1)

    waiting.delete()
    _settle(pool)

    assert _published(pool) == before
    assert _state().withheld is False


# -- departures -------------------------------------------------------------------------------


@pytest.mark.parametrize("pending", range(BATCH))
def test_a_departure_withholds_the_pool_until_a_batch_of_brand_new_ones(pool, pending):
    before = _published_pool_of(pool, 10)
    pool(pending)
    _settle(pool)
    leaving = PeerShare.objects.filter(assessment_id__in=before).order_by("pk")[len(before) // 2]

    leaving.delete()

    assert _published(pool) is None  # before the service settles: fails closed already
    assert _settle(pool) is False
    assert _published(pool) is None  # settled: withheld, nothing shown
    assert _state().withheld is True
    for _ in range(BATCH - pending - 1):
        pool(1)
        assert _settle(pool) is False
        assert _published(pool) is None
    pool(1)

    assert _settle(pool) is True

    after = _published(pool)
    assert after == (before - {leaving.assessment_id}) | (after - before)
    assert len(after - before) == BATCH  # the leaver is hidden among a whole batch of newcomers
    assert len(before ^ after) == BATCH + 1
    state = _state()
    assert (state.withheld, state.released_count) == (False, len(after))


def test_a_withdrawal_out_of_the_eligible_set_counts_as_a_departure(pool):
    shares = pool(8)
    _settle(pool)
    before = _published(pool)
    # Leaving the eligible set without being deleted (as a withdrawn share does).
    leaving = shares[0]
    leaving.consent_version = "withdrawn"
    leaving.save(update_fields=["consent_version"])

    def eligible():
        return pool.eligible().exclude(consent_version="withdrawn")

    assert published(KEY, eligible()) is None
    assert settle(KEY, eligible(), batch=BATCH) is False
    assert published(KEY, eligible()) is None
    pool(BATCH)
    assert settle(KEY, eligible(), batch=BATCH) is True
    after = set(published(KEY, eligible()).values_list("assessment_id", flat=True))
    assert len(before ^ after) == BATCH + 1
    assert leaving.assessment_id not in after


def test_two_departures_in_a_row_stay_withheld_until_one_batch(pool):
    before = _published_pool_of(pool, 10)
    for share in list(PeerShare.objects.filter(released=True).order_by("-pk")[:2]):
        share.delete()
        _settle(pool)
        assert _published(pool) is None
    pool(BATCH)

    assert _settle(pool) is True

    after = _published(pool)
    assert len(before - after) == 2 and len(after - before) == BATCH


def test_a_published_contribution_taken_out_of_the_release_withholds_the_pool(pool):
    """As a peer share changing its type of structure: still eligible, no longer released."""
    before = _published_pool_of(pool, 6)
    moving = PeerShare.objects.filter(released=True).order_by("pk").first()
    PeerShare.objects.filter(pk=moving.pk).update(released=False)

    assert _published(pool) is None
    assert _settle(pool) is False  # it is waiting, but it is not new: no release on it alone
    assert _published(pool) is None
    pool(BATCH - 1)
    assert _settle(pool) is False
    pool(1)
    assert _settle(pool) is True
    after = _published(pool)
    assert moving.assessment_id in after  # it rode along with the batch
    assert len(after - before) == BATCH


# -- coming back ------------------------------------------------------------------------------


def test_a_positioning_that_comes_back_rides_along_without_counting(pool):
    before = _published_pool_of(pool, 6)
    leaving = PeerShare.objects.filter(released=True).order_by("pk").first()
    assessment = leaving.assessment
    leaving.delete()
    _settle(pool)

    pool.back(assessment)  # leaves and comes back with the same answers: not new
    pool(BATCH - 1)

    assert _settle(pool) is False
    assert _published(pool) is None
    assert pending_count(pool.eligible()) == BATCH
    pool(1)
    assert _settle(pool) is True
    after = _published(pool)
    assert assessment.pk in after
    assert len(after - before) == BATCH  # the whole difference: a batch of brand-new people


def test_a_positioning_that_comes_back_before_the_pool_is_settled_does_not_count_as_new(pool):
    """Leaving and joining again in one breath: the pool saw a departure, and the returning
    positioning is no newcomer."""
    _published_pool_of(pool, 6)
    leaving = PeerShare.objects.filter(released=True).order_by("pk").first()
    assessment = leaving.assessment
    leaving.delete()
    pool.back(assessment)
    pool(BATCH - 1)

    assert _settle(pool) is False
    assert _published(pool) is None


# -- any history ----------------------------------------------------------------------------


class _Oracle:
    """The rule, written independently of release.py: what each settle must publish."""

    def __init__(self) -> None:
        self.seen: set[int] = set()  # positionings ever published in the pool
        self.released: set[int] = set()
        self.withheld = False
        self.rode_along = 0  # returning positionings released with a batch

    def settle(self, present: set[int], waiting: set[int]) -> set[int] | None:
        if self.released - present:
            self.withheld = True
        self.released &= present
        if len(waiting - self.seen) >= BATCH:
            self.rode_along += len(waiting & self.seen)
            self.released |= waiting
            self.seen |= waiting
            self.withheld = False
        return None if self.withheld else set(self.released)


@pytest.mark.parametrize("seed", [18, 19])
def test_any_two_published_states_differ_by_no_one_or_a_whole_batch(pool, seed):
    """A seeded life of the pool: brand-new joins, departures of published or waiting people,
    returns with the same positioning, settled after each change as the services do."""
    generator = random.Random(seed)
    away: list[Assessment] = []  # positionings that left and may come back
    oracle = _Oracle()
    states: list[set[int]] = []  # every published state, in order
    withheld_steps = 0
    for _step in range(90):
        shares = list(pool.eligible().order_by("pk"))
        roll = generator.random()
        if roll < 0.45 or len(shares) < 4:
            pool(1)
        elif roll < 0.65 and away:
            pool.back(away.pop(generator.randrange(len(away))))
        else:
            leaving = generator.choice(shares)
            away.append(leaving.assessment)
            leaving.delete()
        shares = list(pool.eligible())
        expected = oracle.settle(
            {s.assessment_id for s in shares if s.released}, {s.assessment_id for s in shares if not s.released}
        )
        _settle(pool)
        shown = _published(pool)
        assert shown == expected
        assert (shown is None) == _state().withheld
        if shown is None:
            withheld_steps += 1
        elif not states or shown != states[-1]:
            states.append(shown)
    assert len(states) >= 6 and withheld_steps >= 5 and oracle.rode_along >= 2, (len(states), withheld_steps)
    for earlier, later in itertools.combinations(states, 2):
        assert len(earlier ^ later) >= BATCH, (earlier, later)
    for i, state in enumerate(states[1:], start=1):
        # Every published state holds a whole batch of people no earlier state held.
        assert len(state - set().union(*states[:i])) >= BATCH
