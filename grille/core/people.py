"""How a person is named on screen, in files and in e-mails: one rule for every app.

A person is shown by the name they chose (their account page, « Mon compte »). The e-mail address
is shown only where the reader needs it (facilitators managing members), and otherwise never
stands in for a missing name: `str(user)` falls back to the address, so templates use the
`|person` filter (grille/core/templatetags/people.py) and Python code `person_label`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .users import User
from .validators import validate_mailed_name


def _name(user: User | None) -> str:
    return (getattr(user, "display_name", "") or "").strip()


def person_label(user: User | None, *, reveal_email: bool = False) -> str:
    """The name to show for `user`; its e-mail only when `reveal_email` (facilitators)."""
    if user is None:
        return _("personne retirée")
    name = _name(user)
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
    name = _name(user)
    email = getattr(user, "email", "") or ""
    return f"{name} ({email})" if name and email else name or email


def person_details(user: User | None) -> str:
    """« job title, structure » as the person gave them ("" when neither)."""
    if user is None:
        return ""
    parts = [(getattr(user, field, "") or "").strip() for field in ("job_title", "affiliation")]
    return ", ".join(part for part in parts if part)


def person_intro(user: User | None) -> str:
    """« Name (structure) » to introduce a person to someone else (an invitation); the name
    alone without a structure, "" without a name (the caller then says who by other means)."""
    name = _name(user)
    if not name:
        return ""
    affiliation = (getattr(user, "affiliation", "") or "").strip()
    return f"{name} ({affiliation})" if affiliation else name


def distinct_labels(users: Sequence[User | None]) -> list[str]:
    """`person_label` of each, numbered where two read the same (two people without a name, two
    homonyms), so that columns and rows can be told apart. Numbers follow the given order."""
    labels = [person_label(user) for user in users]
    repeated = {label for label, n in Counter(labels).items() if n > 1}
    seen: Counter[str] = Counter()
    distinct = []
    for label in labels:
        if label in repeated:
            seen[label] += 1
            distinct.append(f"{label} {seen[label]}")
        else:
            distinct.append(label)
    return distinct


def validate_person_name(value: str) -> None:
    """A display name: what `validate_mailed_name` asks (it is written in invitations), and no
    e-mail address, which would show the address the name is there to keep private, or pass
    for someone else's."""
    validate_mailed_name(value)
    if "@" in value:
        raise ValidationError(
            gettext_lazy("Votre nom ne peut pas contenir d'adresse e-mail (pas de « @ »)."), code="email_in_name"
        )
