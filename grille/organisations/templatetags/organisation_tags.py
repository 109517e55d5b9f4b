"""`{% share_offers assessment as offers %}`: « Partager avec <organisation> » on the profile of a
submitted positioning (assessments/profile.html includes organisations/_share_offer.html).

The assessments app may not import this one (layers): its template includes ours, and the
offers are read here, scoped to the person viewing the page."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django import template
from django.db import connection
from django.urls import reverse
from django.utils.http import urlencode

from grille.assessments.models import Assessment
from grille.core.sql import fetch_all

from ..models import Membership, Organisation, Share

register = template.Library()


@dataclass(frozen=True)
class ShareOffer:
    name: str  # the organisation's
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
    # One prepared statement (the owner's profile page is a hot page, issue 16): the viewer's
    # memberships (selectors.memberships_for) on this grid, each with the positioning they
    # share there (at most one not withdrawn: models.Share's constraint).
    rows = fetch_all(_offers_statement(connection.vendor), [user.pk, user.pk, assessment.version_id])
    query = urlencode({"positionnement": str(assessment.uuid)})
    offers = []
    for raw_uuid, name, shared_id in rows:
        organisation = UUID(str(raw_uuid))  # SQLite gives the uuid as 32 hexadecimal digits
        offers.append(ShareOffer(
            name=name,
            share_url=f"{reverse('organisations:share', args=[organisation])}?{query}",
            home_url=reverse("organisations:home", args=[organisation]),
            shared=shared_id == assessment.pk,
            replaces=shared_id is not None and shared_id != assessment.pk,
        ))
    return offers


@functools.cache
def _offers_statement(vendor: str) -> str:
    qn = connection.ops.quote_name
    return (
        f"SELECT o.{qn('uuid')}, o.{qn('name')}, (SELECT s.{qn('assessment_id')} FROM {qn(Share._meta.db_table)} s "  # noqa: S608 - names from the models, values as parameters
        f"WHERE s.{qn('organisation_id')} = o.{qn('id')} AND s.{qn('user_id')} = %s "
        f"AND s.{qn('withdrawn_at')} IS NULL LIMIT 1) "
        f"FROM {qn(Membership._meta.db_table)} m JOIN {qn(Organisation._meta.db_table)} o "
        f"ON o.{qn('id')} = m.{qn('organisation_id')} "
        f"WHERE m.{qn('user_id')} = %s AND o.{qn('version_id')} = %s ORDER BY o.{qn('name')}"
    )
