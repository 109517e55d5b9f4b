import json
from pathlib import Path
from typing import Any

import yaml
from django.core.management.base import BaseCommand, CommandError, CommandParser

from grille.frameworks.models import FrameworkVersion
from grille.frameworks.services import export_framework_version

FORMATS = ("yaml", "json")


def dump(data: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    # Keys in the loader's order and accents as they are: the file is meant to be read and edited.
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


class Command(BaseCommand):
    help = (
        "Exporte une version de référentiel dans le format des fichiers de grille (YAML ou JSON), "
        "relisible par load_framework : exporter puis recharger redonne exactement la même version. "
        "Écrit sur la sortie standard, ou dans un fichier avec --output."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("framework_code", metavar="referentiel", help="Code du référentiel, par exemple pratiques-ingenierie-territoriale.")
        parser.add_argument("version_code", metavar="version", help="Code de la version, par exemple 2024.")
        parser.add_argument(
            "--format", choices=FORMATS, default=None,
            help="yaml ou json (par défaut : d'après l'extension du fichier de sortie, sinon yaml).",
        )
        parser.add_argument("--output", type=Path, default=None, metavar="FICHIER", help="Fichier à écrire.")

    def handle(
        self, *args: Any, framework_code: str, version_code: str, format: str | None, output: Path | None, **options: Any
    ) -> None:
        found = (
            FrameworkVersion.objects.select_related("framework")
            .filter(framework__code=framework_code, code=version_code)
            .first()
        )
        if found is None:
            raise CommandError(
                f"Aucune version « {version_code} » du référentiel « {framework_code} ». "
                "Les versions chargées sont listées dans l'administration (Versions de référentiel)."
            )
        fmt = format or ("json" if output is not None and output.suffix.lower() == ".json" else "yaml")
        text = dump(export_framework_version(found), fmt)
        if output is None:
            self.stdout.write(text, ending="")
            return
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Impossible d'écrire {output} : {exc.strerror}.") from exc
        self.stdout.write(f"{found} exportée dans {output} ({fmt}).")
