import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grille.core.progress import ProgressBar
from grille.studies.dashboard import completed_respondents
from grille.studies.exporters import CountingExporter, MicrodataExporter, write_export
from grille.studies.services import record_microdata_download

from ._campaigns import campaign_from

FORMATS = ("csv", "xlsx")
DEFAULT_EVERY = 500


class Command(BaseCommand):
    help = (
        "Exporte les microdonnées d'une campagne d'étude (une ligne par répondant ayant envoyé son "
        "positionnement, identifié par son pseudonyme) en CSV (Excel français : point-virgule, UTF-8) "
        "ou en XLSX (avec le dictionnaire des variables). Le fichier est écrit au fil de l'eau, "
        "avec une barre de progression."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign", metavar="campagne", help="Identifiant (UUID) de la campagne, visible dans son adresse.")
        parser.add_argument(
            "--format", choices=FORMATS, default=None, dest="fmt",
            help="csv ou xlsx (par défaut : d'après l'extension du fichier, sinon csv).",
        )
        parser.add_argument("--output", type=Path, required=True, metavar="FICHIER", help="Fichier à écrire.")
        parser.add_argument(
            "--progress-every", type=int, default=DEFAULT_EVERY, metavar="N",
            help=f"Afficher la progression toutes les N lignes ({DEFAULT_EVERY} par défaut).",
        )

    def handle(
        self, *args: Any, campaign: str, fmt: str | None, output: Path, progress_every: int, **options: Any
    ) -> None:
        if progress_every < 1:
            raise CommandError("--progress-every : un nombre entier positif est attendu.")
        target = campaign_from(campaign)
        fmt = fmt or ("xlsx" if output.suffix.lower() == ".xlsx" else "csv")
        total = completed_respondents(target).count()
        # The command line is the server's operator acting for the study lead: recorded too.
        record_microdata_download(campaign=target, user=None, fmt=fmt, via="commande")
        bar = ProgressBar(self.stdout, unit="lignes")
        written = 0

        def counted(rows: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
            nonlocal written
            for row in rows:
                yield row
                written += 1
                if written % progress_every == 0:
                    bar(written, max(total, written))
            if written % progress_every:
                bar(written, max(total, written))

        exporter = CountingExporter(MicrodataExporter(target), counted)
        # Written beside the target then renamed: a failed export never leaves half a file.
        try:
            handle, temporary = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".part")
        except OSError as exc:
            raise CommandError(f"Impossible d'écrire dans {output.parent} : {exc.strerror}.") from exc
        try:
            with os.fdopen(handle, "wb") as fh:
                write_export(exporter, fmt, fh)
            os.replace(temporary, output)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        if written == 0:
            self.stdout.write("Aucun répondant n'a encore envoyé son positionnement : le fichier ne contient que l'en-tête.")
        notice = " Attention : données fictives." if target.synthetic else ""
        self.stdout.write(f"Microdonnées de « {target} » exportées dans {output} ({fmt}, {written} répondant(s)).{notice}")
