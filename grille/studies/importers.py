"""Reading the files analysts upload for a study: respondent lists and earlier waves.

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

import re
from collections import Counter
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from grille.core.tabular.emails import EmailImport, parse_email_list
from grille.core.tabular.reading import (
    ImportFileError,
    LineError,
    LineErrors,
    cell,
    code_problem,
    fold,
    header_key,
    map_header,
    read_rows,
    without_spaces,
)

# Respondent lists are read by the shared reader of address lists (invitations to an organisation use it too).
__all__ = ["EmailImport", "parse_email_list", "parse_wave_aggregates", "parse_wave_microdata"]

LEVELS = range(0, 4)  # Niveau de pratique: 0 « Je ne pratique pas » … 3 « C'est le cœur de mon activité »

ID_KEYS = {"id", "identifiant", "repondant", "idrepondant"}
# Role → accepted headers (compared by _key), the French name first: it is the one shown.
AGGREGATE_COLUMNS = {
    "item": ("item", "code"),
    "level": ("niveau", "level"),
    "count": ("effectif", "effectifs", "n", "count"),
    "label": ("libelle", "label"),
}

INTEGRAL = re.compile(r"\d+(?:[.,]0+)?")  # "2", and "2.0" as pandas writes a column holding NA
NOT_APPLICABLE = re.compile(r"na|n/a|nc|non concerne(?:e|·e|\(e\)|\.e)?")


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


# Earlier waves


def _is_missing(value: str) -> bool:
    return not value or NOT_APPLICABLE.fullmatch(fold(value)) is not None


def _integer(value: str) -> int | None:
    if value.isascii() and value.isdigit():
        return int(value)
    value = without_spaces(value)
    if not INTEGRAL.fullmatch(value):
        return None
    return int(re.split(r"[.,]", value)[0])


def _level(value: str, levels: range) -> int | None:
    level = _integer(value)
    return level if level is not None and level in levels else None


def _sorted_counts(counts: Counter[int]) -> Counter[int]:
    return Counter(dict(sorted(counts.items())))


def parse_wave_microdata(raw: bytes, *, levels: range = LEVELS) -> WaveData:
    """Counts per item and level from one row per respondent of an earlier wave.

    A header row names the columns: an optional respondent identifier (« id »,
    « identifiant », « repondant »), every other column an item code. A cell holds
    a level (0 to 3 by default), or is missing: empty, « NA », « NC », « non concerné ».
    """
    rows = read_rows(raw)
    header, data = rows[0], rows[1:]
    errors = LineErrors()
    id_index: int | None = None
    item_columns: dict[int, str] = {}
    unnamed: list[int] = []
    first_column: dict[str, int] = {}
    for i, name in enumerate(header.cells):
        if not name:
            unnamed.append(i)
        elif name in first_column:
            errors.repeated_column(header, name, first_column[name])
        elif header_key(name) in ID_KEYS:
            first_column[name] = i
            if id_index is None:
                id_index = i
            else:
                errors.repeated_column(header, name, id_index)
        elif problem := code_problem(name):
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
        if id_index is not None and (respondent := cell(row, id_index)):
            if respondent in seen_ids:
                message = _("identifiant en double (déjà ligne %(line)d)") % {"line": seen_ids[respondent]}
                errors.add(row.line, respondent, message, header.cells[id_index])
            else:
                seen_ids[respondent] = row.line
        for i, code in item_columns.items():
            value = cell(row, i)
            level = _level(value, levels)
            if level is not None:
                counts[code][level] += 1
            elif not _is_missing(value):
                errors.add(row.line, value, bad_value, code)
    errors.unnamed_values(data, unnamed, len(header.cells))
    items = {code: WaveItem(code, "", _sorted_counts(c)) for code, c in counts.items()}
    return WaveData(items=items, respondents=len(data), errors=errors.in_line_order())


def parse_wave_aggregates(raw: bytes, *, levels: range = LEVELS) -> WaveData:
    """Counts per item and level from a long table: ``item;niveau;effectif``, optionally ``libelle``.

    A level given twice for an item is an error, and so is a label that differs from
    the item's first one. Rows whose level is missing (« NA », « non concerné ») are
    left out, as missing answers are from microdata.
    """
    rows = read_rows(raw)
    header, data = rows[0], rows[1:]
    errors = LineErrors()
    columns, unnamed = map_header(header, AGGREGATE_COLUMNS, ("item", "level", "count"), errors)
    names = {role: header.cells[i] for role, i in columns.items()}
    bad_level = _("niveau non reconnu : attendu un nombre entier de %(min)d à %(max)d") % {
        "min": levels[0],
        "max": levels[-1],
    }
    counts: dict[str, Counter[int]] = {}
    labels: dict[str, tuple[str, int]] = {}  # item → its first label and line
    seen: dict[tuple[str, int], int] = {}
    for row in data:
        code = cell(row, columns["item"])
        raw_level = cell(row, columns["level"])
        raw_count = cell(row, columns["count"])
        label = cell(row, columns["label"]) if "label" in columns else ""
        if not code:
            errors.add(row.line, "", _("code d'item manquant"), names["item"])
            continue
        if problem := code_problem(code):
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

