"""The API object mounted at /api/v1/: its routers and its French JSON errors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import JSONRenderer

from grille.assessments.errors import AssessmentError

from . import frameworks, organisations, positionings, studies
from .auth import TooManyFailures

DESCRIPTION = """\
L'API de Grille : la grille publiée, vos positionnements, la cartographie des structures dont
vous êtes membre et les résultats des études que vous analysez — les mêmes chiffres que les pages.

**Authentification** : créez un jeton personnel sur la page « Mes jetons d'API » (depuis
« Mes positionnements »), puis envoyez-le dans l'en-tête `Authorization: Bearer <jeton>`.
La grille publiée se lit sans jeton.

**Erreurs** : toujours `{"detail": "message en français"}`. 400 requête invalide, 401 jeton absent,
inconnu ou révoqué, 403 rôle insuffisant, 404 introuvable (ce qui n'est pas à vous est
introuvable), 405 méthode non autorisée (l'en-tête `Allow` donne les bonnes), 409 conflit
(positionnement déjà envoyé), 413 corps de requête trop volumineux, 429 trop d'essais de jetons
invalides.

**Listes** : paramètres `limit` et `offset` ; la réponse donne `count`, le nombre total.
"""

class FrenchJSONRenderer(JSONRenderer):
    # UTF-8 as it is: « é » rather than an escape in every French message and label.
    json_dumps_params = {"ensure_ascii": False}


# The docs page (/api/v1/docs) is Swagger UI from django-ninja's own static files: no CDN, nothing
# fetched at run time. Its template has no inline script (settings are a JSON data block read by
# a script file) and Swagger UI sets styles through the DOM, not style attributes, so the page
# runs under the site's strict Content-Security-Policy as it is (checked in Chromium with a
# securitypolicyviolation listener: none while expanding, trying and authorising operations).
# tests/api guards the page's part: only local /static/ files, no inline script.
api = NinjaAPI(
    title="Grille API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    # validatorUrl: Swagger UI would otherwise send the schema to validator.swagger.io.
    docs=Swagger(settings={"validatorUrl": None}),
    renderer=FrenchJSONRenderer(),
)
api.add_router("", frameworks.router)
api.add_router("", positionings.router)
api.add_router("", organisations.router)
api.add_router("", studies.router)


def _error(request: HttpRequest, status: int, detail: str) -> HttpResponse:
    return api.create_response(request, {"detail": detail}, status=status)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, _("Introuvable."))


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(
        request, 401,
        _("Authentification requise : envoyez un jeton d'API valide dans l'en-tête « Authorization: Bearer <jeton> »."),
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # Ours are already in French; django-ninja's own unreadable-body error is not.
    if str(exc).startswith("Cannot parse request body"):
        return _error(request, 400, _("Requête invalide — le corps de la requête n'est pas du JSON valide."))
    return _error(request, exc.status_code, str(exc))


@api.exception_handler(TooManyFailures)
def too_many_failures(request: HttpRequest, exc: TooManyFailures) -> HttpResponse:
    response = _error(request, 429, str(exc))
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(AssessmentError)
def refused_change(request: HttpRequest, exc: AssessmentError) -> HttpResponse:
    return _error(request, exc.status, str(exc))


@api.exception_handler(ValidationError)
def invalid_request(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = " ; ".join(f"{_where(e.get('loc', ()))} : {_problem(e)}" for e in exc.errors)
    return _error(request, 400, _("Requête invalide — %(problems)s.") % {"problems": problems})


def _where(loc: Sequence[int | str]) -> str:
    parts = [str(p) for p in loc[1:] if p != "payload"]
    return ".".join(parts) or _("corps de la requête")


def _problem(error: dict[str, Any]) -> str:
    kind, context = error.get("type", ""), error.get("ctx") or {}
    messages = {
        "missing": _("obligatoire"),
        "int_parsing": _("doit être un nombre entier"),
        "int_type": _("doit être un nombre entier"),
        "int_from_float": _("doit être un nombre entier"),
        "greater_than_equal": _("doit valoir au moins %(ge)s"),
        "less_than_equal": _("doit valoir au plus %(le)s"),
        "uuid_parsing": _("n'est pas un identifiant valide (UUID)"),
        "uuid_type": _("n'est pas un identifiant valide (UUID)"),
        "string_type": _("doit être une chaîne de caractères"),
        "string_too_long": _("est trop long : %(max_length)s caractères au plus"),
        "json_invalid": _("n'est pas du JSON valide"),
        "model_attributes_type": _("doit être un objet JSON"),
        "model_type": _("doit être un objet JSON"),
        "dict_type": _("doit être un objet JSON"),
        "extra_forbidden": _("champ inconnu"),
    }
    message = messages.get(kind, _("valeur invalide"))
    try:
        return message % context if "%(" in message else message
    except (KeyError, TypeError, ValueError):
        return _("valeur invalide")
