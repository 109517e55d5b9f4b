import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grille.accounts.services import export_person

from ._people import person_from


class Command(BaseCommand):
    help = (
        "Exporte toutes les données personnelles d'une personne (droit d'accès et de portabilité) "
        "dans un fichier JSON : compte, positionnements avec réponses et profil, adhésions et partages, "
        "participations aux études, commentaires, jetons d'API et liens de connexion (jamais les jetons eux-mêmes)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", metavar="e-mail", help="Adresse e-mail de la personne.")
        parser.add_argument("--output", type=Path, required=True, metavar="FICHIER.json", help="Fichier JSON à écrire.")

    def handle(self, *args: Any, email: str, output: Path, **options: Any) -> None:
        user = person_from(email)
        data = export_person(user=user)
        try:
            output.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Impossible d'écrire {output} : {exc.strerror}.") from exc
        self.stdout.write(
            f"Données de {user.email} exportées dans {output} : {len(data['positionnements'])} positionnement(s), "
            f"{len(data['structures'])} structure(s), {len(data['partages'])} partage(s)."
        )
