"""`{% share_offers assessment as offers %}`: « Partager avec <organisation> » on the profile of a
submitted positioning (assessments/profile.html includes organisations/_share_offer.html).

The assessments app may not import this one (layers): its template includes ours, and the
offers are read here, scoped to the person viewing the page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils.http import urlencode

from grille.assessments.models import Assessment

from ..models import Organisation, Share
from ..selectors import memberships_for

register = template.Library()


@dataclass(frozen=True)
class ShareOffer:
    organisation: Organisation
    share_url: str  # the share page, this positioning preselected
    home_url: str
    shared: bool  # this positioning is the one shared with the organisation
    replaces: bool  # another positioning is shared: sharing this one replaces it


@register.simple_tag(takes_context=True)
def share_offers(context: dict[str, Any], assessment: Assessment) -> list[ShareOffer]:
    """One offer per organisation of the viewer on this positioning's grid version, when the
    viewer owns the positioning and has sent it; none otherwise."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not assessment.is_submitted or assessment.owner_id != user.pk:
        return []
    # One query: the viewer's organisations on this grid, each with the positioning shared there.
    shared_there = Share.objects.filter(
        organisation=OuterRef("organisation_id"), user=user, withdrawn_at__isnull=True
    ).values("assessment_id")[:1]
    memberships = (
        memberships_for(user)
        .filter(organisation__version_id=assessment.version_id)
        .annotate(shared_assessment_id=Subquery(shared_there))
        .order_by("organisation__name")
    )
    query = urlencode({"positionnement": str(assessment.uuid)})
    return [
        ShareOffer(
            organisation=m.organisation,
            share_url=f"{reverse('organisations:share', args=[m.organisation.uuid])}?{query}",
            home_url=reverse("organisations:home", args=[m.organisation.uuid]),
            shared=m.shared_assessment_id == assessment.pk,
            replaces=m.shared_assessment_id is not None and m.shared_assessment_id != assessment.pk,
        )
        for m in memberships
    ]
