"""Reading a list of e-mail addresses, as people really have them: respondent lists of a study,
invitations to an organisation in batches.

One address per line, or a CSV with either separator, in any common encoding, with or without a
header (grille.core.tabular.reading does the decoding and the splitting). Duplicates are compared
without case; every wrong line is named, its value made inert first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from .reading import (
    ImportFileError,
    LineError,
    LineErrors,
    Row,
    cell,
    decode_upload,
    header_key,
    sniff_rows,
)
from .writing import FORMULA_PREFIXES

EMAIL_MAX_LENGTH = 254  # RFC 5321 path limit, as Django's EmailField
EMAIL_HEADER_WORDS = ("mail", "courriel")  # « E-mail », « Adresse mail », « Courriel pro »…
EMAIL_HEADER_KEYS = {"mel", "adresseelectronique"}
ADDRESS_HEADER_KEYS = {"adresse", "adresses"}  # weaker: may be a postal address beside an e-mail column
PASTED_SEPARATORS = re.compile(r"[;,\t]")  # between the addresses a mail program lists on one line
NAMED_ADDRESS = re.compile(r"[^<>@]*<([^<>]+)>")  # « Jean Dupont <jean.dupont@exemple.fr> »


@dataclass(frozen=True)
class EmailImport:
    emails: list[str]  # normalised, in file order, each once
    errors: list[LineError]
    total_lines: int  # lines in the file, header and blank lines included
    column: str | None = None  # the header of the column read, None when the file has no header

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_email_list(raw: bytes) -> EmailImport:
    """The addresses of an uploaded or pasted list, and every line that is wrong.

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
    errors = LineErrors()
    seen: dict[str, int] = {}
    for row in data:
        value = cell(row, index)
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


def parse_pasted_addresses(text: str) -> EmailImport:
    """The addresses of a list pasted into a form, and every piece that is wrong.

    Pasted from a spreadsheet or one address per line, it is read like an uploaded file
    (:func:`parse_email_list`). Pasted from a mail program (« a@exemple.fr; Marie <b@exemple.fr>,
    c@exemple.fr », on one line or several), a line holds several addresses: then every piece
    between separators is one address, named by its line.
    """
    rows = sniff_rows(text.replace("\r\n", "\n").replace("\r", "\n"))
    if not any(sum("@" in cell for cell in row.cells) > 1 for row in rows):
        return parse_email_list(text.encode("utf-8"))
    emails: list[str] = []
    errors = LineErrors()
    seen: dict[str, int] = {}
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, line in enumerate(lines, 1):
        for piece in PASTED_SEPARATORS.split(line):
            value = piece.strip()
            if not value:
                continue
            email = _normalise_email(value)
            if email is None:
                errors.add(number, value, _("adresse invalide"))
            elif email in seen:
                errors.add(number, value, _("en double (déjà ligne %(line)d)") % {"line": seen[email]})
            else:
                seen[email] = number
                emails.append(email)
    return EmailImport(emails=emails, errors=errors.in_line_order(), total_lines=len(lines))


def _email_header_rank(cell: str) -> int | None:
    key = header_key(cell)
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
            return index, cell(first, index)
    return _column_with_at(rows), None


def _column_with_at(rows: list[Row]) -> int:
    width = max(len(row.cells) for row in rows)
    counts = [sum("@" in cell(row, i) for row in rows) for i in range(width)]
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
