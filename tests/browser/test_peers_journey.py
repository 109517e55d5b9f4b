"""A practitioner joins the anonymous comparison with peers, reads where they stand, and leaves."""

import re

from grille.assessments import peers, services
from grille.assessments.models import PeerShare
from grille.assessments.services import AnswerInput
from grille.frameworks.selectors import get_default_version, get_grid
from tests.factories import make_user

from .conftest import assert_accessible


def submitted(version, level: str, owner=None):
    assessment, raw = services.start_assessment(version=version, owner=owner)
    codes = [p.code for p in get_grid(version).practices]
    services.save_answers(assessment=assessment, items=[AnswerInput(practice_code=c, level=level) for c in codes])
    return services.submit_assessment(assessment=assessment), raw


def test_practitioner_joins_compares_and_leaves(site, page):
    version = get_default_version()
    # 9 peers: a first batch of 5 is published, 4 wait; the practitioner's share makes the next
    # batch of 5 brand-new positionings, and 9 peers stay at k or more whatever the noise.
    for i in range(9):
        peer, _raw = submitted(version, str(i % 4), owner=make_user(f"pair{i}@exemple.fr"))
        peers.join_benchmark(assessment=peer, structure_type="association")
    mine, raw = submitted(version, "2")

    page.goto(f"{site}/reprendre/{raw}/")
    page.get_by_role("heading", name="Se comparer aux pairs").wait_for()
    page.get_by_role("button", name="Rejoindre la comparaison").click()
    # Without consent nothing is recorded and the error is tied to the checkbox.
    assert page.get_by_text("Cochez la case pour confirmer votre accord.").is_visible()
    assert_accessible(page)
    page.get_by_label("Type de structure dans laquelle vous exercez").select_option("association")
    page.get_by_label(re.compile("J'accepte que ce positionnement compte")).check()
    page.get_by_role("button", name="Rejoindre la comparaison").click()

    page.get_by_text(re.compile("Vous participez à la comparaison depuis le")).wait_for()
    assert_accessible(page)
    page.get_by_role("link", name="Voir où je me situe parmi mes pairs").click()
    page.get_by_role("heading", name="Me comparer à mes pairs", level=1).wait_for()
    assert page.get_by_text(re.compile(r"Comparaison avec ≈ \d+ positionnements de pairs, tous types de structure\.")).is_visible()
    assert page.locator("table").filter(has_text="par situation").locator("tbody tr").count() == 8
    # Too few peers at each level: every level cell reads « s », none reads 0.
    assert page.get_by_text(re.compile("Chiffres arrondis par une légère perturbation aléatoire")).first.is_visible()
    assert page.locator("table").filter(has_text="par pratique").locator("td .suppressed").count() > 0
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("Les pairs du même type de structure")).click()
    page.get_by_text(re.compile("du type « Association »")).wait_for()
    assert_accessible(page)

    page.get_by_role("link", name=re.compile("Retour à ma fiche")).click()
    page.get_by_role("button", name="Retirer ce positionnement de la comparaison").click()
    page.get_by_role("button", name="Rejoindre la comparaison").wait_for()
    assert not PeerShare.objects.filter(assessment=mine).exists()
    # The group lost a published positioning: nobody sees it until a batch of brand-new peers.
    assert peers.published_pool(version.pk) is None
