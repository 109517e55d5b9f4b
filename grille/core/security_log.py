"""The security log: one key=value line per event that matters to whoever watches the service.

Sign-ins (link, admin password) and their failures, refusals (403, 429), exports and microdata
downloads, role changes. Each line carries the client's address as the limits see it (client_ip)
and the acting person's id when signed in. Never a token, an e-mail address or an answer: callers
pass ids and short codes only, and every value goes through the token mask (grille/core/logging.py).

Logger "grille.security"; settings.LOGGING sends it to stderr, or to the file GRILLE_SECURITY_LOG.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

from .logging import mask_tokens
from .ratelimit import client_ip

logger = logging.getLogger("grille.security")

_PLAIN = re.compile(r"[\w.:/@+\-…]*\Z")


def _value(value: object) -> str:
    text = mask_tokens(str(value))
    if text and _PLAIN.match(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'


def security_event(request_or_ip: HttpRequest | str | None, event: str, **fields: object) -> None:
    """Write one line: `event=… ip=… user=… key=value…`. `fields` are ids and short codes only."""
    line: dict[str, object] = {"event": event}
    if isinstance(request_or_ip, HttpRequest):
        line["ip"] = client_ip(request_or_ip)
        user = getattr(request_or_ip, "user", None)
        line["user"] = fields.pop("user", user.pk if user is not None and user.is_authenticated else None)
        line["path"] = request_or_ip.path
    elif request_or_ip is not None:
        line["ip"] = request_or_ip
    line.update(fields)
    logger.info(" ".join(f"{key}={_value(value)}" for key, value in line.items() if value is not None))


@receiver(user_logged_in, dispatch_uid="grille.security.signed_in")
def _signed_in(sender: object, request: HttpRequest | None, user: object, **kwargs: object) -> None:
    security_event(request, "sign_in", user=getattr(user, "pk", None), staff=bool(getattr(user, "is_staff", False)))


@receiver(user_login_failed, dispatch_uid="grille.security.sign_in_failed")
def _sign_in_failed(sender: object, credentials: dict[str, object], request: HttpRequest | None = None, **kwargs: object) -> None:
    # The credentials are never written: the address typed may be someone else's, the password a secret.
    security_event(request, "sign_in_failed")


class RefusalLogMiddleware:
    """Writes every refusal to the security log (401: a bad API token; 403: a permission check or
    CSRF; 429: a limit), and every unknown or used-up secret link."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        status = response.status_code
        if status in (401, 403, 429):
            security_event(request, "refused", status=status, method=request.method)
        elif status in (404, 410) and request.resolver_match and "token" in request.resolver_match.kwargs:
            # An unknown (404) or used-up (410) secret link: the path is logged masked.
            security_event(request, "bad_link", status=status, method=request.method)
        return response
