"""Access to campaigns, always scoped to the caller: a campaign one does not analyse is a 404."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import CharField, Count, Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.http import Http404

from grille.assessments.enums import AssessmentStatus
from grille.core.mail import MailKind
from grille.core.models import OutgoingEmail
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


def invitee_topic(invitee_id: int) -> str:
    """How an invitee's e-mails are named in the outbox (grille.core.models.OutgoingEmail.topic)."""
    return f"invitee:{invitee_id}"


def _topic_of(field: Any) -> Concat:
    return Concat(Value("invitee:"), Cast(field, output_field=CharField()))


def campaign_mail(campaign: Campaign) -> QuerySet[OutgoingEmail]:
    """The outbox rows of the campaign's invitations and reminders."""
    topics = Invitee.objects.filter(campaign=campaign).annotate(topic=_topic_of("pk")).values("topic")
    return OutgoingEmail.objects.filter(topic__in=topics)


def invitees_with_status(campaign: Campaign) -> QuerySet[Invitee]:
    """Invitees, the state of their last e-mail and whether they have answered: a status, never their answers."""
    last_mail = OutgoingEmail.objects.filter(topic=_topic_of(OuterRef("pk"))).order_by("-id")
    return (
        Invitee.objects.filter(campaign=campaign)
        .annotate(
            started=_respondent_exists(campaign, completed=False),
            completed=_respondent_exists(campaign, completed=True),
            mail_kind=Subquery(last_mail.values("kind")[:1]),
            mail_status=Subquery(last_mail.values("status")[:1]),
            mail_error=Subquery(last_mail.values("last_error")[:1]),
            mail_sent_at=Subquery(last_mail.values("sent_at")[:1]),
        )
        .order_by("email")
    )


def invitation_counts(campaign: Campaign) -> dict[str, int]:
    """People invited or not yet, answers, and the campaign's e-mails by state."""
    counts = Invitee.objects.filter(campaign=campaign).aggregate(
        total=Count("id"),
        invited=Count("id", filter=Q(sent_at__isnull=False)),
        pending=Count("id", filter=Q(sent_at__isnull=True)),
        started=Count("id", filter=Q(_respondent_exists(campaign, completed=False))),
        completed=Count("id", filter=Q(_respondent_exists(campaign, completed=True))),
    )
    Status = OutgoingEmail.Status
    counts.update(campaign_mail(campaign).aggregate(
        sent=Count("id", filter=Q(status=Status.SENT, kind=MailKind.STUDY_INVITATION)),
        mail_queued=Count("id", filter=Q(status__in=[Status.QUEUED, Status.SENDING])),
        mail_sent=Count("id", filter=Q(status=Status.SENT)),
        failed=Count("id", filter=Q(status=Status.FAILED)),
    ))
    return counts


def respondent_counts(campaign: Campaign) -> dict[str, int]:
    return Respondent.objects.filter(campaign=campaign).aggregate(
        started=Count("id"),
        completed=Count("id", filter=Q(assessment__status=AssessmentStatus.SUBMITTED)),
    )
