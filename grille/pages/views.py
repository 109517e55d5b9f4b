"""The public pages: home, the grid, how figures about other people are protected."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from grille.disclosure.figures import figure_marks, protection_figures
from grille.disclosure.policy import ANONYMOUS_MIN
from grille.frameworks.resources import resources_by_practice
from grille.frameworks.selectors import get_default_version, get_grid


def home(request: HttpRequest) -> HttpResponse:
    version = get_default_version()
    return render(request, "pages/home.html", {"grid": get_grid(version) if version else None, "team_min": ANONYMOUS_MIN})


def framework_page(request: HttpRequest) -> HttpResponse:
    version = get_default_version()
    if version is None:
        return render(request, "core/no_framework.html", status=503)
    grid = get_grid(version)
    return render(request, "pages/framework_page.html", {"grid": grid, "resources": resources_by_practice(grid)})


def protection(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/protection.html", {"f": figure_marks(protection_figures())})
