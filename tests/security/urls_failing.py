"""The site's addresses plus one that fails, to see the 500 page as a visitor would."""

from django.urls import path

from grille.urls import handler400, handler404, handler500, urlpatterns  # noqa: F401


def failing_view(request):
    raise RuntimeError("panne simulée")


urlpatterns = [path("panne/", failing_view), *urlpatterns]
