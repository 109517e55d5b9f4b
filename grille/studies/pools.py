"""A campaign's published results change in batches of k completed questionnaires
(grille/disclosure/release.py): the results before and after one person answers, or withdraws,
are the same, or differ by at least k people."""

from __future__ import annotations

from django.db.models import QuerySet

from grille.assessments.enums import AssessmentStatus
from grille.disclosure import release

from .models import Campaign, Respondent


def pool_key(campaign: Campaign) -> str:
    return f"campaign:{campaign.pk}"


def eligible_respondents(campaign: Campaign) -> QuerySet[Respondent]:
    return Respondent.objects.filter(campaign=campaign, assessment__status=AssessmentStatus.SUBMITTED)


def settle_campaign(campaign: Campaign) -> bool:
    """Release the completed questionnaires waiting for the campaign's results, once they make a
    batch of k (called by every service that adds or removes one)."""
    return release.settle(pool_key(campaign), eligible_respondents(campaign), batch=campaign.threshold)


def results_withheld(campaign: Campaign) -> bool:
    """True while a departure from the published results is not settled: nothing is shown."""
    return release.published(pool_key(campaign), eligible_respondents(campaign)) is None


def pending_results(campaign: Campaign) -> int:
    """Completed questionnaires not yet in the published results."""
    return release.pending_count(eligible_respondents(campaign))
