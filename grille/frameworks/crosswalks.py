"""Correspondence tables between framework versions, and reading a profile through one.

A crosswalk says how the practices of one version (the source: an earlier grid, another
référentiel, the items of an earlier study wave) read as practices of another (the target).
A source practice may feed several targets (one-to-many) and several sources one target
(many-to-one), each link with a weight. A target practice is then read as the weighted mean
of the level values of its sources.

Files are CSV (``source;cible;poids``, read as every uploaded table is, so French Excel files
and line-numbered errors behave alike) or YAML (a list ``correspondances`` of
``{source, cible, poids}``); both formats go through the same rules. A file with any error
is refused whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from statistics import fmean
from typing import NamedTuple

import yaml
from django.db import transaction
from django.utils.translation import gettext as _

from grille.core.tabular.reading import (
    ImportFileError,
    LineError,
    LineErrors,
    Row,
    cell,
    code_problem,
    decode_upload,
    map_header,
    read_rows,
    shown,
    without_spaces,
)

from . import grid as g
from .models import CROSSWALK_NAME_MAX, Crosswalk, CrosswalkEntry, FrameworkVersion
from .selectors import get_grid

CSV_SUFFIXES = {".csv", ".txt"}
YAML_SUFFIXES = {".yaml", ".yml", ".json"}
YAML_LIST_KEY = "correspondances"
YAML_ENTRY_KEYS = ("source", "cible", "poids")
# Role → accepted CSV headers (compared without case or accents), the French name first: it is the one shown.
CSV_COLUMNS = {
    "source": ("source",),
    "target": ("cible", "target"),
    "weight": ("poids", "weight"),
}
DECIMAL = re.compile(r"\d+(?:[.,]\d+)?|[.,]\d+")
PRACTICE_CODE_WITH_COMMA = re.compile(r"\d+,\d+")  # 1.1 read back by French Excel as the number 1,1
# CrosswalkEntry.weight holds 6 digits, 3 of them decimals.
WEIGHT_MAX = Decimal(1000)
WEIGHT_STEP = Decimal("0.001")


class CrosswalkFileError(ValueError):
    """The crosswalk was refused and nothing saved; ``errors`` names each line to correct."""

    def __init__(self, message: str, errors: list[LineError] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class CrosswalkPair(NamedTuple):
    source: str
    target: str
    weight: Decimal
    line: int  # so that a caller checking codes against the database can point at the line


@dataclass(frozen=True)
class ParsedCrosswalk:
    pairs: list[CrosswalkPair]  # in file order
    unmapped_sources: set[str]  # « non comparable »: source codes with no counterpart
    errors: list[LineError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class UnknownCodeMessages:
    """What an unknown code is called in the errors, for callers that name the versions their own way."""

    source: str
    target: str


# --- Reading files ---------------------------------------------------------------------------


class _Entry(NamedTuple):
    """One correspondence as the file writes it, CSV row or YAML item, before any rule."""

    line: int
    source: str
    target: str
    weight: str  # empty: 1


@dataclass(frozen=True)
class _Columns:
    """How errors name the columns: the CSV's own headers, or the YAML keys."""

    source: str = "source"
    target: str = "cible"
    weight: str = "poids"


def _csv_entries(rows: list[Row], errors: LineErrors) -> tuple[list[_Entry], _Columns]:
    header, data = rows[0], rows[1:]
    columns, unnamed = map_header(header, CSV_COLUMNS, ("source", "target"), errors)
    errors.unnamed_values(data, unnamed, len(header.cells))
    names = _Columns(
        source=header.cells[columns["source"]],
        target=header.cells[columns["target"]],
        weight=header.cells[columns["weight"]] if "weight" in columns else "",
    )
    entries = [
        _Entry(
            row.line,
            cell(row, columns["source"]),
            cell(row, columns["target"]),
            cell(row, columns["weight"]) if "weight" in columns else "",
        )
        for row in data
    ]
    return entries, names


