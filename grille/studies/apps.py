from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StudiesConfig(AppConfig):
    name = "grille.studies"
    verbose_name = _("Études")

    def ready(self) -> None:
        from .files import register_study_files

        register_study_files()
