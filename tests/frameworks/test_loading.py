"""Loading framework versions from their data files: the shipped 2024 grid and others."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from grille.assessments.services import start_assessment
from grille.frameworks.models import (
    Axis,
    Dimension,
    DimensionOption,
    Framework,
    FrameworkVersion,
    Practice,
    Situation,
)
from grille.frameworks.selectors import get_default_version, get_grid
from grille.frameworks.services import (
    DATA_DIR,
    FrameworkFileError,
    load_framework_file,
    load_framework_version,
    validate_framework_data,
)
from tests.factories import small_framework_data, write_framework_file

SHIPPED_FILE = DATA_DIR / "grille-2024.yaml"

# Axes, situations and practices exactly as printed in the source document (18 April 2024).
SOURCE_AXES = [
    ("gestion", "Expertises de Gestion"),
    ("relations", "Relations et Interactions"),
    ("strategie", "Stratégie partenariale et projection"),
]
SOURCE_SITUATIONS = [
    ("1", "Trouver et diversifier des financements", ""),
    ("2", "Contractualiser", "De la négociation à l'évaluation"),
    ("3", "Manager des projets", "Cadrage, pilotage, management d'équipe"),
    ("4", "Être à l'écoute de son écosystème", "Besoins, enjeux, difficultés, risques, contributions"),
    ("5", "Créer des liens", "Entre pairs, entre « mondes », entre tous"),
    ("6", "Valoriser les interactions", "En interne et en externe"),
    ("7", "Mettre en perspective une stratégie partenariale territoriale", ""),
    ("8", "Préparer une aide à la décision politique", ""),
]
SOURCE_PRACTICES = {
    "1.1": "Financer les projets",
    "1.2": "Financer l'ingénierie que je porte",
    "1.3": "Financer d'autres acteurs",
    "2.1": "Gérer les contrats",
    "2.2": "Définir les indicateurs de performance",
    "2.3": "Mesurer les résultats",
    "3.1": "Cadrer les projets",
    "3.2": "Piloter les projets",
    "3.3": "Manager les équipes projets",
    "4.1": "Ecouter son équipe",
    "4.2": "Ecouter son organisation",
    "4.3": "Ecouter les acteurs de mon territoire",
    "5.1": "Créer des liens en interne de mon organisation",
    "5.2": "Créer des liens entre acteurs de mon territoire",
    "5.3": "Créer des liens entre les territoires",
    "6.1": "Communiquer sur les interactions créées",
    "6.2": "Définir la valeur économique des interactions",
    "6.3": "Faire valoir les impacts des alliances",
    "7.1": "Définir la stratégie partenariale territoriale",
    "7.2": "Piloter la stratégie partenariale territoriale",
    "7.3": "Communiquer sur la stratégie partenariale territoriale",
    "8.1": "Faciliter l'impulsion politique",
    "8.2": "Accompagner le pilotage (instances et suivi)",
    "8.3": "Evaluer l'impact territorial",
}


def row_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Framework, FrameworkVersion, Axis, Situation, Practice, Dimension, DimensionOption)
    }


def load_command(*paths: Path) -> str:
    out = io.StringIO()
    call_command("load_framework", *[str(p) for p in paths], stdout=out)
    return out.getvalue()


def shipped_data() -> dict:
    return yaml.safe_load(SHIPPED_FILE.read_text(encoding="utf-8"))


def test_shipped_grid_has_the_three_axes_of_the_source(grid):
    assert [(a.code, a.label) for a in grid.axes] == SOURCE_AXES


def test_shipped_grid_has_the_eight_situations_of_the_source(grid):
    assert [(s.code, s.label, s.description) for s in grid.situations] == SOURCE_SITUATIONS


def test_shipped_grid_puts_three_situations_in_each_of_the_first_two_axes(grid):
    assert [[s.code for s in a.situations] for a in grid.axes] == [["1", "2", "3"], ["4", "5", "6"], ["7", "8"]]


def test_shipped_grid_has_the_twenty_four_practices_of_the_source_in_order(grid):
    assert {p.code: p.label for p in grid.practices} == SOURCE_PRACTICES
    assert [p.code for p in grid.practices] == list(SOURCE_PRACTICES)


def test_shipped_grid_codes_practices_by_situation(grid):
    assert [p.code for s in grid.situations for p in s.practices] == [
        f"{s}.{n}" for s in range(1, 9) for n in range(1, 4)
    ]
    assert all(p.situation_code == p.code.split(".")[0] for p in grid.practices)


def test_shipped_grid_spot_checks_match_the_source_document(grid):
    situation = grid.situation("4")
    assert situation.label == "Être à l'écoute de son écosystème"
    assert situation.description == "Besoins, enjeux, difficultés, risques, contributions"
    assert situation.full_label == (
        "Être à l'écoute de son écosystème (Besoins, enjeux, difficultés, risques, contributions)"
    )
    assert grid.practice("8.2").label == "Accompagner le pilotage (instances et suivi)"


def test_shipped_grid_has_the_proposed_scales(grid):
    assert [(o.code, o.label, o.value) for o in grid.level.options] == [
        ("0", "Je ne pratique pas", 0),
        ("1", "Ponctuellement", 1),
        ("2", "Régulièrement", 2),
        ("3", "C'est le cœur de mon activité", 3),
        ("nc", "Non concerné·e", None),
    ]
    assert [(o.code, o.label) for o in grid.wish.options] == [
        ("non", "Non"), ("oui", "Oui"), ("priorite", "Oui, en priorité"),
    ]
    assert [o.label for o in grid.carrying.options] == [
        "En interne", "En partenariat avec d'autres acteurs locaux", "Les deux", "À définir",
    ]


def test_shipped_version_is_published_with_its_source(version):
    assert (version.code, version.status, version.source_date.isoformat()) == ("2024", "published", "2024-04-18")
    assert version.published_at is not None
    assert version.framework.name == "Grille des pratiques d'ingénierie territoriale"


def test_shipped_file_loads_exactly_these_rows(version):
    assert row_counts() == {
        "Framework": 1, "FrameworkVersion": 1, "Axis": 3, "Situation": 8, "Practice": 24,
        "Dimension": 3, "DimensionOption": 12,
    }


def test_loading_twice_keeps_the_same_version_and_adds_no_rows(version):
    before = row_counts()

    output = load_command()

    assert row_counts() == before
    assert get_default_version().pk == version.pk
    assert "déjà chargée, inchangée" in output


def test_loading_the_same_file_through_the_service_says_nothing_was_created(version):
    result = load_framework_file(path=SHIPPED_FILE)

    assert (result.version.pk, result.created) == (version.pk, False)


def test_changed_file_under_a_published_code_is_refused_by_the_command(version, tmp_path):
    data = shipped_data()
    data["axes"][2]["situations"][1]["practices"][1]["label"] = "Accompagner le pilotage"
    path = write_framework_file(tmp_path / "grille-2024-modifiee.yaml", data)
    before = row_counts()

    with pytest.raises(CommandError) as excinfo:
        load_command(path)

    assert str(excinfo.value) == (
        f"{path} : La version « 2024 » de « Grille des pratiques d'ingénierie territoriale » est publiée : "
        "elle ne peut pas être modifiée. Donnez un nouveau code de version à ce fichier."
    )
    assert row_counts() == before
    assert Practice.objects.get(code="8.2").label == "Accompagner le pilotage (instances et suivi)"


def test_changed_file_under_a_published_code_is_refused_by_the_service(version, tmp_path):
    data = shipped_data()
    data["dimensions"][0]["options"][0]["label"] = "Jamais"
    path = write_framework_file(tmp_path / "grille.yaml", data)
    before = row_counts()

    with pytest.raises(FrameworkFileError, match="est publiée : elle ne peut pas être modifiée"):
        load_framework_file(path=path)

    assert row_counts() == before
    assert get_grid(version).level.options[0].label == "Je ne pratique pas"


def test_new_version_code_creates_a_new_published_version(version, tmp_path):
    data = shipped_data()
    data["version"]["code"] = "2025"
    data["axes"][0]["situations"][0]["practices"][0]["label"] = "Financer des projets"
    path = write_framework_file(tmp_path / "grille-2025.yaml", data)

    result = load_framework_file(path=path)

    assert result.created is True
    assert result.version.pk != version.pk
    assert list(FrameworkVersion.objects.order_by("code").values_list("code", flat=True)) == ["2024", "2025"]
    assert Framework.objects.count() == 1
    assert get_default_version().pk == result.version.pk
    assert get_grid(result.version).practice("1.1").label == "Financer des projets"
    assert get_grid(version).practice("1.1").label == "Financer les projets"


def test_draft_version_is_replaced_when_its_file_changes(db):
    data = small_framework_data()
    data["version"]["status"] = "draft"
    first = load_framework_version(data=validate_framework_data(data)).version
    data["axes"][0]["label"] = "Faire autrement"

    second = load_framework_version(data=validate_framework_data(data)).version

    assert FrameworkVersion.objects.count() == 1
    assert FrameworkVersion.objects.get().pk == second.pk != first.pk
    assert get_grid(second).axes[0].label == "Faire autrement"


def test_draft_version_with_answers_is_not_replaced(db):
    data = small_framework_data()
    data["version"]["status"] = "draft"
    draft = load_framework_version(data=validate_framework_data(data)).version
    start_assessment(version=draft)
    data["axes"][0]["label"] = "Faire autrement"

    with pytest.raises(FrameworkFileError) as excinfo:
        load_framework_version(data=validate_framework_data(data))

    assert str(excinfo.value) == "Cette version brouillon a déjà des réponses : elle ne peut pas être rechargée."
    assert FrameworkVersion.objects.get().pk == draft.pk
    assert get_grid(draft).axes[0].label == "Faire"


def test_reformatted_file_with_the_same_content_is_a_no_op(version, tmp_path):
    path = tmp_path / "grille-2024.yaml"
    path.write_text(
        "# Une copie réécrite : clés dans un autre ordre, commentaires, guillemets.\n"
        + yaml.safe_dump(shipped_data(), allow_unicode=True, sort_keys=True, default_style='"'),
        encoding="utf-8",
    )
    before = row_counts()

    result = load_framework_file(path=path)

    assert (result.version.pk, result.created) == (version.pk, False)
    assert row_counts() == before


def test_draft_version_is_not_the_default_version(db):
    data = small_framework_data()
    data["version"]["status"] = "draft"

    load_framework_version(data=validate_framework_data(data))

    assert get_default_version() is None


def test_small_framework_loads_with_its_own_shape(db, tmp_path):
    path = write_framework_file(tmp_path / "petite.yaml", small_framework_data())

    output = load_command(path)

    grid = get_grid(get_default_version())
    assert "Petite grille d'essai — v1 : chargée." in output
    assert [a.code for a in grid.axes] == ["faire", "dire"]
    assert [s.code for s in grid.situations] == ["A", "B", "C"]
    assert [p.code for p in grid.practices] == ["A.1", "A.2", "B.1", "C.1", "C.2"]
    assert [p.code for p in grid.axes[1].practices] == ["C.1", "C.2"]
    assert grid.situation("A").full_label == "Préparer (Avant l'action)"
    assert grid.situation("B").full_label == "Agir"
    assert grid.level.max_value == 2
    assert grid.wish.option_by_code("oui").label == "Oui"
    assert grid.carrying.option_by_code("autres").value is None
    assert grid.practice("1.1") is None


def test_json_framework_file_loads_like_yaml(db, tmp_path):
    path = tmp_path / "petite.json"
    path.write_text(json.dumps(small_framework_data(), ensure_ascii=False), encoding="utf-8")

    result = load_framework_file(path=path)

    assert (result.created, result.version.code, Practice.objects.count()) == (True, "v1", 5)


def test_get_grid_of_a_published_version_is_read_once(grid, django_assert_num_queries):
    with django_assert_num_queries(0):
        again = get_grid(grid.version_id)

    assert again is grid
