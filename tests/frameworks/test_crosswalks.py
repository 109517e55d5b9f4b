"""Crosswalks between framework versions: loading (all or nothing), reading a profile through one, its page."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grille.assessments.selectors import get_profile
from grille.assessments.services import start_assessment
from grille.core.tabular.reading import ImportFileError, LineError
from grille.frameworks.crosswalks import (
    CrosswalkFileError,
    CrosswalkPair,
    ParsedCrosswalk,
    crosswalk_table,
    load_crosswalk_file,
    parse_crosswalk,
    read_profile_through,
    target_situation_means,
)
from grille.frameworks.enums import VersionStatus
from grille.frameworks.models import Crosswalk, CrosswalkEntry, FrameworkVersion
from grille.frameworks.selectors import clear_grid_cache
from grille.frameworks.services import load_framework_file
from tests.factories import answer, load_small_framework

DATA = Path(__file__).parent / "data"
SMALL_FILE = DATA / "petite-grille.yaml"
WEIGHT_EXPECTED = "poids non reconnu : attendu un nombre strictement positif, par exemple 1 ou 0,5"

# Source: the factory's small grid (A.1 A.2 | B.1 | C.1 C.2, levels 0–2 and « nc »).
# Target: petite-grille.yaml (P.1 P.2 | Q.1 | R.1 R.2).
CROSSWALK_CSV = (
    "source;cible;poids\n"
    "A.1;P.1;1\n"
    "A.2;P.1;3\n"  # many-to-one, weighted
    "B.1;Q.1;\n"  # weight left empty: 1
    "B.1;R.1;0,5\n"  # one-to-many, decimal comma
    "C.1;R.1;0.5\n"
    "C.2;;\n"  # « non comparable »
)
CROSSWALK_YAML = """\
# Même table qu'en CSV.
correspondances:
  - {source: A.1, cible: P.1}
  - {source: A.2, cible: P.1, poids: 3}
  - {source: B.1, cible: Q.1}
  - {source: B.1, cible: R.1, poids: 0.5}
  - {source: C.1, cible: R.1, poids: "0,5"}
  - {source: C.2, cible: null}
