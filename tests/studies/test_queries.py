"""One parser for the results query, whether it comes from the page's form or from the API."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from grille.studies.queries import (
    FILTERS_MAX,
    QueryRefused,
    ResultsQuery,
    parse_page_query,
    parse_results_query,
)


def refusal(call) -> str:
    with pytest.raises(QueryRefused) as caught:
        call()
    return str(caught.value)


def test_api_filters_and_comparison_are_read(campaign):
    query = parse_results_query(campaign, ["structure:association"], "territoire")

    assert query == ResultsQuery(filters={"structure": "association"}, compare="territoire")


def test_page_filters_are_read_as_the_api_writes_them(campaign):
    page = parse_page_query(campaign, QueryDict("f_structure=association&f_territoire=&comparer=territoire"))

    assert page == parse_results_query(campaign, ["structure:association"], "territoire")


@pytest.mark.parametrize(
    ("filters", "compare", "page"),
    [
        (["structure:pirates"], None, "f_structure=pirates"),
        (["nulle:part"], None, "f_nulle=part"),
        (["structure:association", "structure:commune"], None, "f_structure=association&f_structure=commune"),
        ([], "inconnue", "comparer=inconnue"),
        (["structure:association"], "structure", "f_structure=association&comparer=structure"),
        (["structure:association", "territoire:rural"], "region", "f_structure=association&f_territoire=rural&comparer=region"),
    ],
)
def test_page_and_api_refuse_the_same_query_with_the_same_message(campaign, filters, compare, page):
    from_api = refusal(lambda: parse_results_query(campaign, filters, compare))
    from_page = refusal(lambda: parse_page_query(campaign, QueryDict(page)))

    assert from_page == from_api


def test_a_filter_without_a_separator_is_unknown(campaign):
    message = refusal(lambda: parse_results_query(campaign, ["structure"], None))

    assert message == (
        "Filtre inconnu : « structure ». Écrivez question:option, avec les codes des questions de profil de la campagne."
    )


def test_too_many_filters_are_refused_on_the_page_as_in_the_api(campaign):
    many = [f"q{i}:o" for i in range(FILTERS_MAX + 1)]
    page = QueryDict(mutable=True)
    for i in range(FILTERS_MAX + 1):
        page[f"f_q{i}"] = "o"

    assert refusal(lambda: parse_results_query(campaign, many, None)) == f"Trop de filtres : {FILTERS_MAX} au plus."
    assert refusal(lambda: parse_page_query(campaign, page)) == f"Trop de filtres : {FILTERS_MAX} au plus."
