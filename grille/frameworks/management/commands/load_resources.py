from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from grille.frameworks.resources import load_resources_file
from grille.frameworks.services import FrameworkFileError


def load_resource_files(paths: Iterable[Path], stdout: OutputWrapper) -> None:
    """Load each file in turn; the first invalid one stops the command with its path and place."""
    for path in paths:
        try:
            changed = load_resources_file(path=path)
        except FrameworkFileError as exc:
            raise CommandError(f"{path} : {exc}") from exc
        if changed:
            stdout.write(f"{path.name} : {changed} ressource(s) créée(s) ou mise(s) à jour.")
        else:
            stdout.write(f"{path.name} : ressources déjà chargées, inchangées.")


class Command(BaseCommand):
    help = (
        "Charge un ou plusieurs fichiers de ressources « Pour aller plus loin » (YAML ou JSON, "
        "schéma en tête de grille/frameworks/data/resources-*.yaml). La grille du référentiel "
        "doit être chargée avant. Idempotent : une ressource est mise à jour par son code."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, help="Fichiers de ressources à charger.")

    def handle(self, *args: Any, paths: list[Path], **options: Any) -> None:
        load_resource_files(paths, self.stdout)
