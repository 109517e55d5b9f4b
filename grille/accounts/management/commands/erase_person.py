from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grille.accounts.services import ErasureRefused, check_erasure, erase_person

from ._people import person_from

# How each count of erase_person() is reported.
LABELS = {
    "account": "compte",
    "assessments": "positionnement(s)",
    "answers": "réponse(s)",
    "resume_links": "lien(s) de reprise",
    "peer_shares": "participation(s) à la comparaison avec les pairs",
    "memberships": "adhésion(s) à une structure",
    "shares": "partage(s) avec une structure",
    "organisation_invitations": "invitation(s) à une structure",
    "study_respondents": "participation(s) à une étude",
    "study_profile_answers": "réponse(s) au profil d'une étude",
    "study_invitations": "invitation(s) à une étude",
    "login_links": "lien(s) de connexion",
    "api_tokens": "jeton(s) d'API",
}


class Command(BaseCommand):
    help = (
        "Efface définitivement une personne (droit à l'effacement) : son compte, ses positionnements "
        "et leurs réponses, ses partages et adhésions, ses liens de connexion et jetons d'API. Ses "
        "réponses aux études sont retirées des statistiques. Ce qu'elle a écrit dans une structure "
        "(commentaires, arbitrages) reste, sans son nom. Demande confirmation, sauf avec --yes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", metavar="e-mail", help="Adresse e-mail de la personne.")
        parser.add_argument("--yes", action="store_true", help="Ne pas demander de confirmation.")
        parser.add_argument(
            "--successeur", metavar="e-mail", default="",
            help="Personne qui devient animateur·rice des structures dont la personne effacée est la seule animatrice.",
        )

    def handle(self, *args: Any, email: str, yes: bool, successeur: str, **options: Any) -> None:
        user = person_from(email)
        successor = person_from(successeur) if successeur else None
        try:
            orphaned = check_erasure(user, successor)
        except ErasureRefused as refused:
            raise CommandError(f"{refused} (--successeur e-mail)") from refused
        if not yes:
            answer = input(f"Effacer définitivement {user.email} et toutes ses données ? Tapez « oui » pour confirmer : ")
            if answer.strip().lower() != "oui":
                raise CommandError("Effacement annulé : rien n'a été effacé.")
        try:
            erased = erase_person(user=user, successor=successor)
        except ErasureRefused as refused:
            raise CommandError(str(refused)) from refused
        if orphaned and successor is not None:  # check_erasure refused otherwise
            self.stdout.write(f"{successor.email} devient animateur·rice de : " + ", ".join(o.name for o in orphaned))
        self.stdout.write(f"{user.email} a été effacé·e :")
        for key, count in erased.items():
            if count:
                self.stdout.write(f"  {LABELS[key]} : {count}")
