"""« Pour aller plus loin » : resources attached to practices, loaded from data files.

A resource file (``data/resources-<framework code>.yaml``, schema at the top of the shipped file)
attaches links to practices, situations or axes by code, so that a resource follows a practice
from one version of the grid to the next.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from . import grid as g
from .models import Axis, Framework, FrameworkVersion, Practice, Resource, Situation
from .schema import ATTACHMENTS, FrameworkFileError, ResourceFile, read_data_file, validated
from .selectors import get_grid
from .services import DATA_DIR

RESOURCE_FILE_PATTERN = "resources-*.yaml"
# The fields a reload compares and rewrites.
UPDATED_FIELDS = ["title", "kind", "publisher", "url", "description", "language", "translations", *ATTACHMENTS.values()]


def default_resource_files() -> list[Path]:
    """The resource files shipped with Grille, loaded after the grids."""
    return sorted(DATA_DIR.glob(RESOURCE_FILE_PATTERN))


def validate_resources_data(data: object) -> dict[str, Any]:
    """Check a parsed resource file against :class:`~.schema.ResourceFile` and return it normalised.

    Every error names the place in the file (e.g. ``resources[2].url``). Codes of practices,
    situations and axes are checked against the database by :func:`load_resources`.
    """
    return validated(ResourceFile, data).model_dump(mode="json", by_alias=True)


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

    Returns how many resources were created, changed or withdrawn: loading the same file again
    returns 0. Resources missing from the file are kept (they may have been added in the admin),
    but for those its ``withdrawn`` list names.
    """
    framework = _check_references(data)
    withdrawn, _deleted = Resource.objects.filter(framework=framework, code__in=data.get("withdrawn", [])).delete()
    data = {key: value for key, value in data.items() if key != "withdrawn"}
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
    return len(created) + len(changed) + withdrawn


def read_resources_file(path: Path) -> dict[str, Any]:
    return validate_resources_data(read_data_file(path).data)


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
