"""The public page « Protection des données »: it opens for everyone, in French and in English,
and every number it states is the one the code applies, so that the page cannot drift."""

import re

import pytest
import yaml
from django.urls import reverse
from django.utils import translation

from grille.disclosure.cells import DEFAULT_THRESHOLD, MIN_THRESHOLD
from grille.disclosure.policy import ANONYMOUS_BATCH, ANONYMOUS_MIN, MAX_QUESTIONS, POOL_BATCH
from grille.disclosure.ptable import PTABLE_FILE, parse_ptable

FIGURE = re.compile(r'<span class="figure" data-figure="([\w-]+)">([^<]*)</span>')

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reset_language():
    yield
    translation.deactivate()


def stated_figures(html: str) -> dict[str, str]:
    """Each figure the page states, by name; a figure stated twice must say the same thing."""
    figures: dict[str, str] = {}
    for name, value in FIGURE.findall(html):
        assert figures.setdefault(name, value) == value, f"{name} stated as {figures[name]} and {value}"
    return figures


def expected_figures(language: str) -> dict[str, str]:
    # The perturbation table is read from its file here, not through the page's module.
    with PTABLE_FILE.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    max_noise = int(data["max_noise"])
    uniform = min(
        int(n) for n, row in data["rows"].items()
        if sorted(int(noise) for noise in row) == list(range(-max_noise, max_noise + 1))
    )
    variance = float(data["variance"])
    return {
        "default-k": str(DEFAULT_THRESHOLD),
        "min-k": str(MIN_THRESHOLD),
        "peers-k": str(DEFAULT_THRESHOLD),
        "team-k": str(ANONYMOUS_MIN),
        "max-noise": str(max_noise),
        "variance": str(int(variance)) if variance.is_integer() else str(variance).replace(".", {"fr": ","}.get(language, ".")),
        "uniform-from": str(uniform),
        "peers-batch": str(POOL_BATCH),
        "team-batch": str(ANONYMOUS_BATCH),
        "max-questions": str(MAX_QUESTIONS),
    }


def test_protection_page_opens_in_french_for_anyone(client):
    response = client.get(reverse("pages:protection"))

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="fr">' in html
    assert "<h1>Protection des données</h1>" in html
    assert "Ce que veulent dire « ≈ » et « s »" in html
    assert "Pourquoi les résultats changent par lots" in html
    assert "Ce qu'il ne protège pas : quelqu'un qui contrôle plusieurs comptes" in html


def test_protection_page_is_in_english_with_accept_language(client):
    response = client.get(reverse("pages:protection"), HTTP_ACCEPT_LANGUAGE="en")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en">' in html
    assert "<h1>Data protection</h1>" in html
    assert "What “≈” and “s” mean" in html
    assert "Why results change in batches" in html
    assert "Pourquoi les résultats changent par lots" not in html


@pytest.mark.parametrize("language", ["fr", "en"])
def test_protection_page_states_the_figures_the_code_applies(client, language):
    html = client.get(reverse("pages:protection"), HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert stated_figures(html) == expected_figures(language)


def test_protection_page_states_the_values_of_the_design(client):
    # The design's values (issue 10), so that a change to them is a decision, seen here.
    html = client.get(reverse("pages:protection")).content.decode()

    assert stated_figures(html) == {
        "default-k": "5", "min-k": "3", "peers-k": "5", "team-k": "5", "max-noise": "2", "variance": "2",
        "uniform-from": "2", "peers-batch": "5", "team-batch": "3", "max-questions": "2",
    }
    assert "Un nombre de 80 s'affiche donc entre 78 et 82." in html


def test_protection_page_describes_the_release_rule_of_the_code(client):
    # No random hold-back any more: a departure withholds the group until a batch of new ones.
    html = client.get(reverse("pages:protection")).content.decode()

    assert "tirés au hasard" not in html
    assert "Le groupe n'est alors plus montré du tout jusqu'au lot suivant." in html
    assert "« Nouveau » veut dire jamais publié dans ce groupe" in html
    assert "les réponses de profil ne changent plus" in html
    assert "Tous ceux qui regardent le même groupe de pairs voient le même écart" in html


@pytest.mark.parametrize(("language", "limitation"), [
    ("fr", "Une limite connue : si quelqu'un retire sa participation à une étude déjà close"),
    ("en", "A known limitation: if someone withdraws from a study that has already closed"),
])
def test_protection_page_states_that_a_withdrawal_can_hide_a_closed_study_for_good(client, language, limitation):
    html = client.get(reverse("pages:protection"), HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert limitation in html


def test_protection_page_follows_a_changed_perturbation_table(client, monkeypatch):
    wider = parse_ptable({
        "max_noise": 3,
        "variance": 4.0,
        "rows": {
            0: {0: 1.0},
            1: {-1: 0.5, 1: 0.5},
            2: {-2: 0.25, 0: 0.5, 2: 0.25},
            3: dict.fromkeys(range(-3, 4), 1 / 7),
        },
    })
    monkeypatch.setattr("grille.disclosure.figures.default_ptable", lambda: wider)

    html = client.get(reverse("pages:protection")).content.decode()

    figures = stated_figures(html)
    assert (figures["max-noise"], figures["variance"], figures["uniform-from"]) == ("3", "4", "3")
    assert "Un nombre de 80 s'affiche donc entre 77 et 83." in html


def test_every_page_footer_links_to_the_protection_page(client):
    html = client.get(reverse("pages:framework")).content.decode()

    footer = html[html.index('<footer class="site-footer">'):]
    assert f'<a href="{reverse("pages:protection")}">Comment les chiffres protègent les personnes</a>' in footer
