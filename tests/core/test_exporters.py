"""The export engine: formula-safe CSV for French Excel, and XLSX whose text is never a formula."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pytest
from django.http import Http404

from grille.core.tabular.writing import (
    BOM,
    Exporter,
    Sheet,
    csv_response,
    safe_cell,
    sheet_title,
    write_csv,
    write_xlsx,
    write_xlsx_to,
    xlsx_response,
)

FORMULA = '=HYPERLINK("http://x","y")'


class ListExporter(Exporter):
    """An exporter over plain lists, as a test double of a real one."""

    def __init__(self, *sheets: Sheet, filename: str = "essai", csv_sheet: str | None = None):
        self._sheets = sheets
        self.filename = filename
        self.csv_sheet = csv_sheet

    def sheets(self):
        yield from self._sheets


def people_sheet(rows=None) -> Sheet:
    rows = rows if rows is not None else [["Camille", 3, 2.5, date(2026, 3, 1)], [FORMULA, -1, None, None]]
    return Sheet("Personnes", ["Nom", "Nombre", "Moyenne", "Date"], rows)


def csv_text(sheet: Sheet) -> str:
    return "".join(write_csv(sheet))


def read_back(content: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(content))


@pytest.mark.parametrize("text", ["=1+1", "+33 6 00", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1", FORMULA])
def test_safe_cell_prefixes_formula_starts_with_an_apostrophe(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Camille", "Camille"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (-3, -3),
        (2.5, 2.5),
        (Decimal("-1.25"), Decimal("-1.25")),
        (True, 1),
        (date(2026, 3, 1), "2026-03-01"),
        # UTC noon is 13:00 in Paris in winter: spreadsheets get the site's local time.
        (datetime(2026, 1, 15, 12, 0, 0, 123456, tzinfo=UTC), "2026-01-15 13:00:00"),
    ],
)
def test_safe_cell_keeps_plain_values(value, expected):
    assert safe_cell(value) == expected


def test_write_csv_starts_with_the_bom_and_uses_semicolons_and_crlf():
    chunks = list(write_csv(people_sheet()))

    assert chunks[0].startswith(BOM)
    assert chunks[0] == BOM + "Nom;Nombre;Moyenne;Date\r\n"
    assert "".join(chunks[1:]) == 'Camille;3;2,5;2026-03-01\r\n"\'=HYPERLINK(""http://x"",""y"")";-1;;\r\n'


def test_write_csv_can_use_a_comma_and_a_decimal_point():
    text = "".join(write_csv(people_sheet(), delimiter=",", decimal="."))

    assert text.splitlines()[1] == "Camille,3,2.5,2026-03-01"


def test_write_csv_round_trips_delimiters_quotes_and_newlines():
    tricky = ['Val "du" Lac; sud', "ligne 1\nligne 2", "-"]
    text = csv_text(Sheet("Essai", ["a", "b", "c"], [tricky]))

    rows = list(csv.reader(io.StringIO(text.removeprefix(BOM), newline=""), delimiter=";"))

    assert rows == [["a", "b", "c"], ['Val "du" Lac; sud', "ligne 1\nligne 2", "'-"]]


def test_write_csv_streams_rows_as_they_come():
    consumed = []

    def rows():
        for n in range(1000):
            consumed.append(n)
            yield [n]

    chunks = write_csv(Sheet("Gros", ["n"], rows()))
    first = next(chunks)

    assert first == BOM + "n\r\n"
    assert consumed == []
    second = next(chunks)
    read = len(consumed)
    assert second.count("\r\n") <= read < 1000
    assert second.count("\r\n") + sum(chunk.count("\r\n") for chunk in chunks) == 1000


def test_csv_response_streams_the_default_sheet_as_an_attachment():
    exporter = ListExporter(Sheet("À propos", ["x"], [["y"]]), people_sheet(), filename="équipe-2026", csv_sheet="personnes")

    response = csv_response(exporter)
    body = b"".join(response.streaming_content)

    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''%C3%A9quipe-2026-personnes.csv"
    assert body.startswith(b"\xef\xbb\xbfNom;Nombre;Moyenne;Date\r\n")


def test_csv_response_takes_the_first_sheet_or_the_one_named():
    exporter = ListExporter(Sheet("Résumé", ["x"], [["y"]]), people_sheet())

    first = b"".join(csv_response(exporter).streaming_content).decode("utf-8-sig")
    chosen = b"".join(csv_response(exporter, "personnes").streaming_content).decode("utf-8-sig")

    assert first == "x\r\ny\r\n"
    assert chosen.startswith("Nom;")


def test_csv_response_for_an_unknown_sheet_is_a_404():
    with pytest.raises(Http404):
        csv_response(ListExporter(people_sheet()), "inconnue")


def test_write_xlsx_keeps_a_formula_like_string_as_text():
    workbook = read_back(write_xlsx(ListExporter(people_sheet())))
    cell = workbook["Personnes"]["A3"]

    assert cell.value == FORMULA
    assert cell.data_type == "s"


def test_write_xlsx_writes_a_bold_header_and_typed_cells():
    when = datetime(2026, 7, 1, 8, 30, 15, 999, tzinfo=UTC)
    sheet = Sheet("Types", ["texte", "entier", "décimal", "date", "horodatage", "vide"],
                  [["a", 3, 2.5, date(2026, 3, 1), when, None]])

    ws = read_back(write_xlsx(ListExporter(sheet)))["Types"]

    assert [c.value for c in ws[1]] == ["texte", "entier", "décimal", "date", "horodatage", "vide"]
    assert all(c.font.bold for c in ws[1])
    assert [c.value for c in ws[2]][:5] == ["a", 3, 2.5, datetime(2026, 3, 1), datetime(2026, 7, 1, 10, 30, 15)]
    assert ws["F2"].value is None
    assert ws["A2"].font.bold is False
    assert ws.freeze_panes == "A2"


def test_write_xlsx_drops_characters_xml_cannot_hold():
    sheet = Sheet("Essai", ["note"], [["bip\x07 \x1bfin\ttab\nligne"]])

    ws = read_back(write_xlsx(ListExporter(sheet)))["Essai"]

    assert ws["A2"].value == "bip fin\ttab\nligne"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Plan d'action", "Plan d'action"),
        ("Coûts [2026]: a/b\\c*d?", "Coûts  2026   a b c d"),
        ("Une feuille au titre beaucoup trop long pour Excel", "Une feuille au titre beaucoup t"),
        ("'cité'", "cité"),
        ("[]", "Feuille"),
        ("History", "History 1"),
    ],
)
def test_sheet_title_follows_excel_rules(title, expected):
    assert sheet_title(title) == expected
    assert len(sheet_title(title)) <= 31


def test_write_xlsx_makes_sheet_titles_unique():
    long = "Une feuille au titre beaucoup trop long"
    exporter = ListExporter(Sheet("Équipe", ["a"], []), Sheet("équipe", ["a"], []), Sheet(long, ["a"], []), Sheet(long, ["a"], []))

    workbook = read_back(write_xlsx(exporter))

    assert workbook.sheetnames == ["Équipe", "équipe (2)", "Une feuille au titre beaucoup t", "Une feuille au titre beauco (2)"]


def test_write_xlsx_to_writes_every_row_of_a_large_sheet_to_a_file(tmp_path):
    rows = ([n, f"ligne {n}"] for n in range(5000))
    path = tmp_path / "gros.xlsx"

    write_xlsx_to(str(path), ListExporter(Sheet("Gros", ["n", "texte"], rows)))

    workbook = openpyxl.load_workbook(path, read_only=True)
    values = list(workbook["Gros"].values)
    workbook.close()  # read-only mode keeps the file open
    assert len(values) == 5001
    assert values[-1] == (4999, "ligne 4999")


def test_xlsx_response_is_an_attachment():
    response = xlsx_response(ListExporter(people_sheet(), filename="équipe-2026"))

    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''%C3%A9quipe-2026.xlsx"
    assert read_back(response.content).sheetnames == ["Personnes"]