"""


@pytest.fixture
def source(db) -> FrameworkVersion:
    return load_small_framework()


@pytest.fixture
def target(db) -> FrameworkVersion:
    return load_framework_file(path=SMALL_FILE).version


def write(tmp_path: Path, name: str, content: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(content, encoding=encoding)
    return path


def load(tmp_path, source, target, content: str = CROSSWALK_CSV, name: str = "table.csv") -> Crosswalk:
    return load_crosswalk_file(path=write(tmp_path, name, content), source=source, target=target, name="Petite → illustrative")


def links(crosswalk: Crosswalk) -> list[tuple[str, str, Decimal]]:
    return list(
        CrosswalkEntry.objects.filter(crosswalk=crosswalk)
        .order_by("source_practice__position", "target_practice__position")
        .values_list("source_practice__code", "target_practice__code", "weight")
    )


EXPECTED_LINKS = [
    ("A.1", "P.1", Decimal("1.000")),
    ("A.2", "P.1", Decimal("3.000")),
    ("B.1", "Q.1", Decimal("1.000")),
    ("B.1", "R.1", Decimal("0.500")),
    ("C.1", "R.1", Decimal("0.500")),
]


def data(name: str) -> bytes:
    return (DATA / name).read_bytes()


# --- Parsing: one set of rules for CSV and YAML -------------------------------------------------


def test_crosswalk_reads_one_to_many_many_to_one_and_unmapped_sources():
    result = parse_crosswalk(data("crosswalk_2018_2024.csv"))

    assert result == ParsedCrosswalk(
        pairs=[
            CrosswalkPair("Q1", "1.1", Decimal("1"), 2),
            CrosswalkPair("Q1", "1.2", Decimal("0.5"), 3),
            CrosswalkPair("Q1", "1.3", Decimal("0.25"), 4),
            CrosswalkPair("Q2", "2.1", Decimal("1"), 5),
            CrosswalkPair("Q3", "2.1", Decimal("0.75"), 6),
            CrosswalkPair("fin_projets", "3.2", Decimal("1"), 8),
        ],
        unmapped_sources={"Q4", "Q5"},
        errors=[],
    )
    assert result.ok


def test_crosswalk_pairs_unpack_as_source_target_weight():
    source, target, weight, _line = parse_crosswalk(b"source;cible\nQ1;1.1\n").pairs[0]

    assert (source, target, weight) == ("Q1", "1.1", Decimal("1"))


def test_crosswalk_reports_unknown_column_bad_weight_duplicates_and_contradictions():
    result = parse_crosswalk(data("crosswalk_errors.csv"))

    assert result.errors == [
        LineError(
            1, "commentaire", "colonne inconnue (colonnes acceptées : source, cible, target, poids, weight)", "commentaire"
        ),
        LineError(3, "Q1", "correspondance en double (déjà ligne 2)", "source"),
        LineError(4, "beaucoup", WEIGHT_EXPECTED, "weight"),
        LineError(5, "0", WEIGHT_EXPECTED, "weight"),
        LineError(6, "'-1", WEIGHT_EXPECTED, "weight"),
        LineError(7, "", "code source manquant", "source"),
        LineError(9, "Q5", "associé à « 4.1 », mais marqué non comparable ligne 8", "source"),
        LineError(10, "Q1", "marqué non comparable, mais associé à « 1.1 » ligne 2", "source"),
    ]
    assert result.pairs == [CrosswalkPair("Q1", "1.1", Decimal("1"), 2)]
    assert result.unmapped_sources == {"Q5"}
    assert not result.ok


def test_crosswalk_names_the_missing_target_column():
    with pytest.raises(ImportFileError) as error:
        parse_crosswalk(b"source;poids\nQ1;1\n")

    assert str(error.value) == (
        "Il manque la colonne « cible ou target ». La première ligne doit nommer les colonnes, "
        "par exemple : source;cible."
    )


def test_crosswalk_reports_a_code_broken_by_a_quoted_line_break():
    result = parse_crosswalk(b'source;cible\n"Q1\nQ2";1.1\n')

    assert result.errors == [
        LineError(
            2,
            "Q1 Q2",
            "code illisible : il contient un retour à la ligne ou un caractère invisible (guillemet non refermé ?)",
            "source",
        )
    ]


def test_yaml_crosswalk_follows_the_same_rules_as_csv():
    content = (
        'correspondances:\n'
        '  - {source: "Q1\\nQ2", cible: P.1}\n'
        '  - {source: Q3, cible: "3,2"}\n'
        '  - {source: Q3, cible: "3,2", poids: 2}\n'
        '  - {source: Q4, cible: P.1, poids: " 1 000 "}\n'
    )

    result = parse_crosswalk(content.encode(), "table.yaml")

    assert result.errors == [
        LineError(
            2,
            "Q1 Q2",
            "code illisible : il contient un retour à la ligne ou un caractère invisible (guillemet non refermé ?)",
            "source",
        ),
        LineError(4, "Q3", "correspondance en double (déjà ligne 3)", "source"),
    ]
    assert result.pairs == [CrosswalkPair("Q3", "3.2", Decimal("1"), 3), CrosswalkPair("Q4", "P.1", Decimal("1000"), 5)]


# --- Loading ---------------------------------------------------------------------------------


def test_csv_crosswalk_is_loaded_with_its_weights(tmp_path, source, target):
    crosswalk = load(tmp_path, source, target)

    assert (crosswalk.source, crosswalk.target, crosswalk.name) == (source, target, "Petite → illustrative")
    assert links(crosswalk) == EXPECTED_LINKS


def test_yaml_crosswalk_gives_the_same_table_as_csv(tmp_path, source, target):
    crosswalk = load(tmp_path, source, target, CROSSWALK_YAML, "table.yaml")

    assert links(crosswalk) == EXPECTED_LINKS


def test_yaml_crosswalk_may_be_a_plain_list(tmp_path, source, target):
    crosswalk = load(tmp_path, source, target, "- {source: A.1, cible: R.2, poids: 2}\n", "table.yml")

    assert links(crosswalk) == [("A.1", "R.2", Decimal("2.000"))]


def test_csv_crosswalk_from_french_excel_is_read(tmp_path, source, target):
    path = tmp_path / "table.csv"
    path.write_bytes("Source;Cible;Poids\r\nA.1;P.1;1\r\n".encode("cp1252"))

    crosswalk = load_crosswalk_file(path=path, source=source, target=target, name="Excel")

    assert links(crosswalk) == [("A.1", "P.1", Decimal("1.000"))]


def test_loading_again_for_the_same_versions_replaces_the_table(tmp_path, source, target):
    first = load(tmp_path, source, target)

    second = load_crosswalk_file(
        path=write(tmp_path, "v2.csv", "source;cible\nC.2;R.2\n"), source=source, target=target, name="Nouvelle table"
    )

    assert second.pk == first.pk
    assert Crosswalk.objects.get().name == "Nouvelle table"
    assert links(second) == [("C.2", "R.2", Decimal("1.000"))]


CSV_ERRORS = [
    pytest.param("source;cible;poids\nA.1;P.1;1\nZ.9;P.1;1\n", "Ligne 3, colonne « source » : pratique inconnue dans la version source (« Z.9 »)", id="unknown-source"),
    pytest.param("source;cible;poids\nA.1;P.9;1\n", "Ligne 2, colonne « cible » : pratique inconnue dans la version cible (« P.9 »)", id="unknown-target"),
    pytest.param("source;cible;poids\nA.1;P.1;beaucoup\n", "Ligne 2, colonne « poids » : poids non reconnu", id="bad-weight"),
    pytest.param("source;cible;poids\nA.1;P.1;0\n", "Ligne 2, colonne « poids » : poids non reconnu", id="zero-weight"),
    pytest.param("source;cible;poids\nA.1;P.1;1000\n", "Ligne 2, colonne « poids » : poids attendu inférieur à 1000", id="weight-too-big"),
    pytest.param("source;cible;poids\nA.1;P.1;0,0001\n", "avec trois décimales au plus (« 0.0001 »)", id="weight-too-precise"),
    pytest.param("source;cible\nA.1;P.1\nA.1;P.1\n", "Ligne 3, colonne « source » : correspondance en double (déjà ligne 2)", id="duplicate"),
    pytest.param("source;cible\nA.1;P.1\nA.1;\n", "Ligne 3, colonne « source » : marqué non comparable, mais associé à « P.1 » ligne 2", id="mapped-and-unmapped"),
]


@pytest.mark.parametrize(("content", "message"), CSV_ERRORS)
def test_csv_crosswalk_with_an_error_is_refused_naming_the_line(tmp_path, source, target, content, message):
    with pytest.raises(CrosswalkFileError) as refused:
        load(tmp_path, source, target, content)

    assert str(refused.value) == "La table de correspondance contient des lignes à corriger : rien n'a été chargé."
    assert any(message in str(error) for error in refused.value.errors), [str(e) for e in refused.value.errors]
    assert (Crosswalk.objects.count(), CrosswalkEntry.objects.count()) == (0, 0)


YAML_ERRORS = [
    pytest.param("correspondances:\n  - {source: A.1, cible: P.1}\n  - {source: A.2, target: P.1}\n", "Ligne 3 : champ inconnu (champs possibles : source, cible, poids) (« target »)", id="unknown-key"),
    pytest.param("correspondances:\n  - cible: P.1\n    poids: 2\n", "Ligne 2, colonne « source » : code source manquant", id="missing-source"),
    pytest.param("correspondances:\n  - A.1\n", "Ligne 2 : une correspondance {source, cible, poids} est attendue", id="not-a-mapping"),
    pytest.param("correspondances:\n  - {source: A.1, cible: P.1, poids: -2}\n", "Ligne 2, colonne « poids » : poids non reconnu : attendu un nombre strictement positif, par exemple 1 ou 0,5 (« '-2 »)", id="negative-weight"),
    pytest.param("correspondances:\n\n  - {source: A.1, cible: Q.7}\n", "Ligne 3, colonne « cible » : pratique inconnue dans la version cible (« Q.7 »)", id="unknown-target"),
]


@pytest.mark.parametrize(("content", "message"), YAML_ERRORS)
def test_yaml_crosswalk_with_an_error_is_refused_naming_the_line(tmp_path, source, target, content, message):
    with pytest.raises(CrosswalkFileError) as refused:
        load(tmp_path, source, target, content, "table.yaml")

    assert [str(error) for error in refused.value.errors] == [message]
    assert Crosswalk.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("correspondances: [\n", "Fichier mal formé"),
        ("table: []\n", "Racine : champ inconnu « table » (seul « correspondances » est attendu)."),
        ("correspondances: A.1\n", "Le fichier doit contenir une liste « correspondances »"),
        ("correspondances: []\n", "Le fichier ne contient aucune correspondance."),
    ],
)
def test_unreadable_yaml_crosswalk_is_refused(tmp_path, source, target, content, message):
    with pytest.raises(CrosswalkFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load(tmp_path, source, target, content, "table.yaml")


def test_a_refused_file_leaves_the_loaded_table_unchanged(tmp_path, source, target):
    crosswalk = load(tmp_path, source, target)

    with pytest.raises(CrosswalkFileError):
        load(tmp_path, source, target, "source;cible\nA.1;R.2\nZ.1;R.2\n", "bad.csv")

    assert links(crosswalk) == EXPECTED_LINKS


def test_crosswalk_needs_two_different_versions_a_name_and_a_known_extension(tmp_path, source, target):
    path = write(tmp_path, "table.csv", CROSSWALK_CSV)

    with pytest.raises(CrosswalkFileError, match="doivent être différentes"):
        load_crosswalk_file(path=path, source=source, target=source, name="Boucle")
    with pytest.raises(CrosswalkFileError, match="Le nom de la table est obligatoire"):
        load_crosswalk_file(path=path, source=source, target=target, name="  ")
    with pytest.raises(CrosswalkFileError, match="extension non prise en charge"):
        load_crosswalk_file(path=write(tmp_path, "table.xlsx", "x"), source=source, target=target, name="Classeur")
    with pytest.raises(CrosswalkFileError, match="Fichier illisible"):
        load_crosswalk_file(path=tmp_path / "absent.csv", source=source, target=target, name="Absent")


# --- Reading a profile through a crosswalk ---------------------------------------------------


def test_target_practice_is_the_weighted_mean_of_its_sources(tmp_path, source, target):
    crosswalk = load(tmp_path, source, target)

    values = read_profile_through(crosswalk, {"A.1": 2, "A.2": 0, "B.1": 1, "C.1": 2, "C.2": 2})

    assert values == {
        "P.1": pytest.approx((2 * 1 + 0 * 3) / 4),  # many-to-one, weights 1 and 3
        "P.2": None,  # no source
        "Q.1": 1.0,  # one-to-many: B.1 feeds Q.1…
        "R.1": pytest.approx((1 * 0.5 + 2 * 0.5) / 1),  # …and R.1, with C.1
        "R.2": None,
    }


def test_not_concerned_sources_are_left_out_of_the_mean(tmp_path, source, target):
    crosswalk = load(tmp_path, source, target)

    values = read_profile_through(crosswalk, {"A.1": None, "A.2": 1, "B.1": None, "C.1": 2})

    assert values == {"P.1": 1.0, "P.2": None, "Q.1": None, "R.1": 2.0, "R.2": None}


def test_a_positioning_is_read_through_the_crosswalk_with_situation_means(tmp_path, source, target):
    crosswalk = load(tmp_path, source, target)
    assessment, _raw = start_assessment(version=source)
    for code, level in (("A.1", "souvent"), ("A.2", "parfois"), ("B.1", "jamais"), ("C.1", "nc")):
        answer(assessment, code, level=level)

    values = read_profile_through(crosswalk, {s.practice.code: s.value for s in get_profile(assessment).practices})
    means = target_situation_means(crosswalk, values)

    assert values == {"P.1": pytest.approx(1.25), "P.2": None, "Q.1": 0.0, "R.1": 0.0, "R.2": None}
    assert means == {"P": pytest.approx(1.25), "Q": 0.0, "R": 0.0}


# --- Command -----------------------------------------------------------------------------------


def crosswalk_command(*args: str) -> str:
    out = io.StringIO()
    call_command("load_crosswalk", *args, stdout=out)
    return out.getvalue()


def test_load_crosswalk_command_loads_the_file_and_gives_its_page(tmp_path, source, target):
    path = write(tmp_path, "table.csv", CROSSWALK_CSV)

    out = crosswalk_command(
        str(path), "--source", "petite-grille:v1", "--target", "petite-grille-illustrative:2025", "--name", "Essai"
    )

    crosswalk = Crosswalk.objects.get()
    assert out == (
        "Table « Essai » chargée : 5 correspondance(s) de 4 pratique(s) source ; "
        "sans correspondance : 1 pratique(s) source, 2 pratique(s) cible.\n"
        f"Page publique : /grille/correspondances/{crosswalk.pk}/\n"
    )


def test_load_crosswalk_command_lists_each_line_to_correct(tmp_path, source, target):
    path = write(tmp_path, "table.csv", "source;cible\nA.1;P.1\nA.9;P.1\nA.2;X\n")

    with pytest.raises(CommandError) as refused:
        crosswalk_command(str(path), "--source", "petite-grille:v1", "--target", "petite-grille-illustrative:2025", "--name", "Essai")

    assert str(refused.value).splitlines() == [
        f"{path} : La table de correspondance contient des lignes à corriger : rien n'a été chargé.",
        "  Ligne 3, colonne « source » : pratique inconnue dans la version source (« A.9 »)",
        "  Ligne 4, colonne « cible » : pratique inconnue dans la version cible (« X »)",
    ]
    assert Crosswalk.objects.count() == 0


def test_load_crosswalk_command_gives_no_public_page_for_a_draft(tmp_path, source, target):
    FrameworkVersion.objects.filter(pk=target.pk).update(status=VersionStatus.DRAFT, published_at=None)
    path = write(tmp_path, "table.csv", CROSSWALK_CSV)

    out = crosswalk_command(
        str(path), "--source", "petite-grille:v1", "--target", "petite-grille-illustrative:2025", "--name", "Essai"
    )

    assert Crosswalk.objects.count() == 1
    assert out == (
        "Table « Essai » chargée : 5 correspondance(s) de 4 pratique(s) source ; "
        "sans correspondance : 1 pratique(s) source, 2 pratique(s) cible.\n"
    )


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("petite-grille", "--source : attendu RÉFÉRENTIEL:VERSION"),
        ("petite-grille:v9", "--source : aucune version « v9 » du référentiel « petite-grille »."),
    ],
)
def test_load_crosswalk_command_refuses_an_unknown_version(tmp_path, source, target, option, message):
    path = write(tmp_path, "table.csv", CROSSWALK_CSV)

    with pytest.raises(CommandError, match=message):
        crosswalk_command(str(path), "--source", option, "--target", "petite-grille-illustrative:2025", "--name", "Essai")


# --- Public page -------------------------------------------------------------------------------


def test_crosswalk_page_shows_the_table_and_the_practices_left_out(client, tmp_path, source, target):
    crosswalk = load(tmp_path, source, target)

    response = client.get(reverse("frameworks:crosswalk", args=[crosswalk.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Petite → illustrative</h1>" in page
    assert (
        '<th scope="rowgroup" rowspan="2"><span class="code">B.1</span> Conduire l&#x27;action</th>'
        '<td><span class="code">Q.1</span> Monter un dossier de financement</td><td class="num">1</td>'
    ) in page
    assert '<td><span class="code">R.1</span> Préparer une réunion partenariale</td><td class="num">0,5</td>' in page
    assert '<td><span class="code">P.1</span> Réunir les données</td><td class="num">3</td>' in page
    table = crosswalk_table(crosswalk)
    assert [p.code for p in table.unmapped_sources] == ["C.2"]
    assert [p.code for p in table.unmapped_targets] == ["P.2", "R.2"]
    assert '<li><span class="code">C.2</span> Présenter le bilan</li>' in page
    assert '<li><span class="code">R.2</span> Rendre compte au collectif</li>' in page


def test_crosswalk_page_of_an_unknown_table_is_404(client, db):
    assert client.get(reverse("frameworks:crosswalk", args=[999])).status_code == 404


def test_crosswalk_page_of_a_table_touching_a_draft_is_404(client, tmp_path, source, target):
    crosswalk = load(tmp_path, source, target)
    FrameworkVersion.objects.filter(pk=target.pk).update(status=VersionStatus.DRAFT, published_at=None)

    assert client.get(reverse("frameworks:crosswalk", args=[crosswalk.pk])).status_code == 404


def test_crosswalk_page_refuses_post(client, tmp_path, source, target):
    crosswalk = load(tmp_path, source, target)

    assert client.post(reverse("frameworks:crosswalk", args=[crosswalk.pk])).status_code == 405


def test_crosswalk_page_queries_do_not_grow_with_the_table(client, tmp_path, source, target):
    small = load(tmp_path, source, target, "source;cible\nA.1;P.1\n")
    large = load_crosswalk_file(
        path=write(tmp_path, "large.csv", "source;cible\n" + "".join(f"{t};{s}\n" for s in ("A.1", "A.2", "B.1", "C.1", "C.2") for t in ("P.1", "P.2", "Q.1", "R.1", "R.2"))),
        source=target, target=source, name="Grande table",
    )
    counts = []
    for crosswalk in (small, large):
        clear_grid_cache()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("frameworks:crosswalk", args=[crosswalk.pk])).status_code == 200
        counts.append(len(queries))

    assert CrosswalkEntry.objects.filter(crosswalk=large).count() == 25
    assert counts[0] == counts[1]
