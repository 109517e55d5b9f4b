from django.apps import AppConfig


class DisclosureConfig(AppConfig):
    name = "grille.disclosure"
    label = "disclosure"
    verbose_name = "Protection des données"
    default_auto_field = "django.db.models.BigAutoField"
