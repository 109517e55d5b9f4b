"""An earlier wave, read through a crosswalk, compared practice by practice with the current one."""

from datetime import timedelta

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from scipy.stats import mannwhitneyu

from grille.frameworks.crosswalks import crosswalk_table
from grille.frameworks.enums import VersionStatus
from grille.frameworks.models import Crosswalk, CrosswalkEntry
from grille.frameworks.selectors import get_default_version, get_grid
from grille.frameworks.services import FrameworkFileError, publish_framework_version
from grille.studies import services
from grille.studies.comparison import combine, compare_waves
from grille.studies.forms import CampaignForm
from grille.studies.models import PreviousWave

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
    assert CrosswalkEntry.objects.filter(crosswalk__source=wave.version).count() == 2  # the earlier table is kept


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


# --- The earlier wave as a framework version, read through the frameworks' crosswalk ------------


def test_a_wave_is_loaded_as_a_draft_version_whose_practices_are_its_items(campaign, wave):
    version = wave.version

    assert version.status == VersionStatus.DRAFT
    assert version.framework.name == campaign.name
    grid = get_grid(version)
    assert [(p.code, p.label) for p in grid.practices] == [
        ("Q1", "Financer des projets"), ("Q2", "Contrats"), ("Q9", "Item disparu"),
    ]
    assert (len(grid.axes), len(grid.situations), grid.dimensions) == (1, 1, {})
    assert {item.practice.code: item.counts for item in wave.items.select_related("practice")} == {
        "Q1": {"0": 12, "1": 30, "2": 41, "3": 17}, "Q2": {"0": 5, "1": 5, "2": 5, "3": 5}, "Q9": {"1": 50},
    }


def test_its_table_is_a_crosswalk_from_the_wave_version_to_the_campaign_version(campaign, wave):
    crosswalk = Crosswalk.objects.get(source=wave.version)

    assert crosswalk.target == campaign.version
    assert crosswalk.name == "Étude 2018 (2018) → Étude des catalyseurs (2024)"
    table = crosswalk_table(crosswalk)
    assert [(row.source.code, [t.code for t, _weight in row.targets]) for row in table.rows] == [("Q1", ["1.1"]), ("Q2", ["2.1"])]
    assert [p.code for p in table.unmapped_sources] == ["Q9"]


def test_importing_the_same_wave_again_finds_its_version_and_its_table(campaign, wave):
    again = services.import_previous_wave(campaign=campaign, name="Étude 2018", year=2018, source_format="aggregates", raw=AGGREGATES)
    other = services.import_previous_wave(
        campaign=campaign, name="Étude 2018", year=2018, source_format="aggregates", raw=AGGREGATES.replace(b"Contrats", b"Contrats locaux")
    )

    assert again.pk != wave.pk and again.version == wave.version
    assert compare_waves(campaign, again)[1] == compare_waves(campaign, wave)[1]
    assert [row.items for row in compare_waves(campaign, again)[0]] == [row.items for row in compare_waves(campaign, wave)[0]]
    assert other.version != wave.version
    assert Crosswalk.objects.filter(source=other.version).count() == 0


def test_a_campaign_table_never_changes_another_campaigns_comparison(campaign, analyst, wave, version):
    now = timezone.now()
    second = services.create_campaign(
        user=analyst, name="Autre étude", wave_year=2025, version=version, opens_at=now, closes_at=now + timedelta(days=9),
        consent_text="J'accepte.", threshold=5,
    )
    theirs = services.import_previous_wave(campaign=second, name="Étude 2018", year=2018, source_format="aggregates", raw=AGGREGATES)

    services.import_crosswalk(wave=theirs, raw=b"source;cible\nQ1;3.1\n")

    assert theirs.version != wave.version
    assert {row.practice.code: row.items for row in compare_waves(campaign, wave)[0] if row.items} == {"1.1": ["Q1"], "2.1": ["Q2"]}


def test_a_wave_version_is_never_offered_to_answer_nor_shown_publicly(client, campaign, wave):
    assert get_default_version() == campaign.version
    assert wave.version not in CampaignForm().fields["version"].queryset
    with pytest.raises(FrameworkFileError):
        publish_framework_version(version=wave.version)
    crosswalk = Crosswalk.objects.get(source=wave.version)
    assert client.get(reverse("frameworks:crosswalk", args=[crosswalk.pk])).status_code == 404
    assert client.get(f"/api/v1/versions/{wave.version.pk}").status_code == 404


def test_a_crosswalk_upload_names_the_lines_with_unknown_items_or_practices(campaign, analyst, wave):
    client = Client()
    client.force_login(analyst)
    bad = SimpleUploadedFile("c.csv", b"source;cible;poids\nQ1;1.1;1\nQ7;1.2;1\nQ2;9.9;1\nQ2;2.2;1000\n")

    response = client.post(reverse("studies:crosswalk", args=[campaign.uuid, wave.pk]), {"file": bad})

    page = response.content.decode()
    assert response.status_code == 400
    assert "La table de correspondance contient des lignes à corriger : rien n&#x27;a été importé." in page
    assert "<td>3</td><td>Q7</td><td>item inconnu dans la vague importée</td>" in page
    assert "<td>4</td><td>9.9</td><td>pratique inconnue dans la grille de la campagne</td>" in page
    assert "<td>5</td><td>1000</td><td>poids attendu inférieur à 1000, avec trois décimales au plus</td>" in page


def test_a_crosswalk_upload_may_be_yaml_read_by_the_same_rules(campaign, analyst, wave):
    client = Client()
    client.force_login(analyst)
    table = SimpleUploadedFile("table.yaml", b"correspondances:\n  - {source: Q1, cible: 1.2, poids: 2}\n  - {source: Q9, cible: 1.2}\n")

    response = client.post(reverse("studies:crosswalk", args=[campaign.uuid, wave.pk]), {"file": table})

    assert response.status_code == 302
    rows = {row.practice.code: row for row in compare_waves(campaign, wave)[0]}
    assert rows["1.2"].items == ["Q1", "Q9"]
    assert not rows["1.1"].comparable
    assert rows["1.2"].before == combine([({0: 12, 1: 30, 2: 41, 3: 17}, 2.0), ({1: 50}, 1.0)])
