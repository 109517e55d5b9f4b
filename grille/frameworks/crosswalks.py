"""Correspondence tables between framework versions, and reading a profile through one.

A crosswalk says how the practices of one version (the source: an earlier grid, another
référentiel) read as practices of another (the target). A source practice may feed several
targets (one-to-many) and several sources one target (many-to-one), each link with a weight.
A target practice is then read as the weighted mean of the level values of its sources.

Files are CSV (``source;cible;poids``, read by the same code as the study imports, so French
Excel files and line-numbered errors behave alike) or YAML (a list ``correspondances`` of
``{source, cible, poids}``). A file with any error is refused whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from statistics import fmean
from typing import Any

import yaml
from django.db import transaction
from django.utils.translation import gettext as _

# A pure module (bytes in, plain objects out, no models): the CSV reading of study imports.
from grille.studies.importers import Crosswalk as ParsedCrosswalk
from grille.studies.importers import (
    CrosswalkPair,
    ImportFileError,
    LineError,
    parse_crosswalk,
    shown,
)

from . import grid as g
from .models import Crosswalk, CrosswalkEntry, FrameworkVersion
from .selectors import get_grid

CSV_SUFFIXES = {".csv", ".txt"}
YAML_SUFFIXES = {".yaml", ".yml", ".json"}
YAML_LIST_KEY = "correspondances"
YAML_ENTRY_KEYS = ("source", "cible", "poids")
# CrosswalkEntry.weight holds 6 digits, 3 of them decimals.
WEIGHT_MAX = Decimal(1000)
WEIGHT_STEP = Decimal("0.001")
NAME_MAX = Crosswalk._meta.get_field("name").max_length


class CrosswalkFileError(ValueError):
    """The crosswalk was refused and nothing saved; ``errors`` names each line to correct."""

    def __init__(self, message: str, errors: list[LineError] | None = None):
        super().__init__(message)
        self.errors = errors or []


# --- Reading files ---------------------------------------------------------------------------


def _yaml_entries(text: str) -> list[tuple[int, Any]]:
    """The entries of a YAML crosswalk, each with the line it starts on."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        entries = root
        if isinstance(root, yaml.MappingNode):
            keys = {loader.construct_object(key): value for key, value in root.value}
            unknown = sorted(str(k) for k in keys if k != YAML_LIST_KEY)
            if unknown:
                raise CrosswalkFileError(
                    _("Racine : champ inconnu « %(key)s » (seul « %(ok)s » est attendu).")
                    % {"key": shown(unknown[0]), "ok": YAML_LIST_KEY}
                )
            entries = keys.get(YAML_LIST_KEY)
        if not isinstance(entries, yaml.SequenceNode):
            raise CrosswalkFileError(
                _("Le fichier doit contenir une liste « %(key)s » de correspondances {source, cible, poids}.")
                % {"key": YAML_LIST_KEY}
            )
        return [(item.start_mark.line + 1, loader.construct_object(item, deep=True)) for item in entries.value]
    except yaml.YAMLError as exc:
        raise CrosswalkFileError(_("Fichier mal formé : %(err)s") % {"err": exc}) from exc
    finally:
        loader.dispose()


