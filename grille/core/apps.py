from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CoreConfig(AppConfig):
    name = "grille.core"
    verbose_name = "Grille"

    def ready(self) -> None:
        from . import security_log  # noqa: F401  (connects the sign-in signals)


class GrilleAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the throttled sign-in of grille/core/adminsite.py as `admin.site`."""

    default = False  # named in INSTALLED_APPS; CoreConfig stays the one of "grille.core"
    default_site = "grille.core.adminsite.GrilleAdminSite"
