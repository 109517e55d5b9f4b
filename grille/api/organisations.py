"""An organisation's team map, for its facilitators: the figures of the team page."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router
from ninja.errors import HttpError

from grille.organisations.selectors import get_membership
from grille.organisations.team import ANONYMOUS_MIN, TeamMap, build_team_map

from .auth import token_auth
from .common import TOKEN_ERRORS, errors
from .frameworks import version_ref
from .schemas import TeamOut

router = Router(tags=["Structures"], auth=token_auth)


def _code(option) -> str | None:
    return option.code if option is not None else None


@router.get("/structures/{uuid}/equipe", response={200: TeamOut, **TOKEN_ERRORS, **errors(403)}, summary="Cartographie de l'équipe")
def team(request: HttpRequest, uuid: UUID):
    """Les chiffres de la cartographie de l'équipe. Les partages anonymes ne comptent que dans les
    totaux, et seulement à partir de anonymous_min partages publiés ; ils y entrent par lots d'au
    moins 3 nouveaux partages, et après un retrait ou un départ ils n'y sont plus comptés jusqu'au
    lot suivant. Les chiffres qui les comptent sont légèrement perturbés pour protéger les
    personnes (approximate vaut alors true). Seuls les membres qui partagent avec leur nom
    apparaissent nommément, avec leurs réponses exactes.

    Pour les animateurs et animatrices de la structure ; ses autres membres reçoivent 403, les autres 404.
    """
    membership = get_membership(request.auth, uuid)
    if not membership.is_facilitator:
        raise HttpError(403, _("Seuls les animateurs et animatrices de la structure peuvent lire sa cartographie par l'API."))
    organisation = membership.organisation
    return team_dict(organisation, build_team_map(organisation))


def team_dict(organisation, team_map: TeamMap) -> dict[str, Any]:
    grid = team_map.grid
    return {
        "organisation": {"id": organisation.uuid, "name": organisation.name},
        "version": version_ref(organisation.version),
        "contributions": team_map.contribution_count,
        "named": team_map.named_count,
        "anonymous": team_map.anonymous_count,
        "anonymous_pending": team_map.anonymous_pending,
        "anonymous_min": ANONYMOUS_MIN,
        "approximate": team_map.approximate,
        "practices": [
            {
                "practice": stats.practice.code,
                "label": stats.practice.label,
                "situation": stats.practice.situation_code,
                "answered": stats.answered,
                "scored": stats.scored,
                "mean": stats.mean,
                "spread": stats.spread,
                "regular": stats.regular,
                "wish": stats.wish,
                "partnership": stats.partnership,
                "levels": [{"level": option.code, "count": n} for option, n in team_map.distribution(stats)],
                "approximate": stats.approximate,
            }
            for stats in team_map.practices
        ],
        "situations": [
            {
                "code": s.code, "label": s.label, "mean": team_map.situation_means.get(s.code),
                "approximate": team_map.approximate,
            }
            for s in grid.situations
        ],
        "members": [
            {
                "name": contributor.name,
                "situations": {
                    s.code: team_map.member_situation_means.get(contributor.assessment_id, {}).get(s.code)
                    for s in grid.situations
                },
                "answers": [
                    {
                        "practice": practice.code,
                        "level": _code(cell.get("level")),
                        "wish": _code(cell.get("wish")),
                        "carrying": _code(cell.get("carrying")),
                    }
                    for practice in grid.practices
                    for cell in [team_map.matrix.get((contributor.assessment_id, practice.id), {})]
                ],
            }
            for contributor in team_map.contributors
        ],
    }
