"""An organisation's team map, for its members: the figures of the team page."""

from __future__ import annotations

from uuid import UUID

from django.utils.translation import gettext as _
from ninja import Router
from ninja.errors import HttpError

from grille.organisations.permissions import can_view_team
from grille.organisations.selectors import get_membership
from grille.organisations.team import build_team_map

from .auth import TokenRequest, token_auth
from .common import TOKEN_ERRORS, errors
from .schemas import Team, TeamOut

router = Router(tags=["Structures"], auth=token_auth)


@router.get("/structures/{uuid}/equipe", response={200: TeamOut, **TOKEN_ERRORS, **errors(403)}, summary="Cartographie de l'équipe")
def team(request: TokenRequest, uuid: UUID) -> Team:
    """Les chiffres de la cartographie de l'équipe. Les partages anonymes ne comptent que dans les
    totaux, et seulement à partir de anonymous_min partages publiés ; ils y entrent par lots d'au
    moins 3 nouveaux partages, et après un retrait ou un départ ils n'y sont plus comptés jusqu'au
    lot suivant. Les chiffres qui les comptent sont légèrement perturbés pour protéger les
    personnes (approximate vaut alors true). Seuls les membres qui partagent avec leur nom
    apparaissent nommément, avec leurs réponses exactes.

    Pour les membres de la structure, comme la page, le mode atelier et les rapports XLSX et PDF ;
    les autres reçoivent 404.
    """
    membership = get_membership(request.auth, uuid)
    if not can_view_team(membership):
        raise HttpError(403, _("Vous ne pouvez pas lire la cartographie de cette structure."))
    organisation = membership.organisation
    return Team(organisation=organisation, map=build_team_map(organisation))