def _code(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return ""
    return str(value).strip()


def _weight(value: Any) -> Decimal | None:
    if value is None or value == "":
        return Decimal(1)
    if isinstance(value, bool):
        return None
    try:
        weight = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        return None
    return weight if weight.is_finite() and weight > 0 else None


def parse_crosswalk_yaml(text: str) -> ParsedCrosswalk:
    """The pairs of a YAML crosswalk, with the same rules and messages as a CSV one.

    An empty or missing ``cible`` marks the source « non comparable »; ``poids`` is 1 when left out.
    """
    pairs: list[CrosswalkPair] = []
    errors: list[LineError] = []
    unmapped: dict[str, int] = {}
    mapped: dict[str, tuple[str, int]] = {}
    seen: dict[tuple[str, str], int] = {}

    def error(line: int, value: str, message: str, column: str = "") -> None:
        errors.append(LineError(line, shown(value), message, column))

    for line, entry in _yaml_entries(text):
        if not isinstance(entry, dict):
            error(line, "", _("une correspondance {source, cible, poids} est attendue"))
            continue
        unknown = sorted(str(k) for k in entry if k not in YAML_ENTRY_KEYS)
        if unknown:
            error(line, unknown[0], _("champ inconnu (champs possibles : %(ok)s)") % {"ok": ", ".join(YAML_ENTRY_KEYS)})
            continue
        source, target = _code(entry.get("source")), _code(entry.get("cible"))
        weight = _weight(entry.get("poids"))
        if not source:
            error(line, "", _("code source manquant"), "source")
        elif weight is None:
            message = _("poids non reconnu : attendu un nombre strictement positif, par exemple 1 ou 0,5")
            error(line, str(entry.get("poids")), message, "poids")
        elif (source, target) in seen:
            error(line, source, _("correspondance en double (déjà ligne %(line)d)") % {"line": seen[source, target]}, "source")
        elif not target and source in mapped:
            message = _("marqué non comparable, mais associé à « %(target)s » ligne %(line)d") % {
                "target": shown(mapped[source][0]),
                "line": mapped[source][1],
            }
            error(line, source, message, "source")
        elif target and source in unmapped:
            message = _("associé à « %(target)s », mais marqué non comparable ligne %(line)d") % {
                "target": shown(target),
                "line": unmapped[source],
            }
            error(line, source, message, "source")
        else:
            seen[source, target] = line
            if target:
                mapped.setdefault(source, (target, line))
                pairs.append(CrosswalkPair(source, target, weight, line))
            else:
                unmapped[source] = line
    return ParsedCrosswalk(pairs=pairs, unmapped_sources=set(unmapped), errors=errors)


def read_crosswalk_file(path: Path) -> ParsedCrosswalk:
    """Parse a CSV or YAML crosswalk file; an unreadable file raises CrosswalkFileError."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in CSV_SUFFIXES | YAML_SUFFIXES:
        raise CrosswalkFileError(
            _("%(name)s : extension non prise en charge (attendu : .csv, .yaml, .yml ou .json).") % {"name": path.name}
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CrosswalkFileError(_("Fichier illisible : %(path)s (%(err)s).") % {"path": path, "err": exc.strerror}) from exc
    if suffix in CSV_SUFFIXES:
        try:
            return parse_crosswalk(raw)
        except ImportFileError as exc:
            raise CrosswalkFileError(str(exc)) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CrosswalkFileError(_("Le fichier doit être enregistré en UTF-8.")) from exc
    return parse_crosswalk_yaml(text)


# --- Loading ---------------------------------------------------------------------------------


def _check_codes(parsed: ParsedCrosswalk, source: g.Grid, target: g.Grid) -> list[LineError]:
    errors = list(parsed.errors)
    for pair in parsed.pairs:
        if source.practice(pair.source) is None:
            errors.append(LineError(pair.line, shown(pair.source), _("pratique inconnue dans la version source"), "source"))
        if target.practice(pair.target) is None:
            errors.append(LineError(pair.line, shown(pair.target), _("pratique inconnue dans la version cible"), "cible"))
        if pair.weight >= WEIGHT_MAX or pair.weight != pair.weight.quantize(WEIGHT_STEP):
            message = _("poids attendu inférieur à 1000, avec trois décimales au plus")
            errors.append(LineError(pair.line, str(pair.weight), message, "poids"))
    return sorted(errors, key=lambda e: e.line)


def load_crosswalk_file(*, path: Path, source: FrameworkVersion, target: FrameworkVersion, name: str) -> Crosswalk:
    """Load a correspondence table from ``source`` practices to ``target`` practices, all or nothing.

    Loading a file again for the same pair of versions replaces the table (and its name).
    """
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise CrosswalkFileError(_("Le nom de la table est obligatoire (%(max)d caractères au plus).") % {"max": NAME_MAX})
    if source.pk == target.pk:
        raise CrosswalkFileError(_("Les versions source et cible doivent être différentes."))
    parsed = read_crosswalk_file(path)
    source_grid, target_grid = get_grid(source), get_grid(target)
    errors = _check_codes(parsed, source_grid, target_grid)
    if errors:
        raise CrosswalkFileError(
            _("La table de correspondance contient des lignes à corriger : rien n'a été chargé."), errors
        )
    if not parsed.pairs:
        raise CrosswalkFileError(_("Le fichier ne contient aucune correspondance."))
    with transaction.atomic():
        crosswalk, _created = Crosswalk.objects.update_or_create(source=source, target=target, defaults={"name": name})
        CrosswalkEntry.objects.filter(crosswalk=crosswalk).delete()
        CrosswalkEntry.objects.bulk_create(
            CrosswalkEntry(
                crosswalk=crosswalk,
                source_practice_id=source_grid.practice(pair.source).id,
                target_practice_id=target_grid.practice(pair.target).id,
                weight=pair.weight,
            )
            for pair in parsed.pairs
        )
    return crosswalk


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
