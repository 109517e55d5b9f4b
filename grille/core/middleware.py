from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .access import is_private

# No inline script or style anywhere, so the policy can stay strict.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


class SecurityHeadersMiddleware:
    """Headers Django's SecurityMiddleware does not set: CSP and a private cache policy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        # Pages about a person's answers must not linger in shared caches or the back-forward cache.
        # Every page seen signed in is someone's: their organisations' answers, their studies.
        if is_private(request) or _has_session(request, response):
            response.headers["Cache-Control"] = "no-store"
        return response


def _has_session(request: HttpRequest, response: HttpResponse) -> bool:
    """Whether the request carries a session cookie or the response sets one: every signed-in
    page does. Read from the cookies, never from the session itself, which would cost every
    such request a query even on pages that do not need their session (issue 16)."""
    name = settings.SESSION_COOKIE_NAME
    return name in request.COOKIES or name in response.cookies
