"""A framework version exported as a file is the file it was loaded from: export → load round-trips."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from grille.frameworks.models import FrameworkVersion, Practice
from grille.frameworks.services import (
    DATA_DIR,
    content_hash,
    export_framework_version,
    load_framework_file,
    load_framework_version,
    read_framework_file,
    validate_framework_data,
)
from tests.factories import small_framework_data

SMALL_FILE = Path(__file__).parent / "data" / "petite-grille.yaml"


def export_command(*args: str) -> str:
    out = io.StringIO()
    call_command("export_framework", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("path", [DATA_DIR / "grille-2024.yaml", SMALL_FILE], ids=["grille-2024", "petite-grille"])
def test_export_validates_back_to_the_loaded_content_and_hash(db, path):
    loaded = read_framework_file(path)
    version = load_framework_file(path=path).version

    exported = export_framework_version(version)

    assert validate_framework_data(exported) == loaded
    assert content_hash(validate_framework_data(exported)) == version.content_hash


def test_export_leaves_out_empty_fields_and_values_of_a_scale_without_values(db):
    data = small_framework_data()
    del data["version"]["source"]
    version = load_framework_version(data=validate_framework_data(data)).version

    exported = export_framework_version(version)

    assert exported["version"] == {"code": "v1", "title": "Petite grille d'essai", "source_date": "2025-01-15", "status": "published"}
    assert exported["dimensions"][0]["options"][3] == {"code": "nc", "label": "Sans objet", "value": None}
    assert exported["dimensions"][2]["options"] == [{"code": "moi", "label": "Moi-même"}, {"code": "autres", "label": "D'autres"}]
    assert exported["axes"][0]["situations"][1] == {"code": "B", "label": "Agir", "practices": [{"code": "B.1", "label": "Conduire l'action"}]}


def test_export_command_writes_yaml_to_stdout_that_the_loader_reads_as_the_same_version(db, tmp_path):
    version = load_framework_file(path=DATA_DIR / "grille-2024.yaml").version

    text = export_command("pratiques-ingenierie-territoriale", "2024")
    path = tmp_path / "export.yaml"
    path.write_text(text, encoding="utf-8")
    again = load_framework_file(path=path)

    assert yaml.safe_load(text)["version"]["code"] == "2024"
    assert (again.created, again.version.pk) == (False, version.pk)


def test_export_command_writes_json_to_a_file_and_says_so(db, tmp_path):
    load_framework_file(path=SMALL_FILE)
    path = tmp_path / "petite.json"

    out = export_command("petite-grille-illustrative", "2025", "--output", str(path))

    assert out == f"Petite grille illustrative — 2025 exportée dans {path} (json).\n"
    assert json.loads(path.read_text(encoding="utf-8")) == export_framework_version(FrameworkVersion.objects.get())


def test_exported_file_recreates_the_version_in_an_empty_database(db, tmp_path):
    version = load_framework_file(path=SMALL_FILE).version
    path = tmp_path / "petite.yaml"
    export_command("petite-grille-illustrative", "2025", "--format", "yaml", "--output", str(path))
    digest = version.content_hash
    version.delete()

    recreated = load_framework_file(path=path)

    assert recreated.created is True
    assert recreated.version.content_hash == digest
    assert list(Practice.objects.filter(version=recreated.version).values_list("code", flat=True)) == [
        "P.1", "P.2", "Q.1", "R.1", "R.2",
    ]


def test_export_command_with_an_unknown_version_fails_clearly(db):
    load_framework_file(path=SMALL_FILE)

    with pytest.raises(CommandError, match="Aucune version « 1999 » du référentiel « petite-grille-illustrative »"):
        export_command("petite-grille-illustrative", "1999")


def test_export_command_with_an_unknown_format_fails(db):
    load_framework_file(path=SMALL_FILE)

    with pytest.raises(CommandError, match="invalid choice: 'xml'"):
        export_command("petite-grille-illustrative", "2025", "--format", "xml")


def test_export_command_into_a_missing_folder_fails_clearly(db, tmp_path):
    load_framework_file(path=SMALL_FILE)

    with pytest.raises(CommandError, match="Impossible d'écrire"):
        export_command("petite-grille-illustrative", "2025", "--output", str(tmp_path / "absent" / "f.yaml"))
