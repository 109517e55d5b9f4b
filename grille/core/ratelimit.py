"""One limiter for attempts that must not repeat without end: sign-in link requests, e-mails sent
to addresses that did not ask for them (MailLimit), and links or tokens tried at random (sign-in,
invitation, resume, API).

Counts live in the database (RateLimitCounter), so the several gunicorn workers of production
share them. A window opens at the first attempt counted and lasts `window`; once `limit` attempts
are counted in it, the next one is refused until it closes. Keys are keyed hashes: neither an
address nor an e-mail is stored in clear. Expired counters are deleted whenever a new one is made.

The check and the count are two statements: under concurrent requests a window may let a
handful more attempts through than `limit`, which is harmless for these uses.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache, wraps
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import Concatenate, ParamSpec, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import RateLimitCounter


def _now() -> datetime:
    return timezone.now()


# The time every limit reads; tests replace it to move past a window without sleeping.
clock: Callable[[], datetime] = _now


class RateLimited(Exception):
    """Refused: too many attempts. `retry_after` is in seconds."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` attempts per `window` for one identifier (a client address, an e-mail)."""

    scope: str
    limit: int
    window: timedelta

    def key(self, ident: str) -> str:
        digest = salted_hmac("grille.core.ratelimit", ident.strip().lower(), algorithm="sha256").hexdigest()
        return f"{self.scope}:{digest}"

    def retry_after(self, ident: str) -> int:
        """Seconds before `ident` may try again; 0 if it may now."""
        now = clock()
        row = (
            RateLimitCounter.objects.filter(key=self.key(ident), expires_at__gt=now)
            .values_list("count", "expires_at")
            .first()
        )
        if row is None or row[0] < self.limit:
            return 0
        return max(1, math.ceil((row[1] - now).total_seconds()))

    def check(self, ident: str) -> None:
        """Raise RateLimited if `ident` has used up its attempts in the current window."""
        if seconds := self.retry_after(ident):
            raise RateLimited(seconds)

    def hit(self, ident: str) -> None:
        """Count one attempt of `ident`."""
        now = clock()
        key = self.key(ident)
        expires_at = now + self.window
        counters = RateLimitCounter.objects.filter(key=key)
        for _attempt in range(3):
            if counters.filter(expires_at__gt=now).update(count=F("count") + 1):
                return
            # A window that has closed starts again; the condition keeps two workers from both
            # restarting it (the second one then finds it open and counts in it).
            if counters.filter(expires_at__lte=now).update(count=1, expires_at=expires_at):
                return
            try:
                with transaction.atomic():
                    RateLimitCounter.objects.create(key=key, count=1, expires_at=expires_at)
            except IntegrityError:
                continue  # another worker made it in between: count in theirs
            clear_expired()
            return


# The limits in force, in one place. Sign-in links: a person who lost a few e-mails can ask again,
# a script cannot flood an inbox (per address) nor the outgoing mail (per client address). Links
# and tokens: 192 random bits cannot be guessed; the limits keep scanners from hammering the
# tables and make them visible as 429s. Only unknown tokens count, and only from the address
# that tried them: someone else's failures never lock a person out of their own link.
LOGIN_LINKS_PER_EMAIL = RateLimit("login-email", 5, timedelta(minutes=30))
LOGIN_LINKS_PER_IP = RateLimit("login-ip", 30, timedelta(minutes=15))
BAD_LOGIN_LINKS = RateLimit("bad-login-link", 20, timedelta(minutes=10))
BAD_INVITATION_LINKS = RateLimit("bad-invitation-link", 20, timedelta(minutes=10))
BAD_RESUME_LINKS = RateLimit("bad-resume-link", 20, timedelta(minutes=10))
BAD_API_TOKENS = RateLimit("bad-api-token", 20, timedelta(minutes=10))
BAD_STUDY_LINKS = RateLimit("bad-study-link", 20, timedelta(minutes=10))
# Passwords of the admin: only failed sign-ins count, per account (whatever the address, so that
# spreading guesses over many addresses does not help) and per client address (one address trying
# many accounts). Once either is used up, even the right password is refused until the window ends.
ADMIN_SIGN_IN_FAILURES_PER_ACCOUNT = RateLimit("admin-sign-in-account", 5, timedelta(minutes=15))
ADMIN_SIGN_IN_FAILURES_PER_IP = RateLimit("admin-sign-in-ip", 20, timedelta(minutes=15))


@dataclass(frozen=True)
class MailLimit:
    """E-mails that a person has Grille send to an address that did not ask for them: at most so
    many per sender (a signed-in person, or a client address) and per recipient address."""

    per_sender: RateLimit
    per_recipient: RateLimit

    def spend(self, *, sender: str, recipient: str) -> None:
        """Count one e-mail from `sender` to `recipient`, or raise RateLimited (counting nothing)
        if either has used up its window. Call it before the e-mail is queued."""
        wait = max(self.per_sender.retry_after(sender), self.per_recipient.retry_after(recipient))
        if wait:
            raise RateLimited(wait)
        self.per_sender.hit(sender)
        self.per_recipient.hit(recipient)


