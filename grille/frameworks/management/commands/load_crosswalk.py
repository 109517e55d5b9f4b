from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from grille.frameworks.crosswalks import CrosswalkFileError, crosswalk_table, load_crosswalk_file
from grille.frameworks.enums import VersionStatus
from grille.frameworks.models import FrameworkVersion


def version_from(value: str, option: str) -> FrameworkVersion:
    framework_code, sep, version_code = value.partition(":")
    if not sep or not framework_code or not version_code:
        raise CommandError(f"{option} : attendu RÉFÉRENTIEL:VERSION, par exemple pratiques-ingenierie-territoriale:2024.")
    version = (
        FrameworkVersion.objects.select_related("framework")
        .filter(framework__code=framework_code, code=version_code)
        .first()
    )
    if version is None:
        raise CommandError(f"{option} : aucune version « {version_code} » du référentiel « {framework_code} ».")
    return version


class Command(BaseCommand):
    help = (
        "Charge une table de correspondance entre les pratiques de deux versions de référentiel, "
        "depuis un fichier CSV (colonnes source;cible;poids) ou YAML (liste « correspondances »). "
        "Tout ou rien : au moindre problème, rien n'est chargé et chaque ligne à corriger est indiquée. "
        "Recharger un fichier pour les mêmes versions remplace la table."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, metavar="fichier", help="Fichier CSV ou YAML.")
        parser.add_argument("--source", required=True, metavar="RÉFÉRENTIEL:VERSION", help="Version dont viennent les pratiques (colonne source).")
        parser.add_argument("--target", required=True, metavar="RÉFÉRENTIEL:VERSION", help="Version vers laquelle elles se lisent (colonne cible).")
        parser.add_argument("--name", required=True, metavar="NOM", help="Nom de la table, affiché sur sa page publique.")

    def handle(self, *args: Any, path: Path, source: str, target: str, name: str, **options: Any) -> None:
        source_version = version_from(source, "--source")
        target_version = version_from(target, "--target")
        try:
            crosswalk = load_crosswalk_file(path=path, source=source_version, target=target_version, name=name)
        except CrosswalkFileError as exc:
            lines = [f"{path} : {exc}", *(f"  {error}" for error in exc.errors)]
            raise CommandError("\n".join(lines)) from exc
        table = crosswalk_table(crosswalk)
        links = sum(len(row.targets) for row in table.rows)
        self.stdout.write(
            f"Table « {crosswalk.name} » chargée : {links} correspondance(s) de {len(table.rows)} pratique(s) source ; "
            f"sans correspondance : {len(table.unmapped_sources)} pratique(s) source, "
            f"{len(table.unmapped_targets)} pratique(s) cible."
        )
        # The page is public as the versions are: a table touching a draft has none yet.
        if source_version.status == target_version.status == VersionStatus.PUBLISHED:
            self.stdout.write(f"Page publique : {reverse('frameworks:crosswalk', args=[crosswalk.pk])}")
