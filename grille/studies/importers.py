"""Reading the files analysts upload for a study: respondent lists, earlier waves, crosswalks.

Pure functions from bytes to plain objects, no database: the services decide what
to save. Files come "as people really have them": French Excel writes semicolons
and Windows-1252, other tools commas or tabs and UTF-8 with or without a BOM,
lists are pasted one address per line. Every problem is reported with the line
the analyst sees in a text editor or spreadsheet, in French, so that the file
can be corrected and sent again; the services refuse an import with any error,
so nothing is ever half-imported.

A value echoed in an error is made inert first (see :func:`shown`): a cell such
as ``=HYPERLINK(...)`` is never handed back as something a spreadsheet would run.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from grille.core.exporters import FORMULA_PREFIXES

MAX_UPLOAD_MB = 5
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
EMAIL_MAX_LENGTH = 254  # RFC 5321 path limit, as Django's EmailField
LEVELS = range(0, 4)  # Niveau de pratique: 0 « Je ne pratique pas » … 3 « C'est le cœur de mon activité »

DELIMITERS = (";", "\t", ",")  # in order of preference when two fit equally: French Excel first
NO_DELIMITER = "\x00"  # decode_upload refuses NUL, so a one-column file is never split
SNIFF_ROWS = 200
SHOWN_MAX = 80

# Signatures of spreadsheet workbooks uploaded instead of a CSV export.
ZIP_MAGIC = b"PK\x03\x04"  # .xlsx, .ods
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # .xls

EMAIL_HEADER_WORDS = ("mail", "courriel")  # « E-mail », « Adresse mail », « Courriel pro »…
EMAIL_HEADER_KEYS = {"mel", "adresseelectronique"}
ADDRESS_HEADER_KEYS = {"adresse", "adresses"}  # weaker: may be a postal address beside an e-mail column
ID_KEYS = {"id", "identifiant", "repondant", "idrepondant"}
# Role → accepted headers (compared by _key), the French name first: it is the one shown.
AGGREGATE_COLUMNS = {
    "item": ("item", "code"),
    "level": ("niveau", "level"),
    "count": ("effectif", "effectifs", "n", "count"),
    "label": ("libelle", "label"),
}
CROSSWALK_COLUMNS = {
    "source": ("source",),
    "target": ("cible", "target"),
    "weight": ("poids", "weight"),
}

INTEGRAL = re.compile(r"\d+(?:[.,]0+)?")  # "2", and "2.0" as pandas writes a column holding NA
DECIMAL = re.compile(r"\d+(?:[.,]\d+)?|[.,]\d+")
SPACES = re.compile(r"[\s\u00a0\u202f]+")  # thousands separators as French Excel writes them
NAMED_ADDRESS = re.compile(r"[^<>@]*<([^<>]+)>")  # « Jean Dupont <jean.dupont@exemple.fr> »
PRACTICE_CODE_WITH_COMMA = re.compile(r"\d+,\d+")  # 1.1 read back by French Excel as the number 1,1
NOT_APPLICABLE = re.compile(r"na|n/a|nc|non concerne(?:e|·e|\(e\)|\.e)?")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


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


@dataclass(frozen=True)
class EmailImport:
    emails: list[str]  # normalised, in file order, each once
    errors: list[LineError]
    total_lines: int  # lines in the file, header and blank lines included
    column: str | None = None  # the header of the column read, None when the file has no header

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class WaveItem:
    code: str
    label: str
    counts: Counter[int]  # level → respondents, levels in increasing order; missing answers left out


@dataclass(frozen=True)
class WaveData:
    items: dict[str, WaveItem]  # in file order
    respondents: int | None  # None for aggregates, which do not say it
    errors: list[LineError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class CrosswalkPair(NamedTuple):
    source: str
    target: str
    weight: Decimal
    line: int  # so that a caller checking codes against the database can point at the line


@dataclass(frozen=True)
class Crosswalk:
    pairs: list[CrosswalkPair]  # in file order
    unmapped_sources: set[str]  # « non comparable »: earlier items with no counterpart
    errors: list[LineError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


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


class _Errors(list[LineError]):
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


def _key(name: str) -> str:
    """A header compared without case, accents, spaces or punctuation: « E-mail » → ``email``."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c))


