"""`{{ user|person }}`, `{{ user|person:reveal_email }}`, `{{ user|person_with_email }}` and
`{{ user|person_details }}`: see grille/core/people.py."""

from django import template

from grille.core import people
from grille.core.users import User

register = template.Library()


@register.filter
def person(user: User | None, reveal_email: bool = False) -> str:
    return people.person_label(user, reveal_email=bool(reveal_email))


@register.filter
def person_with_email(user: User | None) -> str:
    return people.person_with_email(user)


@register.filter
def person_details(user: User | None) -> str:
    return people.person_details(user)
