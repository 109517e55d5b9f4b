"""A framework file with a mistake is refused with a French message naming the place."""

from __future__ import annotations

import io
import json
import re

import pytest
import yaml
from django.core.management import CommandError, call_command

from grille.frameworks.models import FrameworkVersion, Practice
from grille.frameworks.services import FrameworkFileError, load_framework_file
from tests.factories import small_framework_data, write_framework_file


def _unknown_practice_field(data):
    data["axes"][0]["situations"][1]["practices"][0]["libelle"] = "Conduire"


def _unknown_root_field(data):
    data["auteurs"] = ["Moi"]


def _missing_situation_label(data):
    del data["axes"][1]["situations"][0]["label"]


def _missing_practice_label(data):
    data["axes"][0]["situations"][0]["practices"][1]["label"] = ""


def _missing_version_code(data):
    del data["version"]["code"]


def _duplicate_practice_code(data):
    data["axes"][1]["situations"][0]["practices"][1]["code"] = "A.1"


def _duplicate_situation_code(data):
    data["axes"][1]["situations"][0]["code"] = "B"


def _duplicate_option_code(data):
    data["dimensions"][1]["options"][1]["code"] = "non"


def _unknown_role(data):
    data["dimensions"][0]["role"] = "niveau"


def _missing_role_field(data):
    del data["dimensions"][2]["role"]


def _missing_role(data):
    del data["dimensions"][1]


def _duplicate_role(data):
    data["dimensions"][2]["role"] = "wish"


def _bad_format(data):
    data["format"] = 2


def _no_format(data):
    del data["format"]


def _quoted_format(data):
    data["format"] = "1"


def _option_value_not_integer(data):
    data["dimensions"][0]["options"][1]["value"] = "un"


def _situations_not_a_list(data):
    data["axes"][0]["situations"] = "Préparer, Agir"


def _practice_not_a_mapping(data):
    data["axes"][0]["situations"][1]["practices"] = ["B.1 Conduire l'action"]


def _bad_source_date(data):
    data["version"]["source_date"] = "15/01/2025"


def _bad_status(data):
    data["version"]["status"] = "publiee"


def _no_axes(data):
    data["axes"] = []


INVALID_FILES = [
    pytest.param(
        _unknown_practice_field,
        "axes[0].situations[1].practices[0] : champ inconnu « libelle » (champs possibles : code, guide, label, translations).",
        id="unknown-practice-field",
    ),
    pytest.param(
        _unknown_root_field,
        "racine : champ inconnu « auteurs » (champs possibles : axes, dimensions, format, framework, version).",
        id="unknown-root-field",
    ),
    pytest.param(
        _missing_situation_label,
        "axes[1].situations[0] : le champ « label » est obligatoire.",
        id="missing-situation-label",
    ),
    pytest.param(
        _missing_practice_label,
        "axes[0].situations[0].practices[1] : le champ « label » est obligatoire.",
        id="empty-practice-label",
    ),
    pytest.param(_missing_version_code, "version : le champ « code » est obligatoire.", id="missing-version-code"),
    pytest.param(
        _duplicate_practice_code,
        "axes[1].situations[0].practices[1].code : code « A.1 » en double.",
        id="duplicate-practice-code",
    ),
    pytest.param(
        _duplicate_situation_code,
        "axes[1].situations[0].code : code « B » en double.",
        id="duplicate-situation-code",
    ),
    pytest.param(_duplicate_option_code, "dimensions[1].options[1].code : code en double.", id="duplicate-option"),
    pytest.param(
        _unknown_role,
        "dimensions[0].role : « niveau » inconnu (attendu : level, wish, carrying).",
        id="unknown-role",
    ),
    pytest.param(_missing_role_field, "dimensions[2] : le champ « role » est obligatoire.", id="missing-role-field"),
    pytest.param(_missing_role, "dimensions : il manque les rôles wish.", id="missing-role"),
    pytest.param(_duplicate_role, "dimensions[2].role : rôle en double.", id="duplicate-role"),
    pytest.param(
        _bad_format,
        "format : la version de format 2 n'est pas prise en charge (attendu : 1).",
        id="bad-format",
    ),
    pytest.param(_no_format, "racine : le champ « format » est obligatoire.", id="no-format"),
    pytest.param(_quoted_format, "racine : le champ « format » n'a pas le bon type.", id="quoted-format"),
    pytest.param(
        _option_value_not_integer,
        "dimensions[0].options[1].value : nombre entier attendu.",
        id="option-value-not-integer",
    ),
    pytest.param(
        _situations_not_a_list,
        "axes[0] : le champ « situations » n'a pas le bon type.",
        id="situations-not-a-list",
    ),
    pytest.param(
        _practice_not_a_mapping,
        "axes[0].situations[1].practices[0] : un objet (clé: valeur) est attendu.",
        id="practice-not-a-mapping",
    ),
    pytest.param(
        _bad_source_date,
        "version.source_date : date attendue au format AAAA-MM-JJ.",
        id="bad-source-date",
    ),
    pytest.param(_bad_status, "version.status : « published » ou « draft » attendu.", id="bad-status"),
    pytest.param(_no_axes, "axes : au moins un axe est attendu.", id="no-axes"),
]


