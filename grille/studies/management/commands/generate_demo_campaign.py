import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from grille.assessments.enums import AssessmentStatus
from grille.core.progress import ProgressBar
from grille.studies.services import StudyError
from grille.studies.synthetic import MAX_RESPONDENTS, generate_synthetic_campaign


class Command(BaseCommand):
    help = (
        "Génère une campagne d'étude fictive, marquée « données fictives » sur chaque page, export "
        "et PDF, pour essayer Grille sans données réelles. La même graine redonne les mêmes données. "
        "Nécessite une grille publiée (python manage.py load_framework)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--respondents", type=int, default=500, metavar="N",
            help=f"Nombre de répondants fictifs, de 1 à {MAX_RESPONDENTS} (500 par défaut).",
        )
        parser.add_argument(
            "--seed", type=int, default=2024,
            help="Graine du tirage aléatoire : la même graine redonne les mêmes réponses (2024 par défaut).",
        )
        parser.add_argument("--name", default=None, help="Nom de la campagne (par défaut : « Démonstration 2024 (données fictives) »).")
        parser.add_argument(
            "--analyst", default=None, metavar="E-MAIL",
            help="Adresse d'une personne habilitée à mener des études : la campagne apparaîtra dans son espace.",
        )

    def handle(
        self, *args: Any, respondents: int, seed: int, name: str | None, analyst: str | None, **options: Any
    ) -> None:
        user = None
        if analyst:
            user = get_user_model().objects.filter(email__iexact=analyst.strip()).first()
            if user is None:
                raise CommandError(f"Aucune personne n'a l'adresse {analyst}.")
        began = time.monotonic()
        try:
            campaign = generate_synthetic_campaign(
                respondents=respondents, seed=seed, name=name, progress=ProgressBar(self.stdout), analyst=user,
            )
        except StudyError as exc:
            raise CommandError(str(exc)) from exc
        submitted = campaign.respondents.filter(assessment__status=AssessmentStatus.SUBMITTED).count()
        self.stdout.write(
            f"Campagne « {campaign.name} » créée (données fictives, graine {seed}) : {respondents} répondants, "
            f"dont {submitted} ont envoyé leur positionnement, en {time.monotonic() - began:.1f} s."
        )
        self.stdout.write(f"Identifiant de la campagne : {campaign.uuid}")
