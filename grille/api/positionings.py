"""A person's own positionings, through the same services as the questionnaire pages.

Only the token owner's positionings exist here: anyone else's uuid is the same 404 as a
missing one. Positionings opened without an account stay reachable by their resume link only.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.errors import HttpError

from grille.assessments import selectors, services
from grille.assessments.exporters import assessment_to_dict
from grille.assessments.models import Assessment
from grille.frameworks.selectors import get_default_version, get_grid

from .auth import token_auth
from .common import TOKEN_ERRORS, errors, limit_param, offset_param, paginate
from .frameworks import version_ref
from .schemas import (
    AnswerIn,
    AnswerSavedOut,
    PositioningDetailOut,
    PositioningOut,
    PositioningPage,
    ProfileOut,
)

router = Router(tags=["Positionnements"], auth=token_auth)

WRITE_ERRORS = {**TOKEN_ERRORS, **errors(409)}


def positioning_dict(assessment: Assessment, answered: int) -> dict[str, Any]:
    return {
        "id": assessment.uuid,
        "version": version_ref(assessment.version),
        "status": assessment.status,
        "started_at": assessment.created_at,
        "updated_at": assessment.updated_at,
        "submitted_at": assessment.submitted_at,
        "answers_until": assessment.answers_until,
        "answered": answered,
    }


def _detail(assessment: Assessment) -> dict[str, Any]:
    grid = get_grid(assessment.version_id)
    answers = selectors.get_answers(assessment)
    rows = []
    for practice in grid.practices:
        data = answers.get(practice.code)
        options = [
            dimension.option_by_id(getattr(data, f"{role}_id")) if data else None
            for role, dimension in (("level", grid.level), ("wish", grid.wish), ("carrying", grid.carrying))
        ]
        level, wish, carrying = (o.code if o else None for o in options)
        rows.append({
            "practice": practice.code, "level": level, "wish": wish, "carrying": carrying,
            "comment": data.comment if data else "",
        })
    answered = sum(1 for row in rows if row["level"] is not None)
    return {**positioning_dict(assessment, answered), "practices": len(grid.practices), "answers": rows}


@router.get("/positionnements", response={200: PositioningPage, **TOKEN_ERRORS}, summary="Mes positionnements")
def list_positionings(request: HttpRequest, limit: int = limit_param(), offset: int = offset_param()):
    """Les positionnements de la personne à qui appartient le jeton, le plus récent d'abord."""
    positionings = (
        selectors.owned_by(request.auth)
        .annotate(answered=Count("answers", filter=Q(answers__level__isnull=False)))
        .order_by("-created_at", "-id")
    )
    return paginate(positionings, limit=limit, offset=offset, item=lambda a: positioning_dict(a, a.answered))


@router.post("/positionnements", response={201: PositioningDetailOut, **WRITE_ERRORS}, summary="Commencer un positionnement")
def start_positioning(request: HttpRequest):
    """Commence un positionnement (brouillon) sur la version en vigueur de la grille."""
    version = get_default_version()
    if version is None:
        raise HttpError(409, _("Aucune grille n'est publiée pour l'instant : impossible de commencer un positionnement."))
    assessment, _raw = services.start_assessment(version=version, owner=request.auth)
    return Status(201, _detail(selectors.get_owned(request.auth, assessment.uuid)))


@router.get("/positionnements/{uuid}", response={200: PositioningDetailOut, **TOKEN_ERRORS}, summary="Un positionnement et ses réponses")
def get_positioning(request: HttpRequest, uuid: UUID):
    return _detail(selectors.get_owned(request.auth, uuid))


@router.put(
    "/positionnements/{uuid}/reponses/{code}",
    response={200: AnswerSavedOut, **WRITE_ERRORS},
    summary="Répondre à une pratique",
)
def put_answer(request: HttpRequest, uuid: UUID, code: str, payload: AnswerIn):
    """Remplace la réponse à une pratique : codes d'options (niveau, souhait, portage) et commentaire.

    400 pour une pratique ou une option inconnue, ou un commentaire trop long ; 409 quand le
    positionnement est déjà envoyé ou que la période de réponse est close.
    """
    assessment = selectors.get_owned(request.auth, uuid)
    item = services.AnswerInput(
        practice_code=code,
        level=payload.level or "",
        wish=payload.wish or "",
        carrying=payload.carrying or "",
        comment=payload.comment or "",
    )
    answered = services.save_answers(assessment=assessment, items=[item])
    return {
        "practice": code, "level": item.level or None, "wish": item.wish or None, "carrying": item.carrying or None,
        "comment": item.comment, "answered": answered,
    }


@router.post("/positionnements/{uuid}/envoi", response={200: PositioningOut, **WRITE_ERRORS}, summary="Envoyer un positionnement")
def submit_positioning(request: HttpRequest, uuid: UUID):
    """Envoie le positionnement : il ne peut plus changer. Un second envoi est refusé (409)."""
    assessment = services.submit_assessment(assessment=selectors.get_owned(request.auth, uuid))
    return positioning_dict(assessment, selectors.answered_count(assessment))


@router.delete("/positionnements/{uuid}", response={204: None, **TOKEN_ERRORS}, summary="Supprimer un positionnement")
def delete_positioning(request: HttpRequest, uuid: UUID):
    """Supprime définitivement le positionnement et ses réponses."""
    services.delete_assessment(assessment=selectors.get_owned(request.auth, uuid))
    return Status(204, None)


@router.get("/positionnements/{uuid}/profil", response={200: ProfileOut, **TOKEN_ERRORS}, summary="Profil d'un positionnement")
def get_profile(request: HttpRequest, uuid: UUID):
    """Le profil, calculé comme sur la page du profil : le même document que son export JSON."""
    assessment = selectors.get_owned(request.auth, uuid)
    return assessment_to_dict(assessment, selectors.get_profile(assessment))
