"""Personal API tokens (Authorization: Bearer …), with a limit on failed attempts per client.

A token has 192 random bits, so guessing is hopeless; the limit keeps a misconfigured script
or a scanner from hammering the token table, and makes such traffic visible as 429s.
"""

from __future__ import annotations

from ipaddress import ip_address

from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import HttpBearer

from grille.accounts.models import User
from grille.accounts.services import authenticate_api_token

FAILURES_ALLOWED = 20
FAILURE_WINDOW = 10 * 60  # seconds, counted from the first failure


class TooManyFailures(HttpError):
    def __init__(self) -> None:
        super().__init__(
            429,
            _("Trop de tentatives avec un jeton invalide depuis votre adresse : réessayez dans %(minutes)d minutes.")
            % {"minutes": FAILURE_WINDOW // 60},
        )
        self.retry_after = FAILURE_WINDOW


def client_ip(request: HttpRequest) -> str:
    """The address the request came from.

    Behind a reverse proxy on the same machine (README: nginx or Caddy in front of gunicorn),
    every request comes from loopback: the client is then the last address that proxy appended
    to X-Forwarded-For. From any other peer the header is the client's own say, so it is ignored.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    try:
        behind_local_proxy = ip_address(remote).is_loopback
    except ValueError:
        behind_local_proxy = False
    if behind_local_proxy:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return remote


def _failures_key(ip: str) -> str:
    return f"grille:api-token-failures:{ip}"


def _record_failure(ip: str) -> None:
    key = _failures_key(ip)
    if cache.add(key, 1, timeout=FAILURE_WINDOW):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=FAILURE_WINDOW)


class ApiTokenAuth(HttpBearer):
    """Resolves `Authorization: Bearer <token>` to the token's owner; request.auth is that User."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        ip = client_ip(request)
        if (cache.get(_failures_key(ip)) or 0) >= FAILURES_ALLOWED:
            raise TooManyFailures()
        user = authenticate_api_token(raw=token)
        if user is None:
            _record_failure(ip)
            return None
        # Everything behind a token is someone's own data: never kept by a shared cache.
        request.private_page = True  # type: ignore[attr-defined]
        return user


token_auth = ApiTokenAuth()