def _yaml_items(text: str) -> list[tuple[int, object]]:
    """The items of a YAML crosswalk, each with the line it starts on."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        items = root
        if isinstance(root, yaml.MappingNode):
            keys = {loader.construct_object(key): value for key, value in root.value}
            unknown = sorted(str(k) for k in keys if k != YAML_LIST_KEY)
            if unknown:
                raise ImportFileError(
                    _("Racine : champ inconnu « %(key)s » (seul « %(ok)s » est attendu).")
                    % {"key": shown(unknown[0]), "ok": YAML_LIST_KEY}
                )
            items = keys.get(YAML_LIST_KEY)
        if not isinstance(items, yaml.SequenceNode):
            raise ImportFileError(
                _("Le fichier doit contenir une liste « %(key)s » de correspondances {source, cible, poids}.")
                % {"key": YAML_LIST_KEY}
            )
        return [(item.start_mark.line + 1, loader.construct_object(item, deep=True)) for item in items.value]
    except yaml.YAMLError as exc:
        raise ImportFileError(_("Fichier mal formé : %(err)s") % {"err": exc}) from exc
    finally:
        loader.dispose()


def _yaml_text(value: object, *, code: bool) -> str:
    if value is None or (code and isinstance(value, bool)):
        return ""
    return str(value).strip()


def _yaml_entries(text: str, errors: LineErrors) -> tuple[list[_Entry], _Columns]:
    entries: list[_Entry] = []
    for line, item in _yaml_items(text):
        if not isinstance(item, dict):
            errors.add(line, "", _("une correspondance {source, cible, poids} est attendue"))
            continue
        unknown = sorted(str(k) for k in item if k not in YAML_ENTRY_KEYS)
        if unknown:
            errors.add(line, unknown[0], _("champ inconnu (champs possibles : %(ok)s)") % {"ok": ", ".join(YAML_ENTRY_KEYS)})
            continue
        entries.append(
            _Entry(
                line,
                _yaml_text(item.get("source"), code=True),
                _yaml_text(item.get("cible"), code=True),
                _yaml_text(item.get("poids"), code=False),
            )
        )
    return entries, _Columns()


def _weight(value: str) -> Decimal | None:
    value = without_spaces(value)
    if not DECIMAL.fullmatch(value):
        return None
    weight = Decimal(value.replace(",", "."))
    return weight if weight > 0 else None


def _pairs(entries: Iterable[_Entry], names: _Columns, errors: LineErrors) -> ParsedCrosswalk:
    """The rules every crosswalk file follows, whatever its format."""
    pairs: list[CrosswalkPair] = []
    unmapped: dict[str, int] = {}  # source → line
    mapped: dict[str, tuple[str, int]] = {}  # source → its first target and line
    seen: dict[tuple[str, str], int] = {}
    for line, source, target, raw_weight in entries:
        if PRACTICE_CODE_WITH_COMMA.fullmatch(target):
            target = target.replace(",", ".")
        if not source:
            errors.add(line, "", _("code source manquant"), names.source)
            continue
        if problem := code_problem(source):
            errors.add(line, source, problem, names.source)
            continue
        if problem := code_problem(target):
            errors.add(line, target, problem, names.target)
            continue
        weight = _weight(raw_weight) if raw_weight else Decimal(1)
        if weight is None:
            message = _("poids non reconnu : attendu un nombre strictement positif, par exemple 1 ou 0,5")
            errors.add(line, raw_weight, message, names.weight)
            continue
        if (source, target) in seen:
            message = _("correspondance en double (déjà ligne %(line)d)") % {"line": seen[source, target]}
            errors.add(line, source, message, names.source)
            continue
        seen[source, target] = line
        if not target and source in mapped:
            first_target, first_line = mapped[source]
            message = _("marqué non comparable, mais associé à « %(target)s » ligne %(line)d") % {
                "target": shown(first_target),
                "line": first_line,
            }
            errors.add(line, source, message, names.source)
        elif target and source in unmapped:
            message = _("associé à « %(target)s », mais marqué non comparable ligne %(line)d") % {
                "target": shown(target),
                "line": unmapped[source],
            }
            errors.add(line, source, message, names.source)
        elif not target:
            unmapped[source] = line
        else:
            mapped.setdefault(source, (target, line))
            pairs.append(CrosswalkPair(source, target, weight, line))
    return ParsedCrosswalk(pairs=pairs, unmapped_sources=set(unmapped), errors=errors.in_line_order())


def parse_crosswalk(raw: bytes, filename: str = "") -> ParsedCrosswalk:
    """The pairs of a correspondence table: YAML when ``filename`` ends so, CSV otherwise.

    CSV columns are ``source``, ``cible`` (or ``target``) and an optional ``poids`` (or
    ``weight``); a YAML file is a list ``correspondances`` of ``{source, cible, poids}``.
    The weight is 1 when left empty, and a decimal comma is fine. A source repeated with
    several targets maps one-to-many, several sources with one target many-to-one; a source
    with an empty target is « non comparable », and cannot also have a target. A file that
    cannot be read at all raises :class:`ImportFileError`; every other problem is in ``errors``.
    """
    errors = LineErrors()
    if Path(filename).suffix.lower() in YAML_SUFFIXES:
        entries, names = _yaml_entries(decode_upload(raw), errors)
    else:
        entries, names = _csv_entries(read_rows(raw), errors)
    return _pairs(entries, names, errors)


# --- Loading ---------------------------------------------------------------------------------


def _check_codes(
    parsed: ParsedCrosswalk, source: g.Grid, target: g.Grid, unknown: UnknownCodeMessages | None
) -> list[LineError]:
    unknown = unknown or UnknownCodeMessages(
        source=_("pratique inconnue dans la version source"), target=_("pratique inconnue dans la version cible")
    )
    errors = list(parsed.errors)
    for pair in parsed.pairs:
        if source.practice(pair.source) is None:
            errors.append(LineError(pair.line, shown(pair.source), unknown.source, "source"))
        if target.practice(pair.target) is None:
            errors.append(LineError(pair.line, shown(pair.target), unknown.target, "cible"))
        if pair.weight >= WEIGHT_MAX or pair.weight != pair.weight.quantize(WEIGHT_STEP):
            message = _("poids attendu inférieur à 1000, avec trois décimales au plus")
            errors.append(LineError(pair.line, str(pair.weight), message, "poids"))
    return sorted(errors, key=lambda e: e.line)


def load_crosswalk(
    *,
    raw: bytes,
    filename: str,
    source: FrameworkVersion,
    target: FrameworkVersion,
    name: str,
    unknown: UnknownCodeMessages | None = None,
) -> Crosswalk:
    """Load a correspondence table from ``source`` practices to ``target`` practices, all or nothing.

    Loading a file again for the same pair of versions replaces the table (and its name).
    ``unknown`` words the errors about codes missing from a version, for callers that name the
    versions their own way (a study speaks of its earlier wave's items and of its campaign's grid).
    """
    name = name.strip()
    if not name or len(name) > CROSSWALK_NAME_MAX:
        raise CrosswalkFileError(_("Le nom de la table est obligatoire (%(max)d caractères au plus).") % {"max": CROSSWALK_NAME_MAX})
    if source.pk == target.pk:
        raise CrosswalkFileError(_("Les versions source et cible doivent être différentes."))
    try:
        parsed = parse_crosswalk(raw, filename)
    except ImportFileError as exc:
        raise CrosswalkFileError(str(exc)) from exc
    source_grid, target_grid = get_grid(source), get_grid(target)
    errors = _check_codes(parsed, source_grid, target_grid, unknown)
    if errors:
        raise CrosswalkFileError(
            _("La table de correspondance contient des lignes à corriger : rien n'a été chargé."), errors
        )
    if not parsed.pairs:
        raise CrosswalkFileError(_("Le fichier ne contient aucune correspondance."))
    source_ids = {p.code: p.id for p in source_grid.practices}
    target_ids = {p.code: p.id for p in target_grid.practices}
    with transaction.atomic():
        crosswalk, _created = Crosswalk.objects.update_or_create(source=source, target=target, defaults={"name": name})
        CrosswalkEntry.objects.filter(crosswalk=crosswalk).delete()
        CrosswalkEntry.objects.bulk_create(
            CrosswalkEntry(
                crosswalk=crosswalk,
                source_practice_id=source_ids[pair.source],
                target_practice_id=target_ids[pair.target],
                weight=pair.weight,
            )
            for pair in parsed.pairs
        )
    return crosswalk


def load_crosswalk_file(*, path: Path, source: FrameworkVersion, target: FrameworkVersion, name: str) -> Crosswalk:
    """:func:`load_crosswalk` from a CSV or YAML file, told apart by its extension."""
    path = Path(path)
    if path.suffix.lower() not in CSV_SUFFIXES | YAML_SUFFIXES:
        raise CrosswalkFileError(
            _("%(name)s : extension non prise en charge (attendu : .csv, .yaml, .yml ou .json).") % {"name": path.name}
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CrosswalkFileError(_("Fichier illisible : %(path)s (%(err)s).") % {"path": path, "err": exc.strerror}) from exc
    return load_crosswalk(raw=raw, filename=path.name, source=source, target=target, name=name)


# --- Reading a profile through a crosswalk ---------------------------------------------------


def _entries(crosswalk: Crosswalk) -> list[tuple[str, str, Decimal]]:
    return list(
        CrosswalkEntry.objects.filter(crosswalk=crosswalk)
        .order_by("pk")
        .values_list("source_practice__code", "target_practice__code", "weight")
    )


def read_profile_through(
    crosswalk: Crosswalk, answers_by_source_code: Mapping[str, float | None]
) -> dict[str, float | None]:
    """Each target practice read from the source answers: the weighted mean of its sources' levels.

    ``answers_by_source_code`` maps a source practice code to its level value, ``None`` for
    « Non concerné·e » (or no answer), which is left out of the mean, as in the profile; for a
    positioning: ``{s.practice.code: s.value for s in profile.practices}``. Values stay on the
    source's scale. Every target practice is in the result, ``None`` when none of its sources
    has a level.
    """
    return _weighted_means(_entries(crosswalk), answers_by_source_code, get_grid(crosswalk.target_id))


def _weighted_means(
    links: Iterable[tuple[str, str, Decimal]], answers_by_source_code: Mapping[str, float | None], target: g.Grid
) -> dict[str, float | None]:
    sums: dict[str, tuple[float, float]] = {}
    for source_code, target_code, weight in links:
        value = answers_by_source_code.get(source_code)
        if value is None:
            continue
        total, weights = sums.get(target_code, (0.0, 0.0))
        sums[target_code] = (total + float(weight) * value, weights + float(weight))
    means: dict[str, float | None] = {}
    for practice in target.practices:
        total, weights = sums.get(practice.code, (0.0, 0.0))
        means[practice.code] = total / weights if weights else None
    return means


def target_situation_means(crosswalk: Crosswalk, values_by_target_code: Mapping[str, float | None]) -> dict[str, float | None]:
    """Mean of the target practices read through the crosswalk, per target situation (as the profile does:
    unweighted, practices without a value left out); ``None`` for a situation with no value."""
    means: dict[str, float | None] = {}
    for situation in get_grid(crosswalk.target_id).situations:
        values = [v for p in situation.practices if (v := values_by_target_code.get(p.code)) is not None]
        means[situation.code] = fmean(values) if values else None
    return means


# --- The public table ------------------------------------------------------------------------


def _plain(weight: Decimal) -> Decimal:
    """1.000 → 1, 0.500 → 0.5: a weight as people write it."""
    return weight.quantize(Decimal(1)) if weight == weight.to_integral_value() else weight.normalize()


@dataclass(frozen=True)
class CrosswalkRow:
    source: g.Practice
    targets: tuple[tuple[g.Practice, Decimal], ...]  # in the target grid's order


@dataclass(frozen=True)
class CrosswalkTable:
    crosswalk: Crosswalk
    source: g.Grid
    target: g.Grid
    rows: tuple[CrosswalkRow, ...]  # mapped source practices, in the source grid's order
    unmapped_sources: tuple[g.Practice, ...]
    unmapped_targets: tuple[g.Practice, ...]


def crosswalk_table(crosswalk: Crosswalk) -> CrosswalkTable:
    """The crosswalk as a table: each source practice with its targets, and the practices left out on each side."""
    source, target = get_grid(crosswalk.source), get_grid(crosswalk.target)
    links: dict[int, dict[int, Decimal]] = {}
    for source_id, target_id, weight in CrosswalkEntry.objects.filter(crosswalk=crosswalk).values_list(
        "source_practice_id", "target_practice_id", "weight"
    ):
        links.setdefault(source_id, {})[target_id] = weight
    reached = {target_id for targets in links.values() for target_id in targets}
    rows = tuple(
        CrosswalkRow(
            source=p,
            targets=tuple((t, _plain(links[p.id][t.id])) for t in target.practices if t.id in links[p.id]),
        )
        for p in source.practices
        if p.id in links
    )
    return CrosswalkTable(
        crosswalk=crosswalk,
        source=source,
        target=target,
        rows=rows,
        unmapped_sources=tuple(p for p in source.practices if p.id not in links),
        unmapped_targets=tuple(p for p in target.practices if p.id not in reached),
    )


# --- A profile read through a crosswalk, for its page --------------------------------------------


@dataclass(frozen=True)
class SourceReading:
    practice: g.Practice  # a source practice feeding the target
    weight: Decimal
    value: int | None  # its level value in the positioning, None for « Non concerné·e » or no answer


@dataclass(frozen=True)
class TargetReading:
    practice: g.Practice
    value: float | None  # weighted mean of its sources' values, None when none has a value
    sources: tuple[SourceReading, ...]  # in the source grid's order; empty when nothing maps to it


@dataclass(frozen=True)
class SituationReading:
    situation: g.Situation
    mean: float | None
    practices: tuple[TargetReading, ...]


@dataclass(frozen=True)
class ProfileReading:
    crosswalk: Crosswalk
    source: g.Grid
    target: g.Grid
    situations: tuple[SituationReading, ...]
    unmapped_sources: tuple[g.Practice, ...]

    @property
    def max_value(self) -> int:
        """Values stay on the source's level scale."""
        return self.source.level.max_value


