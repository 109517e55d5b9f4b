"""What a results view may ask: the bounded query space of a study, for the page, the API and
the exports alike (one parser).

A view crosses at most MAX_QUESTIONS profile questions at once, filters and comparison together.
Beyond that, two views differ by too few people too easily (docs/protection-des-donnees.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from .models import Campaign, ProfileQuestion
from .selectors import questions_of

MAX_QUESTIONS = 2


class QueryRefused(ValueError):
    """A results view that cannot be asked: the message says why, in French."""


@dataclass(frozen=True)
class ResultsQuery:
    filters: dict[str, str] = field(default_factory=dict)  # question code -> option code
    compare: str | None = None


def parse_results_query(
    campaign: Campaign, filters: Iterable[tuple[str, str]], compare: str | None
) -> ResultsQuery:
    """Check filters (question code, option code) and the comparison question against the
    campaign's questions and the bounded query space; raise QueryRefused otherwise."""
    questions: dict[str, ProfileQuestion] = {q.code: q for q in questions_of(campaign)}
    chosen: dict[str, str] = {}
    for code, option in filters:
        question = questions.get(code)
        if question is None or option not in {c for c, _label in question.options}:
            raise QueryRefused(
                _("Filtre inconnu : « %(filter)s ». Écrivez question:option, avec les codes des questions de profil de la campagne.")
                % {"filter": f"{code}:{option}"}
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
