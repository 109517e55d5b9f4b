"""The admin site: Django's, with its password sign-in throttled by the project's limiter.

Only failed sign-ins count, per account and per client address (ratelimit.ADMIN_SIGN_IN_*). Past
either limit the sign-in is refused with the French 429 page, the right password included, until
the window closes: guessing cannot go on, and a lucky guess past the limit gets nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from .ratelimit import (
    ADMIN_SIGN_IN_FAILURES_PER_ACCOUNT,
    ADMIN_SIGN_IN_FAILURES_PER_IP,
    RateLimited,
    client_ip,
    too_many_attempts,
)


class GrilleAdminSite(admin.AdminSite):
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if request.method != "POST":
            return super().login(request, extra_context)
        ip = client_ip(request)
        account = request.POST.get("username", "").strip()
        wait = ADMIN_SIGN_IN_FAILURES_PER_IP.retry_after(ip)
        if account:
            wait = max(wait, ADMIN_SIGN_IN_FAILURES_PER_ACCOUNT.retry_after(account))
        if wait:
            return too_many_attempts(request, RateLimited(wait), _(
                "Trop de mots de passe erronés ont été essayés pour ce compte ou depuis votre connexion. "
                "Pour protéger l'administration, la connexion est suspendue un moment, même avec le bon "
                "mot de passe."
            ))
        response = super().login(request, extra_context)
        # A refused password shows the form again (200); a sign-in redirects, a CSRF failure is 403.
        if response.status_code == 200:
            ADMIN_SIGN_IN_FAILURES_PER_IP.hit(ip)
            if account:
                ADMIN_SIGN_IN_FAILURES_PER_ACCOUNT.hit(account)
        return response
