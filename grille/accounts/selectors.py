"""A person's API tokens, always scoped to that person: someone else's token is a 404."""

from __future__ import annotations

from django.db.models import F, QuerySet
from django.http import Http404

from grille.assessments.models import Assessment

from .models import ApiToken, User


def api_tokens_for(user: User) -> QuerySet[ApiToken]:
    """The person's tokens, active ones first, newest first."""
    return ApiToken.objects.filter(user=user).order_by(F("revoked_at").asc(nulls_first=True), "-created_at", "-id")


def get_api_token(user: User, token_id: int) -> ApiToken:
    try:
        return api_tokens_for(user).get(pk=token_id)
    except ApiToken.DoesNotExist:
        raise Http404 from None


def unclaimed_positionings(uuids: list[str]) -> QuerySet[Assessment]:
    """The positionings among `uuids` (a browser's grants) that no account owns yet."""
    return Assessment.objects.filter(uuid__in=uuids, owner__isnull=True).select_related("version__framework").order_by("-created_at", "-id")
