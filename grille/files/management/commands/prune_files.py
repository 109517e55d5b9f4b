"""`manage.py prune_files`: delete generated files past their date (also done by each build)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from grille.files.services import prune_files


class Command(BaseCommand):
    help = "Supprime les fichiers générés expirés et les fichiers partiels laissés par un exécuteur interrompu."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = prune_files()
        self.stdout.write(f"{deleted} fichier(s) supprimé(s).")
