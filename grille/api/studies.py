"""A study's results, for the campaign's analysts: the dashboard's protected figures.

Every figure comes from studies.dashboard.build_dashboard, as on the results page: a perturbed
figure carries "approximate": true, a hidden one is null with "suppressed": true, and its value
never leaves the server.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.errors import HttpError

from grille.disclosure.cells import Cell, MeanCell
from grille.studies.dashboard import Dashboard, build_dashboard
from grille.studies.models import Campaign
from grille.studies.pools import settle_campaign
from grille.studies.queries import QueryRefused, parse_results_query
from grille.studies.selectors import get_campaign_for

from .auth import token_auth
from .common import TOKEN_ERRORS
from .schemas import StudyResultsOut

router = Router(tags=["Études"], auth=token_auth)

FILTERS_MAX = 20
HIDDEN = MeanCell(n=None, suppressed=True)
FILTER_PARAM = Query(
    [],
    description="Filtre sur une question de profil, `question:option` (par exemple `structure:association`) ; "
    "répétable, tous doivent être vrais.",
)
COMPARE_PARAM = Query(None, max_length=100, description="Code d'une question de profil selon laquelle comparer.")


def _filters(campaign: Campaign, filtre: list[str], comparer: str | None) -> tuple[dict[str, str], str | None]:
    """Filters `question:option` and the comparison question, checked by the one parser of the
    bounded query space (studies/queries.py): an unknown one is an error, never ignored."""
    if len(filtre) > FILTERS_MAX:
        raise HttpError(400, _("Trop de filtres : %(max)d au plus.") % {"max": FILTERS_MAX})
    pairs = []
    for item in filtre:
        code, separator, option = item.partition(":")
        if not separator:
            raise HttpError(
                400,
                _("Filtre inconnu : « %(filter)s ». Écrivez question:option, avec les codes des questions de profil de la campagne.")
                % {"filter": item},
            )
        pairs.append((code, option))
    try:
        query = parse_results_query(campaign, pairs, comparer)
    except QueryRefused as exc:
        raise HttpError(400, str(exc)) from None
    return query.filters, query.compare


@router.get("/etudes/{uuid}/resultats", response={200: StudyResultsOut, **TOKEN_ERRORS}, summary="Résultats d'une étude")
def results(
    request: HttpRequest,
    uuid: UUID,
    filtre: list[str] = FILTER_PARAM,
    comparer: str | None = COMPARE_PARAM,
):
    """Moyennes et intervalles de confiance à 95 % par situation, axe et pratique, effectifs par
    niveau, comparaison par segment, protégés comme sur la page des résultats : un effectif perturbé
    porte "approximate": true, un chiffre masqué vaut null avec "suppressed": true ; au plus deux
    questions de profil par requête (filtres et comparaison). Pour les analystes de la campagne ;
    les autres reçoivent 404."""
    campaign = get_campaign_for(request.auth, uuid)
    filters, compare = _filters(campaign, filtre, comparer)
    settle_campaign(campaign)
    return results_dict(build_dashboard(campaign, filters=filters, compare=compare))


def _cell(cell: Cell) -> dict[str, Any]:
    return {"value": None if cell.suppressed else cell.value, "suppressed": cell.suppressed, "approximate": cell.approximate}


def _mean(cell: MeanCell | None) -> dict[str, Any]:
    cell = cell or HIDDEN
    if cell.suppressed:
        return {"n": None, "mean": None, "low": None, "high": None, "suppressed": True, "approximate": False}
    return {"n": cell.n, "mean": cell.mean, "low": cell.low, "high": cell.high, "suppressed": False, "approximate": cell.approximate}


def _segment_means(board: Dashboard, cells_by_segment: dict[str, dict[str, MeanCell]], code: str) -> dict[str, Any]:
    # As on the page: a hidden segment, or one with no figure for this row, shows « s ».
    return {
        segment.code: _mean(None if segment.suppressed else cells_by_segment.get(segment.code, {}).get(code))
        for segment in board.segments
    }


def results_dict(board: Dashboard) -> dict[str, Any]:
    campaign = board.campaign
    shown = not board.population_suppressed
    return {
        "campaign": {"id": campaign.uuid, "name": campaign.name, "wave_year": campaign.wave_year, "synthetic": campaign.synthetic},
        "threshold": board.k,
        "filters": board.filters,
        "compare": board.compare.code if board.compare else None,
        "respondents": board.respondents if shown else None,
        "population_suppressed": board.population_suppressed,
        "reason": board.reason,
        "pending": board.pending,
        "segments": [
            {"code": s.code, "label": s.label, "size": None if s.suppressed else s.size, "suppressed": s.suppressed, "reason": s.reason}
            for s in board.segments
        ],
        "situations": [
            {
                "code": situation.code, "label": situation.label, "mean": _mean(cell),
                "segments": _segment_means(board, board.segment_situations, situation.code),
            }
            for situation, cell in board.situations
        ],
        "axes": [
            {"code": axis.code, "label": axis.label, "mean": _mean(cell), "segments": {}} for axis, cell in board.axes
        ],
        "practices": [
            {
                "practice": row.practice.code,
                "label": row.practice.label,
                "levels": [{"level": option.code, **_cell(cell)} for option, cell in row.levels],
                "total": _cell(row.answered),
                "mean": _mean(row.mean),
                "wish": _cell(row.wish),
                "partnership": _cell(row.partnership),
                "segments": _segment_means(board, board.segment_practices, row.practice.code),
            }
            for row in board.practices
        ],
    }
