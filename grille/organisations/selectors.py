"""Access to organisation objects, always scoped to the caller: a foreign id is a 404."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Count, F, QuerySet
from django.http import Http404

from grille.assessments.enums import AssessmentStatus
from grille.assessments.models import Assessment
from grille.core.users import AnyUser

from .models import (
    ActionItem,
    Decision,
    DecisionRevision,
    Invitation,
    Membership,
    PracticeComment,
    Share,
)


def memberships_for(user: AnyUser) -> QuerySet[Membership]:
    """The caller's memberships, with their organisation."""
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user).select_related("organisation", "organisation__version")


def get_membership(user: AnyUser, organisation_uuid: UUID | str) -> Membership:
    """The caller's membership of this organisation, or 404 for anyone else (outsiders and removed members)."""
    try:
        return memberships_for(user).get(organisation__uuid=organisation_uuid)
    except (Membership.DoesNotExist, ValueError):
        raise Http404 from None


def list_organisations_for(user: AnyUser) -> QuerySet[Membership]:
    return memberships_for(user).annotate(
        member_count=Count("organisation__memberships", distinct=True),
    ).order_by("organisation__name")


def members_of(membership: Membership) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organisation=membership.organisation_id)
        .select_related("user")
        .order_by("role", "user__display_name", "user__email")
    )


def get_member(membership: Membership, member_id: int) -> Membership:
    try:
        return members_of(membership).get(pk=member_id)
    except Membership.DoesNotExist:
        raise Http404 from None


def invitations_of(membership: Membership) -> QuerySet[Invitation]:
    return Invitation.objects.filter(organisation=membership.organisation_id).order_by("-created_at")


def get_invitation(membership: Membership, invitation_id: int) -> Invitation:
    try:
        return invitations_of(membership).get(pk=invitation_id)
    except Invitation.DoesNotExist:
        raise Http404 from None


def active_share(membership: Membership) -> Share | None:
    return (
        Share.objects.filter(organisation=membership.organisation_id, user=membership.user_id, withdrawn_at__isnull=True)
        .select_related("assessment")
        .first()
    )


def shareable_assessments(membership: Membership) -> QuerySet[Assessment]:
    """The member's own submitted positionings on the organisation's grid version."""
    return Assessment.objects.filter(
        owner=membership.user_id, status=AssessmentStatus.SUBMITTED, version=membership.organisation.version_id
    ).order_by("-submitted_at")


def decisions_of(membership: Membership) -> dict[int, Decision]:
    return {
        d.practice_id: d
        for d in Decision.objects.filter(organisation=membership.organisation_id).select_related("updated_by")
    }


def decision_history(membership: Membership, practice_id: int) -> QuerySet[DecisionRevision]:
    return DecisionRevision.objects.filter(
        decision__organisation=membership.organisation_id, decision__practice_id=practice_id
    ).select_related("changed_by")


def comments_on(membership: Membership, practice_id: int) -> QuerySet[PracticeComment]:
    return PracticeComment.objects.filter(organisation=membership.organisation_id, practice_id=practice_id).select_related(
        "author"
    )


def comment_counts(membership: Membership) -> dict[int, int]:
    rows = (
        PracticeComment.objects.filter(organisation=membership.organisation_id)
        .values("practice_id")
        .annotate(n=Count("id"))
    )
    return {r["practice_id"]: r["n"] for r in rows}


def actions_of(membership: Membership) -> QuerySet[ActionItem]:
    return (
        ActionItem.objects.filter(organisation=membership.organisation_id)
        .select_related("owner__user")
        .prefetch_related("practices")
        .order_by(F("due_date").asc(nulls_last=True), "id")
    )


def get_action(membership: Membership, action_id: int) -> ActionItem:
    try:
        return actions_of(membership).get(pk=action_id)
    except ActionItem.DoesNotExist:
        raise Http404 from None
