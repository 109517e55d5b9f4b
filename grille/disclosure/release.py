"""Pools that change in batches, so that no two publications differ by fewer than a batch.

Figures about a pool (a campaign's results, a team's anonymous shares, the peers) are computed
over its *released* contributions only. The rule, and why it holds over any history:

- a release happens only when at least `batch` brand-new contributions are waiting: positionings
  never published in this pool before (remembered in `ReleasedAssessment`, so that leaving and
  coming back with the same answers does not count as new). Every published state therefore
  holds at least `batch` people that no earlier state held, and any two states differ by at
  least a batch, whatever happened between them;
- when a published contribution leaves (withdrawal, removal, erasure: it cannot be kept), the
  pool is withheld, showing nothing, until the next release. Showing the pool minus that person
  would tell who left by difference; showing nothing tells nothing.

Contributions that were published, held out by a withdrawal and are still there ride along with
the next release, but never count towards its batch. Each contribution model carries a
`released` flag; the app that owns the pool gives the queryset of its eligible contributions
(with an `assessment_id`). `settle` is called by the services that change a pool, in their
transaction. `published` fails closed: a pool that lost a released contribution shows nothing.
"""

from __future__ import annotations

from typing import TypeVar

from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from .models import PoolRelease, ReleasedAssessment

# A pool's contributions: any model with a `released` flag and an `assessment_id`.
M = TypeVar("M", bound=Model)


def _state(key: str, eligible: QuerySet[M]) -> PoolRelease:
    state, _created = PoolRelease.objects.select_for_update().get_or_create(
        key=key, defaults={"released_count": eligible.filter(released=True).count()}
    )
    return state


def settle(key: str, eligible: QuerySet[M], *, batch: int) -> bool:
    """Withhold the pool after a departure; release it once `batch` brand-new contributions wait.
    True when it released."""
    with transaction.atomic():
        state = _state(key, eligible)
        present = eligible.filter(released=True).count()
        if present < state.released_count and not state.withheld:
            state.withheld = True
            state.save(update_fields=["withheld"])
        waiting = list(eligible.filter(released=False).values_list("pk", "assessment_id"))
        seen = set(
            ReleasedAssessment.objects.filter(pool=state, assessment_id__in=[a for _pk, a in waiting])
            .values_list("assessment_id", flat=True)
        )
        new = {a for _pk, a in waiting if a not in seen}
        if len(new) < batch:
            return False
        eligible.filter(pk__in=[pk for pk, _a in waiting]).update(released=True)
        ReleasedAssessment.objects.bulk_create(
            [ReleasedAssessment(pool=state, assessment_id=a) for a in sorted(new)], ignore_conflicts=True
        )
        state.released_count = present + len(waiting)
        state.withheld = False
        state.releases += 1
        state.released_at = timezone.now()
        state.save(update_fields=["released_count", "withheld", "releases", "released_at"])
        return True


def published(key: str, eligible: QuerySet[M]) -> QuerySet[M] | None:
    """The released contributions of a pool, or None while it is withheld after a departure."""
    released = eligible.filter(released=True)
    state = PoolRelease.objects.filter(key=key).values_list("released_count", "withheld").first()
    if state is not None and (state[1] or released.count() < state[0]):
        return None
    return released


def pending_count(eligible: QuerySet[M]) -> int:
    """Contributions waiting for the next release."""
    return eligible.filter(released=False).count()
