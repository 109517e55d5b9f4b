"""A study's results, for the campaign's analysts: the dashboard's protected figures.

Every figure comes from studies.dashboard.build_dashboard, as on the results page: a perturbed
figure carries "approximate": true, a hidden one is null with "suppressed": true, and its value
never leaves the server.
"""

from __future__ import annotations

from uuid import UUID

from ninja import Query, Router
from ninja.errors import HttpError

from grille.studies.dashboard import Dashboard, build_dashboard
from grille.studies.models import Campaign
from grille.studies.pools import settle_campaign
from grille.studies.queries import QueryRefused, ResultsQuery, parse_results_query
from grille.studies.selectors import get_campaign_for

from .auth import TokenRequest, token_auth
from .common import TOKEN_ERRORS
from .schemas import StudyResultsOut

router = Router(tags=["Études"], auth=token_auth)

FILTER_PARAM = Query(
    [],
    description="Filtre sur une question de profil, `question:option` (par exemple `structure:association`) ; "
    "répétable, tous doivent être vrais.",
)
COMPARE_PARAM = Query(None, max_length=100, description="Code d'une question de profil selon laquelle comparer.")


def _query(campaign: Campaign, filtre: list[str], comparer: str | None) -> ResultsQuery:
    """The filters and the comparison question, checked by the one parser of the page and the
    API (studies/queries.py): a refused query is a 400 with its French message."""
    try:
        return parse_results_query(campaign, filtre, comparer)
    except QueryRefused as exc:
        raise HttpError(400, str(exc)) from None


@router.get("/etudes/{uuid}/resultats", response={200: StudyResultsOut, **TOKEN_ERRORS}, summary="Résultats d'une étude")
def results(
    request: TokenRequest,
    uuid: UUID,
    filtre: list[str] = FILTER_PARAM,
    comparer: str | None = COMPARE_PARAM,
) -> Dashboard:
    """Moyennes et intervalles de confiance à 95 % par situation, axe et pratique, effectifs par
    niveau, comparaison par segment, protégés comme sur la page des résultats : un effectif perturbé
    porte "approximate": true, un chiffre masqué vaut null avec "suppressed": true ; au plus deux
    questions de profil par requête (filtres et comparaison). Pour les analystes de la campagne ;
    les autres reçoivent 404."""
    campaign = get_campaign_for(request.auth, uuid)
    query = _query(campaign, filtre, comparer)
    settle_campaign(campaign)
    return build_dashboard(campaign, filters=query.filters, compare=query.compare)

