from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.datastructures import MultiValueDict

from grille.studies.enums import WaveFormat
from grille.studies.forms import WaveForm
from grille.studies.services import ImportRefused, import_previous_wave

from ._campaigns import campaign_from

ERRORS_SHOWN = 50
OPTIONS = {"name": "--name", "year": "--year", "source_format": "--format", "file": "fichier"}


class Command(BaseCommand):
    help = (
        "Importe une vague précédente d'étude (par exemple 2018) dans une campagne, pour la comparer "
        "à la vague en cours : microdonnées (une ligne par répondant, une colonne par item) ou agrégats "
        "(colonnes item;niveau;effectif). Tout ou rien : au moindre problème, rien n'est importé et "
        "chaque ligne à corriger est indiquée. Chargez ensuite sa table de correspondance depuis la "
        "page « Vagues » de la campagne."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign", metavar="campagne", help="Identifiant (UUID) de la campagne, visible dans son adresse.")
        parser.add_argument("path", type=Path, metavar="fichier", help="Fichier CSV de la vague.")
        parser.add_argument("--year", type=int, required=True, metavar="ANNÉE", help="Année de la vague, par exemple 2018.")
        parser.add_argument("--name", default="", metavar="NOM", help="Nom de la vague (par défaut : son année).")
        parser.add_argument(
            "--format", choices=WaveFormat.values, default=WaveFormat.MICRODATA, dest="source_format",
            help="microdata (une ligne par répondant, par défaut) ou aggregates (item;niveau;effectif).",
        )

    def handle(
        self, *args: Any, campaign: str, path: Path, year: int, name: str, source_format: str, **options: Any
    ) -> None:
        target = campaign_from(campaign)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Fichier illisible : {path} ({exc.strerror}).") from exc
        # The same checks as the upload form of the « Vagues » page.
        form = WaveForm(
            {"name": name.strip() or str(year), "year": year, "source_format": source_format},
            MultiValueDict({"file": [SimpleUploadedFile(path.name, raw)]}),
        )
        if not form.is_valid():
            problems = [f"{OPTIONS.get(field, field)} : {' '.join(map(str, errors))}" for field, errors in form.errors.items()]
            raise CommandError("\n".join(problems))
        data = form.cleaned_data
        try:
            wave = import_previous_wave(
                campaign=target, name=data["name"], year=data["year"], source_format=data["source_format"], raw=raw,
            )
        except ImportRefused as exc:
            lines = [f"{path} : {exc}", *(f"  {error}" for error in exc.errors[:ERRORS_SHOWN])]
            if len(exc.errors) > ERRORS_SHOWN:
                lines.append(f"  … et {len(exc.errors) - ERRORS_SHOWN} autre(s) ligne(s) à corriger.")
            raise CommandError("\n".join(lines)) from exc
        respondents = "" if wave.respondents is None else f", {wave.respondents} répondant(s)"
        self.stdout.write(
            f"Vague « {wave.name} » ({wave.year}) importée dans « {target.name} » : "
            f"{wave.items.count()} item(s){respondents}."
        )
