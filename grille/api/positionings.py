"""A person's own positionings, through the same services as the questionnaire pages.

Only the token owner's positionings exist here: anyone else's uuid is the same 404 as a
missing one. Positionings opened without an account stay reachable by their resume link only.
"""

from __future__ import annotations

from uuid import UUID

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.errors import HttpError

from grille.accounts.models import User
from grille.assessments import selectors, services
from grille.assessments.models import Assessment
from grille.frameworks.selectors import get_default_version

from .auth import TokenRequest, token_auth
from .common import TOKEN_ERRORS, Page, errors, limit_param, offset_param, paginate
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


def _positionings(user: User) -> QuerySet[Assessment]:
    """The person's positionings, each with `answered`, the number of practices with a level."""
    return selectors.owned_by(user).annotate(answered=Count("answers", filter=Q(answers__level__isnull=False)))


def _positioning(user: User, uuid: UUID) -> Assessment:
    return get_object_or_404(_positionings(user), uuid=uuid)


@router.get("/positionnements", response={200: PositioningPage, **TOKEN_ERRORS}, summary="Mes positionnements")
def list_positionings(request: TokenRequest, limit: int = limit_param(), offset: int = offset_param()) -> Page[Assessment]:
    """Les positionnements de la personne à qui appartient le jeton, le plus récent d'abord."""
    return paginate(_positionings(request.auth).order_by("-created_at", "-id"), limit=limit, offset=offset)


@router.post("/positionnements", response={201: PositioningDetailOut, **WRITE_ERRORS}, summary="Commencer un positionnement")
def start_positioning(request: TokenRequest) -> Status[Assessment]:
    """Commence un positionnement (brouillon) sur la version en vigueur de la grille."""
    version = get_default_version()
    if version is None:
        raise HttpError(409, _("Aucune grille n'est publiée pour l'instant : impossible de commencer un positionnement."))
    assessment, _raw = services.start_assessment(version=version, owner=request.auth)
    return Status(201, _positioning(request.auth, assessment.uuid))


@router.get("/positionnements/{uuid}", response={200: PositioningDetailOut, **TOKEN_ERRORS}, summary="Un positionnement et ses réponses")
def get_positioning(request: TokenRequest, uuid: UUID) -> Assessment:
    return _positioning(request.auth, uuid)


@router.put(
    "/positionnements/{uuid}/reponses/{code}",
    response={200: AnswerSavedOut, **WRITE_ERRORS},
    summary="Répondre à une pratique",
)
def put_answer(request: TokenRequest, uuid: UUID, code: str, payload: AnswerIn) -> AnswerSavedOut:
    """Remplace la réponse à une pratique : codes d'options (niveau, souhait, portage) et commentaire.

    400 pour une pratique ou une option inconnue, ou un commentaire trop long ; 409 quand le
    positionnement est déjà envoyé, que la période de réponse est close, ou qu'une modification
    plus récente (`edited_at`) de cette réponse est déjà enregistrée : elle est conservée.
    """
    assessment = selectors.get_owned(request.auth, uuid)
    item = services.AnswerInput(
        practice_code=code,
        level=payload.level or "",
        wish=payload.wish or "",
        carrying=payload.carrying or "",
        comment=payload.comment or "",
    )
    result = services.save_answers(assessment=assessment, items=[item], edited_at=payload.edited_at)
    if result.kept:
        raise HttpError(409, _(
            "Cette réponse a été modifiée ailleurs après cette modification : la réponse la plus récente est "
            "conservée. Relisez-la (GET du positionnement) avant de la modifier de nouveau."
        ))
    return AnswerSavedOut(
        practice=code, level=item.level or None, wish=item.wish or None, carrying=item.carrying or None,
        comment=item.comment, answered=result.answered,
    )


@router.post("/positionnements/{uuid}/envoi", response={200: PositioningOut, **WRITE_ERRORS}, summary="Envoyer un positionnement")
def submit_positioning(request: TokenRequest, uuid: UUID) -> Assessment:
    """Envoie le positionnement : il ne peut plus changer. Un second envoi est refusé (409)."""
    services.submit_assessment(assessment=selectors.get_owned(request.auth, uuid))
    return _positioning(request.auth, uuid)


@router.delete("/positionnements/{uuid}", response={204: None, **TOKEN_ERRORS}, summary="Supprimer un positionnement")
def delete_positioning(request: TokenRequest, uuid: UUID) -> Status[None]:
    """Supprime définitivement le positionnement et ses réponses."""
    services.delete_assessment(assessment=selectors.get_owned(request.auth, uuid))
    return Status(204, None)


@router.get("/positionnements/{uuid}/profil", response={200: ProfileOut, **TOKEN_ERRORS}, summary="Profil d'un positionnement")
def get_profile(request: TokenRequest, uuid: UUID) -> ProfileOut:
    """Le profil, calculé comme sur la page du profil : le même document que son export JSON."""
    assessment = selectors.get_owned(request.auth, uuid)
    return ProfileOut.of(assessment, selectors.get_profile(assessment))
