"""Reading the tables people upload: CSV as people really have them.

French Excel writes semicolons and Windows-1252, other tools commas or tabs and UTF-8
with or without a BOM, lists are pasted one address per line. Every problem is reported
with the line the user sees in a text editor or spreadsheet, in French, so that the file
can be corrected and sent again.

A value echoed in an error is made inert first (see :func:`shown`): a cell such as
``=HYPERLINK(...)`` is never handed back as something a spreadsheet would run.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from typing import NamedTuple

from django.utils.translation import gettext as _

from .writing import FORMULA_PREFIXES

MAX_UPLOAD_MB = 5
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
DELIMITERS = (";", "\t", ",")  # in order of preference when two fit equally: French Excel first
NO_DELIMITER = "\x00"  # decode_upload refuses NUL, so a one-column file is never split
SNIFF_ROWS = 200
SHOWN_MAX = 80

# Signatures of spreadsheet workbooks uploaded instead of a CSV export.
ZIP_MAGIC = b"PK\x03\x04"  # .xlsx, .ods
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # .xls

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
SPACES = re.compile(r"[\s\u00a0\u202f]+")  # thousands separators as French Excel writes them


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message, in French, tells the analyst what to do."""


@dataclass(frozen=True)
class LineError:
    """One problem on one line. ``value`` and ``column`` are already inert (see :func:`shown`)."""

    line: int
    value: str
    message: str
    column: str = ""

    def __str__(self) -> str:
        # shown() again: a caller may build a LineError from a raw value.
        if self.column:
            where = _("Ligne %(line)d, colonne « %(column)s »") % {"line": self.line, "column": shown(self.column)}
        else:
            where = _("Ligne %(line)d") % {"line": self.line}
        if self.value:
            return _("%(where)s : %(message)s (« %(value)s »)") % {
                "where": where,
                "message": self.message,
                "value": shown(self.value),
            }
        return _("%(where)s : %(message)s") % {"where": where, "message": self.message}


class Row(NamedTuple):
    """The cells of one CSV record (trimmed) and the line it starts on in the file."""

    line: int
    cells: list[str]


def shown(value: str) -> str:
    """A cell made safe to echo: one short line, and never a formula for a spreadsheet.

    Uses the export engine's rule (OWASP CSV injection): a leading apostrophe, which
    spreadsheets read as "this is text", so an error list exported again stays inert.
    """
    text = CONTROL.sub(" ", value)
    if len(text) > SHOWN_MAX:
        text = text[: SHOWN_MAX - 1] + "…"
    if text.startswith(FORMULA_PREFIXES):
        text = "'" + text
    return text


class LineErrors(list[LineError]):
    """The errors of one file, each value made inert on the way in."""

    def add(self, line: int, value: str, message: str, column: str = "") -> None:
        self.append(LineError(line, shown(value), message, shown(column)))

    def repeated_column(self, header: Row, name: str, first: int) -> None:
        self.add(header.line, name, _("colonne en double (déjà colonne %(n)d)") % {"n": first + 1}, name)

    def unnamed_values(self, rows: Iterable[Row], unnamed: list[int], width: int) -> None:
        """One error per column without a header that holds values, at its first value."""
        flagged: set[int] = set()
        for row in rows:
            for i, cell in enumerate(row.cells):
                if cell and (i in unnamed or i >= width) and i not in flagged:
                    flagged.add(i)
                    self.add(row.line, cell, _("valeur dans une colonne sans en-tête (colonne %(n)d)") % {"n": i + 1})

    def in_line_order(self) -> list[LineError]:
        return sorted(self, key=lambda error: error.line)


def decode_upload(raw: bytes) -> str:
    """The text of an uploaded file, with ``\\n`` line endings and no BOM.

    UTF-8 (with or without BOM) is tried first, then Windows-1252 (French Excel's
    « CSV (séparateur : point-virgule) »), then Latin-1, which never fails. UTF-16
    with a BOM (Excel's « Texte Unicode ») is read too. Workbooks, binary files,
    files over 5 Mo and files with nothing in them are refused with a message.
    """
    if len(raw) > MAX_UPLOAD_BYTES:
        raise ImportFileError(
            _("Le fichier est trop volumineux : la limite est de %(max)d Mo. Découpez-le en plusieurs fichiers.")
            % {"max": MAX_UPLOAD_MB}
        )
    if raw.startswith((ZIP_MAGIC, OLE_MAGIC)):
        raise ImportFileError(
            _(
                "Ce fichier est un classeur (Excel ou LibreOffice), pas un fichier CSV. Ouvrez-le et "
                "enregistrez-le au format « CSV UTF-8 » ou « CSV (séparateur : point-virgule) »."
            )
        )
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError:
            raise ImportFileError(_("Le fichier est illisible : enregistrez-le au format « CSV UTF-8 ».")) from None
    else:
        text = _decode_8bit(raw)
    if "\x00" in text:
        raise ImportFileError(
            _("Le fichier contient des caractères nuls : ce n'est pas un fichier texte. Enregistrez-le au format CSV.")
        )
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ImportFileError(_("Le fichier est vide."))
    return text


