"""An earlier wave, read through a crosswalk, compared practice by practice with the current one."""

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from scipy.stats import mannwhitneyu

from grille.studies import services
from grille.studies.comparison import combine, compare_waves
from grille.studies.models import CrosswalkLink, PreviousWave

AGGREGATES = (
    "item;libellé;niveau;effectif\n"
    "Q1;Financer des projets;0;12\nQ1;;1;30\nQ1;;2;41\nQ1;;3;17\n"
    "Q2;Contrats;0;5\nQ2;;1;5\nQ2;;2;5\nQ2;;3;5\n"
    "Q9;Item disparu;1;50\n"
).encode()
CROSSWALK = b"source;cible;poids\nQ1;1.1;1\nQ2;2.1;1\nQ9;;\n"


@pytest.fixture
def wave(campaign, respondents):
    respondents(12, level="2")
    respondents(8, level="3")
    wave = services.import_previous_wave(campaign=campaign, name="Étude 2018", year=2018, source_format="aggregates", raw=AGGREGATES)
    services.import_crosswalk(wave=wave, raw=CROSSWALK)
    return wave


def test_comparison_matches_scipy_and_says_what_cannot_be_compared(campaign, wave):
    rows, unmapped = compare_waves(campaign, wave)
    by_code = {row.practice.code: row for row in rows}

    first = by_code["1.1"]
    before = np.repeat([0, 1, 2, 3], [12, 30, 41, 17])
    # The current wave's side is its published distribution: twelve « 2 » and eight « 3 »,
    # read within the noise (±2).
    assert set(first.after) == {2, 3}
    assert 10 <= first.after[2] <= 14 and 6 <= first.after[3] <= 10
    after = np.repeat(list(first.after), list(first.after.values()))
    expected = mannwhitneyu(before, after, alternative="two-sided", method="asymptotic", use_continuity=True)
    assert (first.test.n_before, first.test.n_after) == (100, len(after))
    assert first.test.p_value == pytest.approx(expected.pvalue)
    assert first.test.u == pytest.approx(expected.statistic)
    assert first.test.rank_biserial > 0  # higher levels now
    assert by_code["2.1"].suppressed  # nobody answered 2.1 in the current wave
    assert not by_code["5.1"].comparable
    assert [item.code for item in unmapped] == ["Q9"]


def test_many_to_one_items_are_averaged_not_double_counted():
    assert combine([({0: 10, 1: 10}, 1.0), ({0: 30, 1: 10}, 1.0)]) == {0: 20, 1: 10}


def test_wave_page_shows_the_test_and_effect_size(campaign, analyst, wave):
    client = Client()
    client.force_login(analyst)

    page = client.get(reverse("studies:waves", args=[campaign.uuid])).content.decode()

    assert "Mann–Whitney U" in page
    assert "Non comparable" in page
    assert "Q9" in page


def test_a_crosswalk_naming_an_unknown_practice_is_refused_whole(campaign, analyst, wave):
    client = Client()
    client.force_login(analyst)
    bad = SimpleUploadedFile("c.csv", b"source;cible\nQ1;1.1\nQ2;9.9\n")

    response = client.post(reverse("studies:crosswalk", args=[campaign.uuid, wave.pk]), {"file": bad})

    assert response.status_code == 400
    assert "9.9" in response.content.decode()
    assert CrosswalkLink.objects.filter(wave=wave).count() == 2  # the earlier table is kept


def test_a_wave_file_with_errors_imports_nothing(campaign, analyst):
    client = Client()
    client.force_login(analyst)
    bad = SimpleUploadedFile("w.csv", b"item;niveau;effectif\nQ1;0;12\nQ1;deux;3\n")

    response = client.post(
        reverse("studies:waves", args=[campaign.uuid]),
        {"name": "2018", "year": "2018", "source_format": "aggregates", "file": bad},
    )

    assert response.status_code == 400
    assert PreviousWave.objects.count() == 0
