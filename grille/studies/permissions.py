"""Who may do what with studies: the one answer that the views, the templates, the services and
the access-matrix test all ask (README, « Qui voit quoi »).

Reaching a campaign at all is the scope of selectors.get_campaign_for: its analysts, and nobody
else (an administrator neither), who gets the 404 of a missing campaign. These predicates
answer the rest.
"""

from __future__ import annotations

from grille.core.users import AnyUser

from .models import Campaign

RUN_STUDIES = "studies.run_studies"


def can_run_studies(user: AnyUser) -> bool:
    """People the administration enabled as analysts (the run_studies permission) create campaigns."""
    return user.is_authenticated and user.has_perm(RUN_STUDIES)


def can_download_microdata(user: AnyUser, campaign: Campaign) -> bool:
    """Only the study lead downloads the pseudonymised microdata (DESIGN.md, privacy rules); the
    other analysts export the protected aggregates."""
    return user.is_authenticated and campaign.lead_id == user.pk