def _decode_8bit(raw: bytes) -> str:
    # A BOM before bytes that are not UTF-8 (files pasted together) must not become « ï»¿ ».
    raw = raw.removeprefix(codecs.BOM_UTF8)
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def sniff_rows(text: str) -> list[Row]:
    """The non-blank records of a CSV text, each with the line it starts on.

    The separator is the one among ``;``, tab and ``,`` that splits the most lines
    into the same number of cells (two at least); with none, each line is one cell.
    Quotes are honoured, so a quoted cell may hold a separator or a line break.
    Cells are trimmed; lines whose cells are all empty (``;;;``) are skipped.
    """
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    rows: list[Row] = []
    line = 1
    try:
        for record in reader:
            cells = [cell.strip() for cell in record]
            if any(cells):
                rows.append(Row(line, cells))
            line = reader.line_num + 1
    except csv.Error:
        raise ImportFileError(
            _(
                "Le fichier n'a pas pu être lu à partir de la ligne %(line)d : une cellule est trop "
                "longue, sans doute à cause d'un guillemet jamais refermé."
            )
            % {"line": line}
        ) from None
    return rows


def _sniff_delimiter(text: str) -> str:
    best, best_score = NO_DELIMITER, 0
    for delimiter in DELIMITERS:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
        try:
            widths = Counter(len(r) for r in islice((r for r in reader if any(c.strip() for c in r)), SNIFF_ROWS))
        except csv.Error:
            continue
        if not widths:
            return delimiter  # nothing but separators (« ;; »): a blank sheet saved by Excel
        width, score = widths.most_common(1)[0]
        if width >= 2 and score > best_score:
            best, best_score = delimiter, score
    return best


def header_key(name: str) -> str:
    """A header compared without case, accents, spaces or punctuation: « E-mail » → ``email``."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c))


def fold(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def read_rows(raw: bytes) -> list[Row]:
    rows = sniff_rows(decode_upload(raw))
    if not rows:
        raise ImportFileError(_("Le fichier est vide."))
    return rows


def cell(row: Row, index: int) -> str:
    return row.cells[index] if index < len(row.cells) else ""


def map_header(
    header: Row, roles: dict[str, tuple[str, ...]], required: Iterable[str], errors: LineErrors
) -> tuple[dict[str, int], list[int]]:
    """Which column plays which role, and the columns without a name.

    Unknown and repeated columns are errors on the header line; a missing required
    column makes the file unreadable.
    """
    columns: dict[str, int] = {}
    unnamed: list[int] = []
    accepted = ", ".join(name for names in roles.values() for name in names)
    for i, name in enumerate(header.cells):
        if not name:
            unnamed.append(i)
            continue
        role = next((r for r, names in roles.items() if header_key(name) in names), None)
        if role is None:
            message = _("colonne inconnue (colonnes acceptées : %(accepted)s)") % {"accepted": accepted}
            errors.add(header.line, name, message, name)
        elif role in columns:
            errors.repeated_column(header, name, columns[role])
        else:
            columns[role] = i
    missing = [role for role in required if role not in columns]
    if missing:
        raise ImportFileError(
            _("Il manque la colonne « %(missing)s ». La première ligne doit nommer les colonnes, par exemple : %(example)s.")
            % {
                "missing": " », « ".join(" ou ".join(roles[role]) for role in missing),
                "example": ";".join(roles[role][0] for role in required),
            }
        )
    return columns, unnamed


def without_spaces(value: str) -> str:
    """A number as typed, its thousands separators (spaces, non-breaking spaces) taken out."""
    return SPACES.sub("", value)


def code_problem(code: str) -> str | None:
    """Why a code cannot be kept as written, or None: a line break or an invisible character."""
    if CONTROL.search(code):
        return _("code illisible : il contient un retour à la ligne ou un caractère invisible (guillemet non refermé ?)")
    return None