def _fold(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def _read(raw: bytes) -> list[Row]:
    rows = sniff_rows(decode_upload(raw))
    if not rows:
        raise ImportFileError(_("Le fichier est vide."))
    return rows


def _cell(row: Row, index: int) -> str:
    return row.cells[index] if index < len(row.cells) else ""


# Respondent lists


def parse_email_list(raw: bytes) -> EmailImport:
    """The addresses of an uploaded respondent list, and every line that is wrong.

    One address per line, or a CSV: with a header, the column named like
    « email », « e-mail », « courriel », « mail » or « adresse » is read; without
    one, the first column holding an ``@`` on most lines. Addresses are trimmed and
    lower-cased; « Jean Dupont <jean.dupont@exemple.fr> » gives the address inside.
    Blank lines are skipped; a line with other cells but no address is an error,
    so that nobody silently drops out of a study sample.
    """
    text = decode_upload(raw)
    rows = sniff_rows(text)
    if not rows:
        raise ImportFileError(_("Le fichier est vide."))
    total_lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    index, header = _email_column(rows)
    data = rows[1:] if header is not None else rows
    if not data:
        raise ImportFileError(_("Le fichier ne contient aucune adresse, seulement une ligne d'en-tête."))
    column = header or ""
    emails: list[str] = []
    errors = _Errors()
    seen: dict[str, int] = {}
    for row in data:
        value = _cell(row, index)
        if not value:
            errors.add(row.line, "", _("adresse manquante"), column)
            continue
        email = _normalise_email(value)
        if email is None:
            errors.add(row.line, value, _("adresse invalide"), column)
        elif email in seen:
            errors.add(row.line, value, _("en double (déjà ligne %(line)d)") % {"line": seen[email]}, column)
        else:
            seen[email] = row.line
            emails.append(email)
    return EmailImport(emails=emails, errors=list(errors), total_lines=total_lines, column=header)


def _email_header_rank(cell: str) -> int | None:
    key = _key(cell)
    if any(word in key for word in EMAIL_HEADER_WORDS) or key in EMAIL_HEADER_KEYS:
        return 0
    if key in ADDRESS_HEADER_KEYS:
        return 1
    return None


def _email_column(rows: list[Row]) -> tuple[int, str | None]:
    """The index of the address column, and its header if the first row is one."""
    first = rows[0]
    if not any("@" in cell for cell in first.cells):
        ranked = sorted(
            (rank, i) for i, cell in enumerate(first.cells) if (rank := _email_header_rank(cell)) is not None
        )
        if ranked:
            index = ranked[0][1]
            return index, first.cells[index]
        if len(first.cells) > 1 and len(rows) > 1:
            # A header we do not recognise (« Contact »): no data row of a
            # several-column list lacks an @ everywhere.
            index = _column_with_at(rows[1:])
            return index, _cell(first, index)
    return _column_with_at(rows), None


def _column_with_at(rows: list[Row]) -> int:
    width = max(len(row.cells) for row in rows)
    counts = [sum("@" in _cell(row, i) for row in rows) for i in range(width)]
    for i, count in enumerate(counts):
        if count * 2 > len(rows):
            return i
    return counts.index(max(counts))


def _normalise_email(value: str) -> str | None:
    """The address, trimmed and lower-cased, or None if it is not one we would send to."""
    if value.startswith(FORMULA_PREFIXES):
        return None
    named = NAMED_ADDRESS.fullmatch(value)
    email = (named.group(1) if named else value).strip().lower()
    if len(email) > EMAIL_MAX_LENGTH or email.startswith(FORMULA_PREFIXES):
        return None
    try:
        validate_email(email)
    except ValidationError:
        return None
    return email


# Earlier waves


def _is_missing(value: str) -> bool:
    return not value or NOT_APPLICABLE.fullmatch(_fold(value)) is not None


def _integer(value: str) -> int | None:
    if value.isascii() and value.isdigit():
        return int(value)
    value = SPACES.sub("", value)
    if not INTEGRAL.fullmatch(value):
        return None
    return int(re.split(r"[.,]", value)[0])


def _level(value: str, levels: range) -> int | None:
    level = _integer(value)
    return level if level is not None and level in levels else None


def _code_problem(code: str) -> str | None:
    if CONTROL.search(code):
        return _("code illisible : il contient un retour à la ligne ou un caractère invisible (guillemet non refermé ?)")
    return None


def _sorted_counts(counts: Counter[int]) -> Counter[int]:
    return Counter(dict(sorted(counts.items())))


def parse_wave_microdata(raw: bytes, *, levels: range = LEVELS) -> WaveData:
    """Counts per item and level from one row per respondent of an earlier wave.

    A header row names the columns: an optional respondent identifier (« id »,
    « identifiant », « repondant »), every other column an item code. A cell holds
    a level (0 to 3 by default), or is missing: empty, « NA », « NC », « non concerné ».
    """
    rows = _read(raw)
    header, data = rows[0], rows[1:]
    errors = _Errors()
    id_index: int | None = None
    item_columns: dict[int, str] = {}
    unnamed: list[int] = []
    first_column: dict[str, int] = {}
    for i, name in enumerate(header.cells):
        if not name:
            unnamed.append(i)
        elif name in first_column:
            errors.repeated_column(header, name, first_column[name])
        elif _key(name) in ID_KEYS:
            first_column[name] = i
            if id_index is None:
                id_index = i
            else:
                errors.repeated_column(header, name, id_index)
        elif problem := _code_problem(name):
            errors.add(header.line, name, problem)
        else:
            first_column[name] = i
            item_columns[i] = name
    if not item_columns:
        raise ImportFileError(
            _("Aucune colonne d'item : la première ligne doit donner les codes des items (par exemple Q1;Q2;Q3).")
        )
    bad_value = _("valeur non reconnue : attendu un niveau de %(min)d à %(max)d, ou vide, NA, NC, non concerné") % {
        "min": levels[0],
        "max": levels[-1],
    }
    counts: dict[str, Counter[int]] = {code: Counter() for code in item_columns.values()}
    seen_ids: dict[str, int] = {}
    for row in data:
        if id_index is not None and (respondent := _cell(row, id_index)):
            if respondent in seen_ids:
                message = _("identifiant en double (déjà ligne %(line)d)") % {"line": seen_ids[respondent]}
                errors.add(row.line, respondent, message, header.cells[id_index])
            else:
                seen_ids[respondent] = row.line
        for i, code in item_columns.items():
            value = _cell(row, i)
            level = _level(value, levels)
            if level is not None:
                counts[code][level] += 1
            elif not _is_missing(value):
                errors.add(row.line, value, bad_value, code)
    errors.unnamed_values(data, unnamed, len(header.cells))
    items = {code: WaveItem(code, "", _sorted_counts(c)) for code, c in counts.items()}
    return WaveData(items=items, respondents=len(data), errors=errors.in_line_order())


def _map_header(
    header: Row, roles: dict[str, tuple[str, ...]], required: Iterable[str], errors: _Errors
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
        role = next((r for r, names in roles.items() if _key(name) in names), None)
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


def parse_wave_aggregates(raw: bytes, *, levels: range = LEVELS) -> WaveData:
    """Counts per item and level from a long table: ``item;niveau;effectif``, optionally ``libelle``.

    A level given twice for an item is an error, and so is a label that differs from
    the item's first one. Rows whose level is missing (« NA », « non concerné ») are
    left out, as missing answers are from microdata.
    """
    rows = _read(raw)
    header, data = rows[0], rows[1:]
    errors = _Errors()
    columns, unnamed = _map_header(header, AGGREGATE_COLUMNS, ("item", "level", "count"), errors)
    names = {role: header.cells[i] for role, i in columns.items()}
    bad_level = _("niveau non reconnu : attendu un nombre entier de %(min)d à %(max)d") % {
        "min": levels[0],
        "max": levels[-1],
    }
    counts: dict[str, Counter[int]] = {}
    labels: dict[str, tuple[str, int]] = {}  # item → its first label and line
    seen: dict[tuple[str, int], int] = {}
    for row in data:
        code = _cell(row, columns["item"])
        raw_level = _cell(row, columns["level"])
        raw_count = _cell(row, columns["count"])
        label = _cell(row, columns["label"]) if "label" in columns else ""
        if not code:
            errors.add(row.line, "", _("code d'item manquant"), names["item"])
            continue
        if problem := _code_problem(code):
            errors.add(row.line, code, problem, names["item"])
            continue
        counts.setdefault(code, Counter())
        if label and labels.setdefault(code, (label, row.line))[0] != label:
            message = _("libellé différent de celui de la ligne %(line)d") % {"line": labels[code][1]}
            errors.add(row.line, label, message, names["label"])
        if _is_missing(raw_level):
            continue
        level = _level(raw_level, levels)
        count = _integer(raw_count)
        if level is None:
            errors.add(row.line, raw_level, bad_level, names["level"])
        if count is None:
            message = _("effectif non reconnu : attendu un nombre entier, positif ou nul")
            errors.add(row.line, raw_count, message, names["count"])
        if level is None or count is None:
            continue
        if (code, level) in seen:
            message = _("niveau déjà donné pour cet item ligne %(line)d") % {"line": seen[code, level]}
            errors.add(row.line, raw_level, message, names["level"])
            continue
        seen[code, level] = row.line
        counts[code][level] = count
    errors.unnamed_values(data, unnamed, len(header.cells))
    items = {code: WaveItem(code, labels.get(code, ("", 0))[0], _sorted_counts(c)) for code, c in counts.items()}
    return WaveData(items=items, respondents=None, errors=errors.in_line_order())


# Crosswalks


def _weight(value: str) -> Decimal | None:
    value = SPACES.sub("", value)
    if not DECIMAL.fullmatch(value):
        return None
    weight = Decimal(value.replace(",", "."))
    return weight if weight > 0 else None


def parse_crosswalk(raw: bytes) -> Crosswalk:
    """The pairs of a correspondence table from an earlier wave's items to practices.

    Columns ``source`` (earlier item code), ``cible`` or ``target`` (practice code,
    such as 1.1) and an optional ``poids`` or ``weight`` (1 when empty; a decimal
    comma is fine). A source repeated with several targets maps one-to-many, several
    sources with one target many-to-one; a source with an empty target is « non
    comparable », and cannot also have a target.
    """
    rows = _read(raw)
    header, data = rows[0], rows[1:]
    errors = _Errors()
    columns, unnamed = _map_header(header, CROSSWALK_COLUMNS, ("source", "target"), errors)
    names = {role: header.cells[i] for role, i in columns.items()}
    pairs: list[CrosswalkPair] = []
    unmapped: dict[str, int] = {}  # source → line
    mapped: dict[str, tuple[str, int]] = {}  # source → its first target and line
    seen: dict[tuple[str, str], int] = {}
    for row in data:
        source = _cell(row, columns["source"])
        target = _cell(row, columns["target"])
        raw_weight = _cell(row, columns["weight"]) if "weight" in columns else ""
        if PRACTICE_CODE_WITH_COMMA.fullmatch(target):
            target = target.replace(",", ".")
        if not source:
            errors.add(row.line, "", _("code source manquant"), names["source"])
            continue
        if problem := _code_problem(source):
            errors.add(row.line, source, problem, names["source"])
            continue
        if problem := _code_problem(target):
            errors.add(row.line, target, problem, names["target"])
            continue
        weight = _weight(raw_weight) if raw_weight else Decimal(1)
        if weight is None:
            message = _("poids non reconnu : attendu un nombre strictement positif, par exemple 1 ou 0,5")
            errors.add(row.line, raw_weight, message, names["weight"])
            continue
        if (source, target) in seen:
            message = _("correspondance en double (déjà ligne %(line)d)") % {"line": seen[source, target]}
            errors.add(row.line, source, message, names["source"])
            continue
        seen[source, target] = row.line
        if not target and source in mapped:
            first_target, line = mapped[source]
            message = _("marqué non comparable, mais associé à « %(target)s » ligne %(line)d") % {
                "target": shown(first_target),
                "line": line,
            }
            errors.add(row.line, source, message, names["source"])
        elif target and source in unmapped:
            message = _("associé à « %(target)s », mais marqué non comparable ligne %(line)d") % {
                "target": shown(target),
                "line": unmapped[source],
            }
            errors.add(row.line, source, message, names["source"])
        elif not target:
            unmapped[source] = row.line
        else:
            mapped.setdefault(source, (target, row.line))
            pairs.append(CrosswalkPair(source, target, weight, row.line))
    errors.unnamed_values(data, unnamed, len(header.cells))
    return Crosswalk(pairs=pairs, unmapped_sources=set(unmapped), errors=errors.in_line_order())
