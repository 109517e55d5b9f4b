"""The study commands: importing an earlier wave and exporting a campaign's microdata from the command line."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from grille.core.tabular.writing import BOM
from grille.studies.dashboard import completed_respondents
from grille.studies.models import PreviousWave, WaveItem

DATA = Path(__file__).parent / "data"


def run(name: str, *args: str) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


# --- import_wave -------------------------------------------------------------------------------


def test_import_wave_imports_microdata_and_says_what(campaign):
    out = run("import_wave", str(campaign.uuid), str(DATA / "wave2018_microdata.csv"), "--year", "2018", "--name", "Étude 2018")

    wave = PreviousWave.objects.get()
    assert out == "Vague « Étude 2018 » (2018) importée dans « Étude des catalyseurs » : 3 item(s), 6 répondant(s).\n"
    assert (wave.campaign, wave.year, wave.source_format, wave.respondents) == (campaign, 2018, "microdata", 6)
    assert WaveItem.objects.get(wave=wave, practice__code="Q1").counts == {"0": 1, "1": 2, "2": 2, "3": 1}


def test_import_wave_imports_aggregates_named_after_their_year_by_default(campaign):
    out = run("import_wave", str(campaign.uuid), str(DATA / "wave2018_aggregates.csv"), "--year", "2018", "--format", "aggregates")

    wave = PreviousWave.objects.get()
    assert (wave.name, wave.source_format, wave.respondents) == ("2018", "aggregates", None)
    assert out.startswith("Vague « 2018 » (2018) importée")


def test_import_wave_with_errors_lists_the_lines_and_imports_nothing(campaign):
    path = DATA / "wave2018_microdata_errors.csv"

    with pytest.raises(CommandError) as refused:
        run("import_wave", str(campaign.uuid), str(path), "--year", "2018")

    lines = str(refused.value).splitlines()
    assert lines[0] == f"{path} : Le fichier contient des lignes à corriger : rien n'a été importé."
    assert "  Ligne 4, colonne « repondant » : identifiant en double (déjà ligne 2) (« R001 »)" in lines
    assert PreviousWave.objects.count() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pas-un-uuid"], "« pas-un-uuid » n'est pas un identifiant de campagne"),
        ([str(uuid.UUID(int=7))], "Aucune campagne n'a l'identifiant 00000000-0000-0000-0000-000000000007."),
    ],
)
def test_import_wave_refuses_an_unknown_campaign(campaign, args, message):
    with pytest.raises(CommandError, match=message):
        run("import_wave", *args, str(DATA / "wave2018_microdata.csv"), "--year", "2018")


def test_import_wave_refuses_an_unknown_format(campaign):
    with pytest.raises(CommandError, match="invalid choice: 'excel'"):
        run("import_wave", str(campaign.uuid), str(DATA / "wave2018_microdata.csv"), "--year", "2018", "--format", "excel")


def test_import_wave_refuses_an_impossible_year_and_a_missing_file(campaign, tmp_path):
    with pytest.raises(CommandError, match="--year : "):
        run("import_wave", str(campaign.uuid), str(DATA / "wave2018_microdata.csv"), "--year", "1789")
    with pytest.raises(CommandError, match="Fichier illisible"):
        run("import_wave", str(campaign.uuid), str(tmp_path / "absent.csv"), "--year", "2018")
    assert PreviousWave.objects.count() == 0


# --- export_campaign ---------------------------------------------------------------------------


def test_export_campaign_writes_the_microdata_csv_with_progress(campaign, respondents, tmp_path):
    respondents(5)
    output = tmp_path / "microdonnees.csv"

    out = run("export_campaign", str(campaign.uuid), "--output", str(output), "--progress-every", "2")

    text = output.read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text.removeprefix(BOM)), delimiter=";"))
    pseudonyms = sorted(completed_respondents(campaign).values_list("pseudonym", flat=True))
    assert text.startswith(BOM)
    assert rows[0][:3] == ["id", "synthetique", "soumis_le"]
    assert sorted(row[0] for row in rows[1:]) == pseudonyms
    assert out.splitlines() == [
        "[############..................]  40 % (2/5 lignes)",
        "[########################......]  80 % (4/5 lignes)",
        "[##############################] 100 % (5/5 lignes)",
        f"Microdonnées de « Étude des catalyseurs (2024) » exportées dans {output} (csv, 5 répondant(s)).",
    ]
    assert list(tmp_path.iterdir()) == [output]  # no temporary file left


def test_export_campaign_writes_xlsx_with_its_codebook(campaign, respondents, tmp_path):
    respondents(3)
    output = tmp_path / "microdonnees.xlsx"

    out = run("export_campaign", str(campaign.uuid), "--format", "xlsx", "--output", str(output))

    workbook = openpyxl.load_workbook(output, read_only=True)
    sheets, rows = workbook.sheetnames, list(workbook["Microdonnées"].iter_rows(values_only=True))
    workbook.close()
    assert sheets == ["Microdonnées", "Dictionnaire"]
    assert (len(rows), rows[0][:3]) == (4, ("id", "synthetique", "soumis_le"))
    assert "[##############################] 100 % (3/3 lignes)" in out
    assert "(xlsx, 3 répondant(s))" in out


def test_export_campaign_without_respondents_says_the_file_has_only_the_header(campaign, tmp_path):
    output = tmp_path / "vide.csv"

    out = run("export_campaign", str(campaign.uuid), "--output", str(output))

    assert "le fichier ne contient que l'en-tête" in out
    assert len(output.read_text(encoding="utf-8").splitlines()) == 1


def test_export_campaign_refuses_an_unknown_campaign_or_format(campaign, tmp_path):
    output = tmp_path / "x.csv"

    with pytest.raises(CommandError, match="Aucune campagne n'a l'identifiant"):
        run("export_campaign", str(uuid.uuid4()), "--output", str(output))
    with pytest.raises(CommandError, match="invalid choice: 'ods'"):
        run("export_campaign", str(campaign.uuid), "--format", "ods", "--output", str(output))
    with pytest.raises(CommandError, match="--progress-every : un nombre entier positif"):
        run("export_campaign", str(campaign.uuid), "--output", str(output), "--progress-every", "0")
    assert not output.exists()


def test_export_campaign_into_a_missing_folder_fails_clearly(campaign, tmp_path):
    with pytest.raises(CommandError, match="Impossible d'écrire dans"):
        run("export_campaign", str(campaign.uuid), "--output", str(tmp_path / "absent" / "x.csv"))


def test_export_campaign_failing_halfway_leaves_no_file(campaign, respondents, tmp_path, monkeypatch):
    respondents(2)
    output = tmp_path / "x.xlsx"

    def broken(target, exporter):
        for sheet in exporter.sheets():
            list(sheet.rows)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("grille.studies.exporters.write_xlsx_to", broken)
    with pytest.raises(OSError):
        run("export_campaign", str(campaign.uuid), "--output", str(output))

    assert list(tmp_path.iterdir()) == []
