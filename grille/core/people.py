"""How a person is named on screen, in files and in e-mails: one rule for every app.

A person is shown by the name they chose (their account page). The e-mail address is shown only
where the reader needs it (facilitators managing members), and otherwise never stands in for a
missing name.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from .users import User


def person_label(user: User | None, *, reveal_email: bool = False) -> str:
    """The name to show for `user`; its e-mail only when `reveal_email` (facilitators)."""
    if user is None:
        return _("personne retirée")
    name = (getattr(user, "display_name", "") or "").strip()
    email = getattr(user, "email", "") or ""
    if name:
        return name
    if reveal_email and email:
        return email
    return _("Membre sans nom affiché")


def person_with_email(user: User | None) -> str:
    """« Name (address) » for facilitators' member lists; the address alone when no name."""
    if user is None:
        return _("personne retirée")
    name = (getattr(user, "display_name", "") or "").strip()
    email = getattr(user, "email", "") or ""
    return f"{name} ({email})" if name and email else name or email