# Unsolicited e-mails, per hour. A resume link goes to one's own address: a few tries per
# recipient, a few addresses per sender. An organisation invites its team at once (50 a sender),
# but nobody receives more than 3 invitations an hour, whoever sends them. Study mailings are not
# here: only analysts the administration enabled send them, to lists they are answerable for.
RESUME_LINK_MAILS = MailLimit(
    per_sender=RateLimit("resume-mail-sender", 10, timedelta(hours=1)),
    per_recipient=RateLimit("resume-mail-recipient", 5, timedelta(hours=1)),
)
INVITATION_MAILS = MailLimit(
    per_sender=RateLimit("invitation-mail-sender", 50, timedelta(hours=1)),
    per_recipient=RateLimit("invitation-mail-recipient", 3, timedelta(hours=1)),
)


def clear_expired() -> int:
    """Delete counters whose window has closed; returns how many."""
    deleted, _by_model = RateLimitCounter.objects.filter(expires_at__lte=clock()).delete()
    return deleted


def client_ip(request: HttpRequest) -> str:
    """The address the request came from, as every limit and the security log see it.

    settings.GRILLE_TRUSTED_PROXIES says which proxies stand in front of Grille (README, « En-têtes
    du proxy »): nothing by default, so X-Forwarded-For is ignored and the connection's address is
    the client; a count N, and the client is the N-th address from the right of the connection
    address followed by X-Forwarded-For (each proxy appends the peer it saw); a list of addresses
    or networks, and the client is the first address from the right that is not one of them.
    Whatever the client wrote itself in the header sits to the left, and is never reached.
    """
    remote: str = request.META.get("REMOTE_ADDR", "")
    trusted = trusted_proxies()
    if not trusted:
        return remote
    header: str = request.META.get("HTTP_X_FORWARDED_FOR", "")
    forwarded = [part.strip() for part in header.split(",") if part.strip()]
    chain: list[str] = [*forwarded, remote]
    if isinstance(trusted, int):
        # The connection is the first proxy; N proxies appended N-1 addresses, then the client.
        return chain[-trusted - 1] if len(chain) > trusted else chain[0]
    for address in reversed(chain):
        if not _is_trusted(address, trusted):
            return address
    return chain[0]


Proxies = int | tuple[IPv4Network | IPv6Network, ...]


def trusted_proxies() -> Proxies:
    """settings.GRILLE_TRUSTED_PROXIES read: 0 (none), a count, or the networks of the proxies."""
    setting: object = getattr(settings, "GRILLE_TRUSTED_PROXIES", 0)
    if isinstance(setting, int):
        return max(0, setting)
    return _networks(tuple(str(item) for item in setting) if isinstance(setting, (list, tuple)) else (str(setting),))


@lru_cache(maxsize=8)
def _networks(items: tuple[str, ...]) -> tuple[IPv4Network | IPv6Network, ...]:
    return tuple(ip_network(item.strip(), strict=False) for item in items if item.strip())


def _is_trusted(address: str, networks: tuple[IPv4Network | IPv6Network, ...]) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False  # not an address: written by someone, not by a proxy
    return any(parsed in network for network in networks)


def user_sender(user_id: object) -> str:
    """A signed-in person as the sender of a MailLimit."""
    return f"user:{user_id}"


def mail_sender(request: HttpRequest) -> str:
    """Who has an e-mail sent, for MailLimit: the signed-in person, else the client address."""
    if request.user.is_authenticated:
        return user_sender(request.user.pk)
    return f"ip:{client_ip(request)}"


def too_many_mails(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    """The refusal of an e-mail past a MailLimit: nothing was queued."""
    return too_many_attempts(request, exc, _(
        "Beaucoup d'e-mails ont été envoyés depuis votre compte ou votre connexion, ou vers cette "
        "adresse, dans l'heure écoulée. Pour éviter les envois abusifs, Grille limite leur nombre "
        "par heure : aucun message n'est parti cette fois-ci."
    ))


def too_many_attempts(request: HttpRequest, exc: RateLimited, message: str) -> HttpResponse:
    """The French page of a refusal: status 429, when to try again, nothing about the target."""
    wait = ngettext(
        "Vous pourrez réessayer dans %(minutes)d minute.",
        "Vous pourrez réessayer dans %(minutes)d minutes.",
        exc.minutes,
    ) % {"minutes": exc.minutes}
    response = render(request, "core/too_many_attempts.html", {"message": message, "wait": wait}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    response["Cache-Control"] = "no-store"
    return response


P = ParamSpec("P")
R = TypeVar("R", bound=HttpRequest)
View = Callable[Concatenate[R, P], HttpResponse]


def counts_unknown_links(limit: RateLimit) -> Callable[[View[R, P]], View[R, P]]:
    """Decorate a view reached by a secret link: its 404 (an unknown link) counts against the
    client's address, and past `limit` an unknown link is answered 429. Only failures count and
    only failures are refused: a valid link still works from an address that is locked out."""

    def decorate(view: View[R, P]) -> View[R, P]:
        @wraps(view)
        def wrapper(request: R, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            response = view(request, *args, **kwargs)
            if response.status_code != 404:
                return response
            ip = client_ip(request)
            try:
                limit.check(ip)
            except RateLimited as exc:
                return too_many_bad_links(request, exc)
            limit.hit(ip)
            return response

        return wrapper

    return decorate


def too_many_bad_links(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    """The refusal after too many unknown links (sign-in, invitation, resume) from one address."""
    return too_many_attempts(request, exc, _(
        "Trop de liens invalides ont été essayés depuis votre connexion. Vérifiez que le lien a été "
        "copié en entier ; si le problème persiste, demandez un nouveau lien."
    ))
