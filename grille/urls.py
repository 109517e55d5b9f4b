from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from grille.api.api import api

urlpatterns = [
    path("", include("grille.pages.urls")),
    path("", include("grille.frameworks.urls")),
    path("", include("grille.assessments.urls")),
    path("", include("grille.accounts.urls")),
    path("", include("grille.organisations.urls")),
    path("", include("grille.studies.urls")),
    path("", include("grille.files.urls")),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path(settings.GRILLE_ADMIN_PATH, admin.site.urls),  # "admin/" unless configured
]

handler400 = "grille.core.views.bad_request"
handler404 = "grille.core.views.page_not_found"
handler500 = "grille.core.views.server_error"
