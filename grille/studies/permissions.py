"""Who may do what with studies: the one answer that the views, the templates, the services and
the access-matrix test all ask (README, « Qui voit quoi »).

Reaching a campaign at all is the scope of selectors.get_campaign_for: its analysts, and nobody
else (an administrator neither), who gets the 404 of a missing campaign. These predicates
answer the rest.
"""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Model
from django.db.models.options import Options

from grille.core.sql import fetch_all
from grille.core.users import AnyUser

from .models import Campaign

RUN_STUDIES = "studies.run_studies"


def can_run_studies(user: AnyUser) -> bool:
    """People the administration enabled as analysts (the run_studies permission, given to them
    or to one of their groups) create campaigns; an active administrator may too.

    What ``user.has_perm(RUN_STUDIES)`` answers with Django's ModelBackend (the only backend,
    settings.AUTHENTICATION_BACKENDS), in one prepared statement: the menu asks it on every page
    seen signed in, where has_perm read all the person's permissions and all their groups' (two
    queries, a third of a signed-in questionnaire step's cost; issue 16)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    # Asked once per user object, as has_perm caches its answer there: the menu, the view and
    # the service of one request each ask.
    cached: bool | None = getattr(user, _CACHE, None)
    if cached is None:
        app_label, codename = RUN_STUDIES.split(".")
        rows = fetch_all(_permission_statement(connection.vendor), [app_label, codename, user.pk, user.pk])
        cached = bool(rows[0][0])
        setattr(user, _CACHE, cached)
    return cached


_CACHE = "_grille_can_run_studies"


@functools.cache
def _permission_statement(vendor: str) -> str:
    """Whether a person holds a permission, given to them or to one of their groups."""
    qn = connection.ops.quote_name
    user_model = get_user_model()
    own = _through(user_model, "user_permissions")
    member = _through(user_model, "groups")
    granted = _through(Group, "permissions")
    permission, content_type = qn(Permission._meta.db_table), qn(ContentType._meta.db_table)
    return (
        f"SELECT EXISTS (SELECT 1 FROM {permission} p "  # noqa: S608 - names from the models, values as parameters
        f"JOIN {content_type} ct ON ct.{qn('id')} = p.{qn('content_type_id')} "
        f"WHERE ct.{qn('app_label')} = %s AND p.{qn('codename')} = %s AND ("
        f"p.{qn('id')} IN (SELECT {qn(_column_to(own, Permission))} FROM {qn(own.db_table)} "
        f"WHERE {qn(_column_to(own, user_model))} = %s) "
        f"OR p.{qn('id')} IN (SELECT g.{qn(_column_to(granted, Permission))} FROM {qn(granted.db_table)} g "
        f"JOIN {qn(member.db_table)} m ON m.{qn(_column_to(member, Group))} = g.{qn(_column_to(granted, Group))} "
        f"WHERE m.{qn(_column_to(member, user_model))} = %s)))"
    )


def _through(model: type[Model], name: str) -> Options[Any]:
    """The table behind ``model``'s many-to-many field ``name``."""
    field = model._meta.get_field(name)
    return field.remote_field.through._meta  # type: ignore[union-attr]


def _column_to(table: Options[Any], model: type[Model]) -> str:
    """The column of ``table``'s foreign key to ``model``."""
    return next(f.column for f in table.concrete_fields if f.related_model is model and f.column)


def can_download_microdata(user: AnyUser, campaign: Campaign) -> bool:
    """Only the study lead downloads the pseudonymised microdata (DESIGN.md, privacy rules); the
    other analysts export the protected aggregates."""
    return user.is_authenticated and campaign.lead_id == user.pk