def read_profile(crosswalk: Crosswalk, answers_by_source_code: Mapping[str, int | None]) -> ProfileReading:
    """A positioning on the source version shown on the target's situations and practices.

    The figures are those of :func:`read_profile_through` and :func:`target_situation_means`;
    this adds, for each target practice, the source practices behind it, so the page can say
    where every figure comes from.
    """
    table = crosswalk_table(crosswalk)
    # The table already holds every link: the means are read from it, not from the database again.
    links = [(row.source.code, target.code, weight) for row in table.rows for target, weight in row.targets]
    values = _weighted_means(links, answers_by_source_code, table.target)
    means = target_situation_means(crosswalk, values)
    feeding: dict[str, list[SourceReading]] = {}
    for row in table.rows:
        for target, weight in row.targets:
            feeding.setdefault(target.code, []).append(
                SourceReading(practice=row.source, weight=weight, value=answers_by_source_code.get(row.source.code))
            )
    situations = tuple(
        SituationReading(
            situation=situation,
            mean=means[situation.code],
            practices=tuple(
                TargetReading(practice=p, value=values[p.code], sources=tuple(feeding.get(p.code, ())))
                for p in situation.practices
            ),
        )
        for situation in table.target.situations
    )
    return ProfileReading(
        crosswalk=crosswalk,
        source=table.source,
        target=table.target,
        situations=situations,
        unmapped_sources=table.unmapped_sources,
    )
