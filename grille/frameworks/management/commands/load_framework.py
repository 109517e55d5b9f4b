from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grille.frameworks.management.commands.load_resources import load_resource_files
from grille.frameworks.resources import default_resource_files
from grille.frameworks.services import (
    FrameworkFileError,
    default_framework_files,
    load_framework_file,
)


class Command(BaseCommand):
    help = (
        "Charge un ou plusieurs fichiers de référentiel (YAML ou JSON). Sans argument, charge "
        "les grilles livrées avec Grille, puis leurs ressources « Pour aller plus loin ». "
        "Idempotent : recharger le même fichier ne change rien."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="*", type=Path, help="Fichiers à charger.")

    def handle(self, *args: Any, paths: list[Path], **options: Any) -> None:
        for path in paths or default_framework_files():
            try:
                result = load_framework_file(path=path)
            except FrameworkFileError as exc:
                raise CommandError(f"{path} : {exc}") from exc
            verb = "chargée" if result.created else "déjà chargée, inchangée"
            self.stdout.write(f"{result.version} : {verb}.")
        if not paths:
            # Resources attach to practices by code: they need the grids loaded first.
            load_resource_files(default_resource_files(), self.stdout)
