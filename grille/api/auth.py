"""Personal API tokens (Authorization: Bearer …), with a limit on failed attempts per client.

A token has 192 random bits, so guessing is hopeless; the limit keeps a misconfigured script
or a scanner from hammering the token table, and makes such traffic visible as 429s.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import ngettext
from ninja.errors import HttpError
from ninja.security import HttpBearer

from grille.accounts.models import User
from grille.accounts.services import authenticate_api_token
from grille.core.access import mark_private
from grille.core.ratelimit import BAD_API_TOKENS, RateLimited, client_ip

__all__ = [
    "FAILURES_ALLOWED", "FAILURE_WINDOW", "ApiTokenAuth", "TokenRequest", "TooManyFailures", "client_ip", "token_auth",
]

FAILURES_ALLOWED = BAD_API_TOKENS.limit
FAILURE_WINDOW = int(BAD_API_TOKENS.window.total_seconds())  # seconds, counted from the first failure


class TooManyFailures(HttpError):
    def __init__(self, retry_after: int = FAILURE_WINDOW) -> None:
        minutes = RateLimited(retry_after).minutes
        super().__init__(
            429,
            ngettext(
                "Trop de tentatives avec un jeton invalide depuis votre adresse : réessayez dans %(minutes)d minute.",
                "Trop de tentatives avec un jeton invalide depuis votre adresse : réessayez dans %(minutes)d minutes.",
                minutes,
            ) % {"minutes": minutes},
        )
        self.retry_after = retry_after


class TokenRequest(HttpRequest):
    """The request of an operation behind `token_auth`: django-ninja sets `auth` to the token's owner."""

    auth: User


class ApiTokenAuth(HttpBearer):
    """Resolves `Authorization: Bearer <token>` to the token's owner; request.auth is that User."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = authenticate_api_token(raw=token)
        if user is None:
            # Only failures count, and only they are refused: a valid token works from anywhere.
            ip = client_ip(request)
            try:
                BAD_API_TOKENS.check(ip)
            except RateLimited as exc:
                raise TooManyFailures(exc.retry_after) from None
            BAD_API_TOKENS.hit(ip)
            return None
        # Everything behind a token is someone's own data: never kept by a shared cache.
        mark_private(request)
        return user


token_auth = ApiTokenAuth()
