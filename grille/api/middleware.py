"""The API's error format at the edge: every error under /api/ is {"detail": "…"} in JSON.

django-ninja answers a method an address does not take with a bare text 405, and Django answers
an over-size body (RequestDataTooBig) and its own failures with HTML pages. This middleware
refuses an over-size body before anything reads it (413), and turns any other error response
under /api/ that is not JSON yet into the API's format, with the same status and headers.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

API_PREFIX = "/api/"


def json_error(status: int, detail: str) -> JsonResponse:
    # UTF-8 as it is, like the API's own renderer.
    return JsonResponse({"detail": detail}, status=status, json_dumps_params={"ensure_ascii": False})


def too_large_detail() -> str:
    return _("Requête trop volumineuse — le corps de la requête dépasse %(limit)s octets.") % {
        "limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    }


def _detail(status: int, response: HttpResponse) -> str:
    if status == 405:
        return _("Méthode non autorisée : cette adresse accepte %(methods)s.") % {
            "methods": response.headers.get("Allow", "")
        }
    messages = {
        400: _("Requête invalide."),
        401: _("Authentification requise."),
        403: _("Accès refusé."),
        404: _("Introuvable."),
        413: too_large_detail(),
        429: _("Trop de requêtes : réessayez plus tard."),
    }
    if status in messages:
        return messages[status]
    if status >= 500:
        return _("Erreur du serveur : réessayez dans un moment.")
    return _("Requête refusée.")


def _too_large(request: HttpRequest) -> bool | None:
    """True when the declared body is over Django's limit; None when the length is unreadable."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    return limit is not None and length > limit


class ApiErrorsMiddleware:
    """Under /api/ only: over-size bodies are a JSON 413, and no error leaves in HTML or plain text."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        too_large = _too_large(request)
        if too_large is None:
            return json_error(400, _("Requête invalide — l'en-tête Content-Length n'est pas un nombre."))
        if too_large:
            return json_error(413, too_large_detail())
        response = self.get_response(request)
        if response.status_code < 400 or response.headers.get("Content-Type", "").startswith("application/json"):
            return response
        converted = json_error(response.status_code, _detail(response.status_code, response))
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response.headers:
                converted[header] = response.headers[header]
        return converted