@pytest.mark.parametrize(("break_file", "message"), INVALID_FILES)
def test_invalid_file_is_refused_with_the_place_of_the_error(db, tmp_path, break_file, message):
    data = small_framework_data()
    break_file(data)
    path = write_framework_file(tmp_path / "grille.yaml", data)

    with pytest.raises(FrameworkFileError) as excinfo:
        load_framework_file(path=path)

    # The place by field path, and the line where that field (or the item holding it) starts.
    assert re.fullmatch(r"Ligne \d+ — " + re.escape(message), str(excinfo.value))
    assert (FrameworkVersion.objects.count(), Practice.objects.count()) == (0, 0)


def test_errors_name_the_line_of_the_field(db, tmp_path):
    data = small_framework_data()
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    # A duplicate practice code: the line of that `code:`.
    lines = text.splitlines()
    duplicate_at = [i for i, line in enumerate(lines, 1) if line.strip() == "- code: A.2"][0]
    lines[duplicate_at - 1] = lines[duplicate_at - 1].replace("A.2", "A.1")
    path = tmp_path / "grille.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with pytest.raises(FrameworkFileError) as excinfo:
        load_framework_file(path=path)

    assert str(excinfo.value) == f"Ligne {duplicate_at} — axes[0].situations[0].practices[1].code : code « A.1 » en double."


def test_a_missing_field_names_the_line_of_the_item_without_it(db, tmp_path):
    text = yaml.safe_dump(small_framework_data(), allow_unicode=True, sort_keys=False)
    item_at = [i for i, line in enumerate(text.splitlines(), 1) if line.strip() == "- code: A.2"][0]
    text = re.sub(r"- code: A\.2\n\s+label:", "- label:", text)
    path = tmp_path / "grille.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(FrameworkFileError) as excinfo:
        load_framework_file(path=path)

    assert str(excinfo.value) == (
        f"Ligne {item_at} — axes[0].situations[0].practices[1] : le champ « code » est obligatoire."
    )


def test_json_errors_name_the_line_too(db, tmp_path):
    data = small_framework_data()
    data["axes"][1]["situations"][0]["practices"][0]["niveau_inconnu"] = 3
    path = tmp_path / "grille.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    expected = next(i for i, line in enumerate(path.read_text().splitlines(), 1) if '"niveau_inconnu"' in line)

    with pytest.raises(FrameworkFileError) as excinfo:
        load_framework_file(path=path)

    assert str(excinfo.value).startswith(f"Ligne {expected} — axes[1].situations[0].practices[0] : champ inconnu « niveau_inconnu »")


def test_invalid_file_makes_the_command_fail_with_the_path_and_the_place(db, tmp_path):
    data = small_framework_data()
    _duplicate_practice_code(data)
    path = write_framework_file(tmp_path / "grille.yaml", data)

    with pytest.raises(CommandError) as excinfo:
        call_command("load_framework", str(path), stdout=io.StringIO())

    assert re.fullmatch(rf"{re.escape(str(path))} : Ligne \d+ — axes\[1\]\.situations\[0\]\.practices\[1\]\.code : code « A\.1 » en double\.", str(excinfo.value))
    assert FrameworkVersion.objects.count() == 0


def test_malformed_yaml_is_refused(db, tmp_path):
    path = tmp_path / "grille.yaml"
    path.write_text("format: 1\naxes: [\n  - code: a\n", encoding="utf-8")

    with pytest.raises(FrameworkFileError, match=r"^Fichier mal formé : "):
        load_framework_file(path=path)


def test_file_that_is_not_a_mapping_is_refused(db, tmp_path):
    path = tmp_path / "grille.yaml"
    path.write_text("- une\n- liste\n", encoding="utf-8")

    with pytest.raises(FrameworkFileError) as excinfo:
        load_framework_file(path=path)

    assert str(excinfo.value) == "Le fichier doit contenir un objet YAML ou JSON."


