from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "grille.core"
    verbose_name = "Grille"
