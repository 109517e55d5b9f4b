from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grille.core.mail import send_templated_mail
from grille.core.tokens import hash_token, new_token

from .models import LoginLink, User


class LoginLinkError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "unknown", "expired" or "used"


@transaction.atomic
def send_login_link(*, email: str, link_for, next_path: str = "") -> None:
    """E-mail a single-use sign-in link; `link_for(raw_token)` builds its absolute URL."""
    raw, digest = new_token()
    LoginLink.objects.create(
        email=email.strip().lower(),
        token_hash=digest,
        next_path=next_path[:500],
        expires_at=timezone.now() + timedelta(seconds=settings.LOGIN_LINK_MAX_AGE),
    )
    send_templated_mail(
        to=email,
        subject=_("Votre lien de connexion à Grille"),
        template="accounts/email_login.txt",
        context={"url": link_for(raw), "minutes": settings.LOGIN_LINK_MAX_AGE // 60},
    )


@transaction.atomic
def consume_login_link(*, raw: str) -> tuple[User, str]:
    """Use a sign-in link once; the person's account is created on first sign-in.

    Returns the person and the local path to go to next ("" for the default).
    """
    link = LoginLink.objects.select_for_update().filter(token_hash=hash_token(raw)).first()
    if link is None:
        raise LoginLinkError("unknown")
    if link.used_at is not None:
        raise LoginLinkError("used")
    if link.expires_at < timezone.now():
        raise LoginLinkError("expired")
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    user = User.objects.filter(email__iexact=link.email).first()
    if user is None:
        user = User.objects.create_user(link.email)
    return user, link.next_path


def check_login_link(*, raw: str) -> None:
    """Raise LoginLinkError if the link cannot be used, without using it."""
    link = LoginLink.objects.filter(token_hash=hash_token(raw)).first()
    if link is None:
        raise LoginLinkError("unknown")
    if link.used_at is not None:
        raise LoginLinkError("used")
    if link.expires_at < timezone.now():
        raise LoginLinkError("expired")
