"""What every page's menu needs to know about studies."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .permissions import can_run_studies


def study_menu(request: HttpRequest) -> dict[str, SimpleLazyObject]:
    """Whether the menu offers « Études », asked of permissions.py only when a page draws the menu."""
    return {"can_run_studies": SimpleLazyObject(lambda: can_run_studies(request.user))}
