"""Access to campaigns, always scoped to the caller: a campaign one does not analyse is a 404."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404

from grille.assessments.enums import AssessmentStatus
from grille.core.users import AnyUser

from .models import Campaign, Invitee, ProfileQuestion, Respondent


def campaigns_for(user: AnyUser) -> QuerySet[Campaign]:
    if not user.is_authenticated:
        return Campaign.objects.none()
    return Campaign.objects.filter(analysts=user).select_related("version", "version__framework")


def get_campaign_for(user: AnyUser, uuid: UUID | str) -> Campaign:
    """A campaign the caller analyses, or 404 for anyone else."""
    try:
        return campaigns_for(user).get(uuid=uuid)
    except (Campaign.DoesNotExist, ValueError):
        raise Http404 from None


def list_campaigns_for(user: AnyUser) -> QuerySet[Campaign]:
    return campaigns_for(user).annotate(
        started=Count("respondents", distinct=True),
        completed=Count("respondents", filter=Q(respondents__assessment__status=AssessmentStatus.SUBMITTED), distinct=True),
    ).order_by("-wave_year", "name")


def questions_of(campaign: Campaign) -> QuerySet[ProfileQuestion]:
    return ProfileQuestion.objects.filter(campaign=campaign).order_by("position", "id")


def get_question(campaign: Campaign, question_id: int) -> ProfileQuestion:
    try:
        return questions_of(campaign).get(pk=question_id)
    except ProfileQuestion.DoesNotExist:
        raise Http404 from None


def _respondent_exists(campaign: Campaign, *, completed: bool) -> Exists:
    respondents = Respondent.objects.filter(campaign=campaign, link_key=OuterRef("link_key"))
    if completed:
        respondents = respondents.filter(assessment__status=AssessmentStatus.SUBMITTED)
    return Exists(respondents)


def invitees_with_status(campaign: Campaign) -> QuerySet[Invitee]:
    """Invitees and whether they have answered: a status, never their answers."""
    return (
        Invitee.objects.filter(campaign=campaign)
        .annotate(
            started=_respondent_exists(campaign, completed=False),
            completed=_respondent_exists(campaign, completed=True),
        )
        .order_by("email")
    )


def invitation_counts(campaign: Campaign) -> dict[str, int]:
    return Invitee.objects.filter(campaign=campaign).aggregate(
        total=Count("id"),
        sent=Count("id", filter=Q(sent_at__isnull=False)),
        failed=Count("id", filter=~Q(send_error="")),
        pending=Count("id", filter=Q(sent_at__isnull=True)),
        started=Count("id", filter=Q(_respondent_exists(campaign, completed=False))),
        completed=Count("id", filter=Q(_respondent_exists(campaign, completed=True))),
    )


def respondent_counts(campaign: Campaign) -> dict[str, int]:
    return Respondent.objects.filter(campaign=campaign).aggregate(
        started=Count("id"),
        completed=Count("id", filter=Q(assessment__status=AssessmentStatus.SUBMITTED)),
    )
