"""Positionings a browser may open without an account: a list kept in its session.

Views grant one when it is created here or opened by a resume link, and take it back on
deletion; the selectors only read the list (selectors.assessments_for).
"""

from __future__ import annotations

from django.http import HttpRequest

from .models import Assessment

SESSION_KEY = "grille_assessments"
# The most recent ones are kept: a session never grows without bound.
MAX_GRANTS = 50


def granted_uuids(request: HttpRequest) -> list[str]:
    """Positionings this browser may open (created here or opened by a resume link)."""
    return list(request.session.get(SESSION_KEY, []))


def grant(request: HttpRequest, assessment: Assessment) -> None:
    uuids = granted_uuids(request)
    key = str(assessment.uuid)
    if key not in uuids:
        request.session[SESSION_KEY] = [*uuids, key][-MAX_GRANTS:]


def revoke_grant(request: HttpRequest, assessment: Assessment) -> None:
    request.session[SESSION_KEY] = [u for u in granted_uuids(request) if u != str(assessment.uuid)]
