"""A team's anonymous pool changes in batches (grille/disclosure/release.py).

The anonymous shares of an organisation count in its figures only once released, at least
ANONYMOUS_BATCH brand-new shares at a time (a positioning already published in the pool, shared
again, rides along but does not count); the pool is shown only from ANONYMOUS_MIN released
shares on, its cells hidden below ANONYMOUS_MIN (team.py); a departure by any route
(withdrawing, leaving, being removed, the person or their positioning erased) withholds the
pool, showing nothing, until the next release. Comparing any two published states of the
team's figures then shows a group of at least ANONYMOUS_BATCH people under fresh noise, never
one person.

Every service that changes the pool calls `settle_team` in its transaction. Code that deletes
positionings or people elsewhere (erasure) lists the teams first with `pooled_organisations`,
and settles them once the rows are gone.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from grille.assessments.models import Assessment
from grille.disclosure import release
from grille.disclosure.policy import ANONYMOUS_BATCH

from .enums import ShareMode
from .models import Organisation, Share


def pool_key(organisation: Organisation) -> str:
    return f"team:{organisation.pk}"


def eligible_shares(organisation: Organisation) -> QuerySet[Share]:
    """The active anonymous shares of positionings on the organisation's grid version."""
    return Share.objects.filter(
        organisation=organisation,
        mode=ShareMode.ANONYMOUS,
        withdrawn_at__isnull=True,
        assessment__version=organisation.version_id,
    )


def team_pool(organisation: Organisation) -> tuple[str, QuerySet[Share]]:
    """The pool's key and its eligible contributions, as release.py takes them."""
    return pool_key(organisation), eligible_shares(organisation)


def settle_team(organisation: Organisation) -> bool:
    """Release the anonymous shares waiting for the team's figures once they make a batch
    (withheld after a departure until then); True when the pool changed."""
    key, eligible = team_pool(organisation)
    return release.settle(key, eligible, batch=ANONYMOUS_BATCH)


def pooled_organisations(assessments: QuerySet[Assessment]) -> list[Organisation]:
    """The organisations whose anonymous pool holds or awaits one of these positionings: to
    settle (settle_teams) after they are deleted."""
    return list(
        Organisation.objects.filter(
            shares__assessment__in=assessments, shares__mode=ShareMode.ANONYMOUS, shares__withdrawn_at__isnull=True
        ).distinct()
    )


def settle_teams(organisations: Iterable[Organisation]) -> None:
    for organisation in organisations:
        settle_team(organisation)
