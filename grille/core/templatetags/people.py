"""`{{ user|person }}` and `{{ user|person:reveal_email }}`: see grille/core/people.py."""

from django import template

from grille.core.people import person_label
from grille.core.users import User

register = template.Library()


@register.filter
def person(user: User | None, reveal_email: bool = False) -> str:
    return person_label(user, reveal_email=bool(reveal_email))
