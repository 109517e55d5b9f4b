"""What the personal data commands share: finding the person by their address."""

from django.core.management.base import CommandError

from grille.accounts.models import User


def person_from(email: str) -> User:
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        raise CommandError(f"Aucune personne n'a l'adresse {email.strip()}.")
    return user
