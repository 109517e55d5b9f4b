"""Grille's URLs plus the floor of the HTTP benchmarks: a minimal view through the same stack."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from grille.urls import handler400, handler404, handler500
from grille.urls import urlpatterns as grille_urlpatterns

FLOOR_MAX_BYTES = 4 * 2**20
HEAD = '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Plancher</title></head><body><p>'
TAIL = "</p></body></html>\n"


@require_GET
def floor(request: HttpRequest) -> HttpResponse:
    """An HTML page of ?bytes= bytes, no database, no template: what the stack alone costs."""
    try:
        size = min(max(int(request.GET.get("bytes", "0")), 0), FLOOR_MAX_BYTES)
    except ValueError:
        size = 0
    return HttpResponse(HEAD + "x" * max(size - len(HEAD) - len(TAIL), 0) + TAIL)


@require_GET
def floor_session(request: HttpRequest) -> HttpResponse:
    """The same page, after reading the session and the person as any page about a positioning
    must (this browser's grants, whether someone is signed in): the floor of such pages."""
    request.session.get("grille_assessments")
    request.user.is_authenticated  # noqa: B018 - read for its cost, as the pages do
    return floor(request)


urlpatterns = [
    path("_bench/floor/", floor, name="bench_floor"),
    path("_bench/floor/session/", floor_session, name="bench_floor_session"),
    *grille_urlpatterns,
]

__all__ = ["handler400", "handler404", "handler500", "urlpatterns"]
