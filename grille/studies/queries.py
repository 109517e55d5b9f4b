"""What a results view may ask: the bounded query space of a study, for the page, the API and
the exports alike (one parser).

A view crosses at most MAX_QUESTIONS profile questions at once, filters and comparison together.
Beyond that, two views differ by too few people too easily (docs/protection-des-donnees.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.http import QueryDict
from django.utils.translation import gettext as _

from grille.disclosure.policy import MAX_QUESTIONS

from .models import Campaign, ProfileQuestion
from .selectors import questions_of

# Far more than a view may cross: the list is refused before it is read.
FILTERS_MAX = 20
PAGE_FILTER_PREFIX = "f_"


class QueryRefused(ValueError):
    """A results view that cannot be asked: the message says why, in French."""


@dataclass(frozen=True)
class ResultsQuery:
    filters: dict[str, str] = field(default_factory=dict)  # question code -> option code
    compare: str | None = None


def parse_results_query(campaign: Campaign, filters: Sequence[str], compare: str | None) -> ResultsQuery:
    """Check filters written `question:option` and the comparison question against the
    campaign's questions and the bounded query space; raise QueryRefused otherwise. An unknown
    filter is an error, never silently ignored."""
    if len(filters) > FILTERS_MAX:
        raise QueryRefused(_("Trop de filtres : %(max)d au plus.") % {"max": FILTERS_MAX})
    questions: dict[str, ProfileQuestion] = {q.code: q for q in questions_of(campaign)}
    chosen: dict[str, str] = {}
    for item in filters:
        code, separator, option = item.partition(":")
        question = questions.get(code)
        if not separator or question is None or option not in {c for c, _label in question.options}:
            raise QueryRefused(
                _("Filtre inconnu : « %(filter)s ». Écrivez question:option, avec les codes des questions de profil de la campagne.")
                % {"filter": item}
            )
        if chosen.get(code, option) != option:
            raise QueryRefused(_("Un seul filtre par question : « %(code)s » est filtrée deux fois.") % {"code": code})
        chosen[code] = option
    compare = compare or None
    if compare is not None and compare not in questions:
        raise QueryRefused(_("Question de comparaison inconnue : %(code)s.") % {"code": compare})
    if compare is not None and compare in chosen:
        raise QueryRefused(_("On ne compare pas selon une question déjà filtrée : %(code)s.") % {"code": compare})
    if len(chosen) + (1 if compare else 0) > MAX_QUESTIONS:
        raise QueryRefused(
            _("Au plus %(max)d questions de profil à la fois, filtres et comparaison compris : au-delà, deux vues pourraient isoler quelques personnes.")
            % {"max": MAX_QUESTIONS}
        )
    return ResultsQuery(filters=chosen, compare=compare)


def parse_page_query(campaign: Campaign, params: QueryDict) -> ResultsQuery:
    """The results page's query string, which its exports repeat: `f_<question>=<option>` from
    the filter form (an empty option is its « all ») and `comparer=<question>`."""
    filters = [
        f"{key.removeprefix(PAGE_FILTER_PREFIX)}:{option}"
        for key, options in params.lists()
        if key.startswith(PAGE_FILTER_PREFIX)
        for option in options
        if option
    ]
    return parse_results_query(campaign, filters, params.get("comparer"))
