"""« Pour aller plus loin » : resources attached to practices, loaded from data files.

A resource file (``data/resources-<framework code>.yaml``, schema at the top of the shipped file)
attaches links to practices, situations or axes by code, so that a resource follows a practice
from one version of the grid to the next.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from . import grid as g
from .models import Axis, Framework, FrameworkVersion, Practice, Resource, ResourceKind, Situation
from .selectors import get_grid
from .services import DATA_DIR, FrameworkFileError, _check_keys, _optional_str, _require

SUPPORTED_FORMAT = 1
RESOURCE_FILE_PATTERN = "resources-*.yaml"
# File key → model field, for the three levels a resource can be attached to.
ATTACHMENTS = {"practices": "practice_codes", "situations": "situation_codes", "axes": "axis_codes"}
RESOURCE_KEYS = {"code", "title", "kind", "publisher", "url", "description", "language", *ATTACHMENTS}
# The fields a reload compares and rewrites.
UPDATED_FIELDS = ["title", "kind", "publisher", "url", "description", "language", *ATTACHMENTS.values()]


def default_resource_files() -> list[Path]:
    """The resource files shipped with Grille, loaded after the grids."""
    return sorted(DATA_DIR.glob(RESOURCE_FILE_PATTERN))


def _code_list(mapping: dict, key: str, where: str) -> list[str]:
    value = mapping.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise FrameworkFileError(_("%(where)s.%(key)s : une liste de codes est attendue.") % {"where": where, "key": key})
    codes = []
    for i, code in enumerate(value):
        # YAML reads 7.10 as the number 7.1: a dotted code must be quoted to keep its text.
        if isinstance(code, (bool, float)) or not isinstance(code, (str, int)) or code == "":
            raise FrameworkFileError(
                _("%(where)s.%(key)s[%(i)s] : code attendu, entre guillemets (par exemple \"1.1\").")
                % {"where": where, "key": key, "i": i}
            )
        codes.append(str(code))
    return codes


def validate_resources_data(data: Any) -> dict:
    """Check the structure of a parsed resource file and return it normalised.

    Every error names the place in the file (e.g. ``resources[2].url``). Codes of practices,
    situations and axes are checked against the database by :func:`load_resources`.
    """
    if not isinstance(data, dict):
        raise FrameworkFileError(_("Le fichier doit contenir un objet YAML ou JSON."))
    fmt = _require(data, "format", "racine", int)
    if fmt != SUPPORTED_FORMAT:
        raise FrameworkFileError(
            _("format : la version de format %(fmt)s n'est pas prise en charge (attendu : %(ok)s).")
            % {"fmt": fmt, "ok": SUPPORTED_FORMAT}
        )
    _check_keys(data, {"format", "framework", "resources"}, "racine")
    framework = _require(data, "framework", "racine")
    resources = []
    seen: set[str] = set()
    for i, item in enumerate(_require(data, "resources", "racine", list)):
        where = f"resources[{i}]"
        code = _require(item, "code", where)
        _check_keys(item, RESOURCE_KEYS, where)
        if code in seen:
            raise FrameworkFileError(_("%(where)s.code : code « %(code)s » en double.") % {"where": where, "code": code})
        seen.add(code)
        kind = _require(item, "kind", where)
        if kind not in ResourceKind.values:
            raise FrameworkFileError(
                _("%(where)s.kind : « %(kind)s » inconnu (attendu : %(ok)s).")
                % {"where": where, "kind": kind, "ok": ", ".join(ResourceKind.values)}
            )
        resource = {
            "code": code,
            "title": _require(item, "title", where),
            "kind": kind,
            "publisher": _optional_str(item, "publisher"),
            "url": _require(item, "url", where),
            "description": _optional_str(item, "description").strip(),
            "language": _optional_str(item, "language") or "fr",
            **{field: _code_list(item, key, where) for key, field in ATTACHMENTS.items()},
        }
        if not any(resource[field] for field in ATTACHMENTS.values()):
            raise FrameworkFileError(
                _("%(where)s : rattachez la ressource à au moins une pratique, une situation ou un axe.")
                % {"where": where}
            )
        _check_fields(resource, where)
        resources.append(resource)
    return {"framework": framework, "resources": resources}


def _check_fields(resource: dict, where: str) -> None:
    """The model's own checks (URL, slug, lengths), reported at their place in the file."""
    try:
        Resource(**resource).full_clean(exclude=["framework"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise FrameworkFileError(f"{where}.{field} : {messages[0]}") from exc


def _check_references(data: dict) -> Framework:
    """The framework exists and every attached code is in one of its loaded versions."""
    framework = Framework.objects.filter(code=data["framework"]).first()
    if framework is None:
        raise FrameworkFileError(
            _("framework : référentiel « %(code)s » inconnu ; chargez d'abord sa grille.") % {"code": data["framework"]}
        )
    versions = FrameworkVersion.objects.filter(framework=framework)
    known = {
        "practice_codes": set(Practice.objects.filter(version__in=versions).values_list("code", flat=True)),
        "situation_codes": set(Situation.objects.filter(version__in=versions).values_list("code", flat=True)),
        "axis_codes": set(Axis.objects.filter(version__in=versions).values_list("code", flat=True)),
    }
    messages = {
        "practice_codes": _("%(where)s : pratique « %(code)s » inconnue dans le référentiel « %(framework)s »."),
        "situation_codes": _("%(where)s : situation « %(code)s » inconnue dans le référentiel « %(framework)s »."),
        "axis_codes": _("%(where)s : axe « %(code)s » inconnu dans le référentiel « %(framework)s »."),
    }
    for i, resource in enumerate(data["resources"]):
        for key, field in ATTACHMENTS.items():
            for j, code in enumerate(resource[field]):
                if code not in known[field]:
                    raise FrameworkFileError(
                        messages[field] % {"where": f"resources[{i}].{key}[{j}]", "code": code, "framework": framework.code}
                    )
    return framework


@transaction.atomic
def load_resources(*, data: dict) -> int:
    """Create or update the resources of validated data, by (framework, code).

    Returns how many resources were created or changed: loading the same file again returns 0.
    Resources missing from the file are kept (they may have been added in the admin).
    """
    framework = _check_references(data)
    codes = [item["code"] for item in data["resources"]]
    existing = {r.code: r for r in Resource.objects.filter(framework=framework, code__in=codes)}
    created, changed = [], []
    for item in data["resources"]:
        resource = existing.get(item["code"])
        if resource is None:
            created.append(Resource(framework=framework, **item))
        elif any(getattr(resource, field) != item[field] for field in UPDATED_FIELDS):
            for field in UPDATED_FIELDS:
                setattr(resource, field, item[field])
            changed.append(resource)
    Resource.objects.bulk_create(created)
    Resource.objects.bulk_update(changed, UPDATED_FIELDS)
    return len(created) + len(changed)


def read_resources_file(path: Path) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise FrameworkFileError(_("Fichier illisible : %(path)s (%(err)s).") % {"path": path, "err": exc.strerror}) from exc
    try:
        data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise FrameworkFileError(_("Fichier mal formé : %(err)s") % {"err": exc}) from exc
    return validate_resources_data(data)


def load_resources_file(*, path: Path) -> int:
    """Read, validate and load one resource file; returns how many resources were created or changed."""
    return load_resources(data=read_resources_file(path))


def resources_by_practice(version_or_grid: FrameworkVersion | g.Grid) -> dict[str, list[Resource]]:
    """The resources of each practice of a version, in one query (plus the grid, if not cached).

    A resource attached to a situation or an axis applies to all its practices. Within a practice,
    the most specific come first (practice, then situation, then axis), then by title.
    Every practice of the version is a key, with an empty list when nothing is attached.
    """
    grid = version_or_grid if isinstance(version_or_grid, g.Grid) else get_grid(version_or_grid)
    resources = list(Resource.objects.filter(framework__versions__id=grid.version_id).order_by("title", "code"))
    by_practice: dict[str, list[Resource]] = {}
    for axis in grid.axes:
        for situation in axis.situations:
            for practice in situation.practices:
                ranked = []
                for resource in resources:
                    if practice.code in resource.practice_codes:
                        ranked.append((0, resource))
                    elif situation.code in resource.situation_codes:
                        ranked.append((1, resource))
                    elif axis.code in resource.axis_codes:
                        ranked.append((2, resource))
                by_practice[practice.code] = [r for _rank, r in sorted(ranked, key=lambda pair: pair[0])]
    return by_practice
