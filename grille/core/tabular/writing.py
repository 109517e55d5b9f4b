"""The one export engine: an exporter yields sheets, the engine writes CSV or XLSX.

An exporter knows *what* to export (a header and rows per sheet, rows as
iterables so that large exports stream); this module knows *how*: cells made
safe for spreadsheets, UTF-8 with a BOM and semicolons for French Excel, XLSX
written by openpyxl in write-only mode. Team exports and study microdata and
aggregates go through it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import IO, Any

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify

# openpyxl is imported where an XLSX is written: a web worker that serves no XLSX does not load
# it (issue 16; tests/core/test_lazy_imports.py).

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"

# OWASP CSV injection guidance: a cell starting with one of these may be run as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 (hence XLSX) cannot hold; openpyxl refuses them.
ILLEGAL_XLSX_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
EXCEL_CELL_MAX = 32767
SHEET_TITLE_MAX = 31
INVALID_SHEET_TITLE = re.compile(r"[\[\]:*?/\\]")
CSV_CHUNK_ROWS = 200
COLUMN_WIDTH_MIN, COLUMN_WIDTH_MAX = 10, 60


@dataclass(frozen=True)
class Sheet:
    """A header row and the rows under it. ``name`` is the stable slug used to pick a sheet as CSV."""

    title: str
    header: list[str]
    rows: Iterable[Sequence[Any]]
    name: str = ""
    widths: Sequence[int] | None = None  # XLSX column widths in characters; guessed from the header if None

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", slugify(self.title) or "feuille")


class Exporter:
    """Base class of every export: a file name stem and the sheets."""

    filename: str = "export"
    # The sheet written when CSV is asked for without naming one (None: the first).
    csv_sheet: str | None = None

    def sheets(self) -> Iterable[Sheet]:
        raise NotImplementedError

    def sheet(self, name: str | None = None) -> Sheet:
        """One sheet by name, the CSV default otherwise; an unknown name is a 404."""
        wanted = name or self.csv_sheet
        for sheet in self.sheets():
            if wanted is None or sheet.name == wanted:
                return sheet
        raise Http404(f"No sheet {wanted!r}")


def _local_naive(value: datetime) -> datetime:
    # Spreadsheets have no time zones: show the site's local time.
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.replace(tzinfo=None, microsecond=0)


def safe_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet never runs as a formula; numbers stay numbers.

    Dates become ISO 8601 text (date and time separated by a space, in local time,
    which spreadsheets read as a date), ``None`` an empty cell.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime):
        return _local_naive(value).isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose write() hands the line back, so csv.writer can stream."""

    def write(self, value: str) -> str:
        return value


def write_csv(sheet: Sheet, *, delimiter: str = ";", decimal: str = ",") -> Iterator[str]:
    """Stream one sheet as CSV: BOM first, CRLF line endings, formula-safe cells.

    The semicolon and the decimal comma go together: they are what French Excel
    (and R's read.csv2) expect.
    """
    writer = csv.writer(_Echo(), delimiter=delimiter, lineterminator="\r\n")

    def cell(value: Any) -> Any:
        # Most cells of a large export are small integers and codes, safe as they are: skip
        # safe_cell's chain of isinstance checks for them (a quarter of the time of a microdata CSV).
        kind = type(value)
        if kind is int or (kind is str and not value.startswith(FORMULA_PREFIXES)):
            return value
        value = safe_cell(value)
        if decimal != "." and isinstance(value, float | Decimal):
            return str(value).replace(".", decimal)
        return value

    yield BOM + writer.writerow([cell(v) for v in sheet.header])
    chunk: list[str] = []
    for row in sheet.rows:
        chunk.append(writer.writerow([cell(v) for v in row]))
        if len(chunk) >= CSV_CHUNK_ROWS:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


def csv_response(exporter: Exporter, sheet: str | None = None) -> StreamingHttpResponse:
    """A streamed CSV download of one sheet (``exporter.csv_sheet`` by default)."""
    chosen = exporter.sheet(sheet)
    response = StreamingHttpResponse(write_csv(chosen), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, f"{exporter.filename}-{chosen.name}.csv")
    return response


def sheet_title(title: str, taken: Iterable[str] = ()) -> str:
    """A title Excel accepts: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    clean = INVALID_SHEET_TITLE.sub(" ", title).strip().strip("'").strip() or "Feuille"
    if clean.lower() == "history":  # reserved by Excel
        clean = f"{clean} 1"
    taken_lower = {t.lower() for t in taken}
    candidate, n = clean[:SHEET_TITLE_MAX], 1
    while candidate.lower() in taken_lower:
        n += 1
        suffix = f" ({n})"
        candidate = clean[: SHEET_TITLE_MAX - len(suffix)] + suffix
    return candidate


def _xlsx_value(worksheet: Any, value: Any) -> Any:  # openpyxl ships no types
    # Plain text that openpyxl cannot take for a formula goes in as it is: a cell object per
    # code would double the time of a large export.
    if type(value) is str and value and not value.startswith("=") and len(value) <= EXCEL_CELL_MAX \
            and not ILLEGAL_XLSX_CHARACTERS.search(value):
        return value
    if isinstance(value, datetime):
        return _local_naive(value)
    if value is None or isinstance(value, int | float | Decimal | date | time):
        return value
    text = ILLEGAL_XLSX_CHARACTERS.sub("", str(value))[:EXCEL_CELL_MAX]
    if not text:
        return None
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(worksheet, text)
    # Set after the value: openpyxl would otherwise take "=..." for a formula.
    cell.data_type = "s"
    return cell


def write_xlsx_to(target: str | IO[bytes], exporter: Exporter) -> None:
    """Write every sheet of the exporter to a path or binary file, row by row (write-only mode)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    titles: list[str] = []
    for sheet in exporter.sheets():
        title = sheet_title(sheet.title, titles)
        titles.append(title)
        worksheet = workbook.create_sheet(title=title)
        widths = sheet.widths or [len(h) + 2 for h in sheet.header]
        for index, width in enumerate(widths, start=1):
            clamped = max(COLUMN_WIDTH_MIN, min(COLUMN_WIDTH_MAX, width))
            worksheet.column_dimensions[get_column_letter(index)].width = clamped
        worksheet.freeze_panes = "A2"
        header = []
        for label in sheet.header:
            cell = WriteOnlyCell(worksheet, ILLEGAL_XLSX_CHARACTERS.sub("", str(label)))
            cell.data_type = "s"
            cell.font = bold
            header.append(cell)
        worksheet.append(header)
        for row in sheet.rows:
            worksheet.append([_xlsx_value(worksheet, v) for v in row])
    if not titles:
        workbook.create_sheet(title="Feuille")
    workbook.save(target)


def write_xlsx(exporter: Exporter) -> bytes:
    """The whole workbook in memory; for very large exports prefer write_xlsx_to a temporary file."""
    buffer = io.BytesIO()
    write_xlsx_to(buffer, exporter)
    return buffer.getvalue()


def xlsx_response(exporter: Exporter) -> HttpResponse:
    response = HttpResponse(write_xlsx(exporter), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, f"{exporter.filename}.xlsx")
    return response