def test_missing_file_is_refused_with_its_path(db, tmp_path):
    path = tmp_path / "absent.yaml"

    with pytest.raises(FrameworkFileError) as excinfo:
        load_framework_file(path=path)

    assert str(excinfo.value) == f"Fichier illisible : {path} (No such file or directory)."


def test_a_file_refused_halfway_through_a_batch_keeps_the_files_loaded_before(db, tmp_path):
    good = write_framework_file(tmp_path / "a.yaml", small_framework_data())
    broken = small_framework_data()
    broken["version"]["code"] = "v2"
    _unknown_role(broken)
    bad = write_framework_file(tmp_path / "b.yaml", broken)

    with pytest.raises(CommandError, match="« niveau » inconnu"):
        call_command("load_framework", str(good), str(bad), stdout=io.StringIO())

    assert list(FrameworkVersion.objects.values_list("code", flat=True)) == ["v1"]


# A file as an editor writes it, comment first; each case below changes one place in it.
EDITED_FILE = """\
# Grille d'essai
format: 1
framework:
  code: essai
  name: Grille d'essai
version:
  code: v1
  title: Grille d'essai
  status: published
dimensions:
  - code: niveau
    role: level
    label: Niveau
    options:
      - {code: non, label: Non, value: 0}
      - {code: oui, label: Oui, value: 1}
  - code: envie
    role: wish
    label: Envie
    options:
      - {code: non, label: Non, value: 0}
  - code: qui
    role: carrying
    label: Qui
    options:
      - {code: moi, label: Moi}
axes:
  - code: A
    label: Agir
    situations:
      - code: A1
        label: Préparer
        practices:
          - {code: A1.1, label: Réunir}
          - {code: A1.2, label: Décider}
"""


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param(
            "label: Agir", "label: [Agir]", "Ligne 29 — axes[0] : le champ « label » n'a pas le bon type.", id="wrong-type"
        ),
        pytest.param(
            "label: Oui, value: 1",
            "label: Oui, value: un",
            "Ligne 16 — dimensions[0].options[1].value : nombre entier attendu.",
            id="not-an-integer",
        ),
        pytest.param(
            "        label: Préparer\n",
            "",
            "Ligne 31 — axes[0].situations[0] : le champ « label » est obligatoire.",
            id="missing-field",
        ),
        pytest.param(
            "format: 1\n", "", "Ligne 1 — racine : le champ « format » est obligatoire.", id="missing-root-field"
        ),
        pytest.param(
            "{code: A1.2,",
            "{code: A1.1,",
            "Ligne 35 — axes[0].situations[0].practices[1].code : code « A1.1 » en double.",
            id="duplicate-code",
        ),
        pytest.param(
            "{code: oui,", "{code: non,", "Ligne 16 — dimensions[0].options[1].code : code en double.", id="duplicate-option"
        ),
        pytest.param(
            "role: wish",
            "role: souhait",
            "Ligne 18 — dimensions[1].role : « souhait » inconnu (attendu : level, wish, carrying).",
            id="unknown-role",
        ),
        pytest.param(
            "role: carrying", "role: level", "Ligne 23 — dimensions[2].role : rôle en double.", id="duplicate-role"
        ),
        pytest.param(
            "  name: Grille d'essai\n",
            "  name: Grille d'essai\n  auteur: Moi\n",
            "Ligne 6 — framework : champ inconnu « auteur » (champs possibles : code, name, publisher, translations).",
            id="unknown-field",
        ),
        pytest.param(
            "        practices:\n          - {code: A1.1, label: Réunir}\n          - {code: A1.2, label: Décider}\n",
            "        practices: []\n",
            "Ligne 33 — axes[0].situations[0] (« A1 ») : au moins une pratique est attendue.",
            id="published-without-practices",
        ),
    ],
)
def test_errors_give_the_line_of_the_offending_node(db, tmp_path, old, new, message):
    assert EDITED_FILE.count(old) == 1
    path = tmp_path / "grille.yaml"
    path.write_text(EDITED_FILE.replace(old, new), encoding="utf-8")

    with pytest.raises(FrameworkFileError) as excinfo:
        load_framework_file(path=path)

    assert str(excinfo.value) == message
    assert FrameworkVersion.objects.count() == 0


def test_the_edited_file_loads_as_written(db, tmp_path):
    path = tmp_path / "grille.yaml"
    path.write_text(EDITED_FILE, encoding="utf-8")

    version = load_framework_file(path=path).version

    assert list(version.practices.values_list("code", flat=True)) == ["A1.1", "A1.2"]
