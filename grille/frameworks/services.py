"""Loading framework versions from their data files."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from .enums import VersionStatus
from .models import (
    Axis,
    Dimension,
    DimensionOption,
    Framework,
    FrameworkVersion,
    Practice,
    Situation,
)
from .schema import (
    SUPPORTED_FORMAT,
    FrameworkFile,
    FrameworkFileError,
    core_content,
    read_data_file,
    validated,
)
from .selectors import clear_grid_cache

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class LoadResult:
    version: FrameworkVersion
    created: bool
    # An already loaded version whose translations or practice guides were added or changed.
    annotated: bool = False


def validate_framework_data(data: object) -> dict[str, Any]:
    """Check a parsed framework file against :class:`~.schema.FrameworkFile` and return it normalised.

    Every error names the place in the file (e.g. ``axes[1].situations[0].practices[2].code``).
    """
    return validated(FrameworkFile, data).model_dump(mode="json")


def read_framework_file(path: Path) -> dict[str, Any]:
    """Read and validate a framework file; an error gives the line of the offending node too."""
    file = read_data_file(path)
    try:
        return validate_framework_data(file.data)
    except FrameworkFileError as exc:
        line = file.line_of(exc.path) if exc.path is not None else None
        if line is None:
            raise
        raise FrameworkFileError(_("Ligne %(line)d — %(message)s") % {"line": line, "message": exc}, exc.path) from exc


def content_hash(data: dict) -> str:
    """The fingerprint of what people answer: annotations (translations, guides) are left out."""
    return hashlib.sha256(json.dumps(core_content(data), sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _compact(value: Any) -> Any:
    """Validated data as stored: empty optional fields left out, at every level."""
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items() if v not in ("", None, {}, [])}
    return value


def _annotations(data: dict) -> dict[tuple[str, ...], dict[str, Any]]:
    """The annotation fields of every object of validated data, by a key naming the object.

    Keys: ("framework",), ("version",), ("dimension", code), ("option", dimension code, code),
    ("axis", code), ("situation", code), ("practice", code). Values: model field → stored value.
    """
    def tr(item: dict) -> dict[str, Any]:
        return {"translations": _compact(item.get("translations") or {})}

    found: dict[tuple[str, ...], dict[str, Any]] = {
        ("framework",): tr(data["framework"]),
        ("version",): tr(data["version"])
        | {"language": data["version"].get("language") or "fr", "guide_note": data["version"].get("guide_note") or ""},
    }
    for dim in data["dimensions"]:
        found[("dimension", dim["code"])] = tr(dim)
        for option in dim["options"]:
            found[("option", dim["code"], option["code"])] = tr(option)
    for ax in data["axes"]:
        found[("axis", ax["code"])] = tr(ax)
        for sit in ax["situations"]:
            found[("situation", sit["code"])] = tr(sit)
            for pr in sit["practices"]:
                found[("practice", pr["code"])] = tr(pr) | {"guide": _compact(pr.get("guide") or {})}
    return found


def _update_annotations(version: FrameworkVersion, data: dict) -> bool:
    """Bring the translations and guides of a loaded version to those of ``data`` (same content).

    Allowed on a published version: they do not change what people answered. Returns whether
    anything changed.
    """
    wanted = _annotations(data)
    objects: dict[tuple[str, ...], Any] = {("framework",): version.framework, ("version",): version}
    for dimension in Dimension.objects.filter(version=version).prefetch_related("options"):
        objects[("dimension", dimension.code)] = dimension
        for option in dimension.options.all():
            objects[("option", dimension.code, option.code)] = option
    objects |= {("axis", a.code): a for a in Axis.objects.filter(version=version)}
    objects |= {("situation", s.code): s for s in Situation.objects.filter(version=version)}
    objects |= {("practice", p.code): p for p in Practice.objects.filter(version=version)}
    changed = False
    for key, fields in wanted.items():
        obj = objects[key]
        if any(getattr(obj, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(obj, name, value)
            obj.save(update_fields=list(fields))
            changed = True
    if changed:
        clear_grid_cache()
    return changed


@transaction.atomic
def load_framework_version(*, data: dict) -> LoadResult:
    """Create a framework version from validated data, idempotently.

    Loading the same content again changes nothing; loading different content
    under the code of a published version is refused, because answers point
    at it: a change must be a new version.
    """
    digest = content_hash(data)
    fw_data, ver_data = data["framework"], data["version"]
    framework, _created = Framework.objects.get_or_create(
        code=fw_data["code"], defaults={"name": fw_data["name"], "publisher": fw_data["publisher"]}
    )
    existing = FrameworkVersion.objects.filter(framework=framework, code=ver_data["code"]).first()
    if existing is not None:
        if existing.content_hash == digest:
            return LoadResult(version=existing, created=False, annotated=_update_annotations(existing, data))
        if existing.is_published:
            raise FrameworkFileError(
                _(
                    "La version « %(code)s » de « %(name)s » est publiée : elle ne peut pas être "
                    "modifiée. Donnez un nouveau code de version à ce fichier."
                )
                % {"code": existing.code, "name": framework.name}
            )
        if existing.assessments.exists():
            raise FrameworkFileError(_("Cette version brouillon a déjà des réponses : elle ne peut pas être rechargée."))
        existing.delete()
    notes = _annotations(data)
    if framework.translations != notes[("framework",)]["translations"]:
        framework.translations = notes[("framework",)]["translations"]
        framework.save(update_fields=["translations"])
    version = FrameworkVersion.objects.create(
        **notes[("version",)],
        framework=framework,
        code=ver_data["code"],
        title=ver_data["title"],
        source=ver_data["source"],
        source_date=date.fromisoformat(ver_data["source_date"]) if ver_data["source_date"] else None,
        status=ver_data["status"],
        published_at=timezone.now() if ver_data["status"] == VersionStatus.PUBLISHED else None,
        content_hash=digest,
    )
    for d_pos, dim in enumerate(data["dimensions"]):
        dimension = Dimension.objects.create(
            version=version, code=dim["code"], role=dim["role"], label=dim["label"],
            help_text=dim["help"], position=d_pos, **notes[("dimension", dim["code"])],
        )
        DimensionOption.objects.bulk_create(
            DimensionOption(
                dimension=dimension, code=o["code"], label=o["label"], value=o["value"],
                partnership=o.get("partnership", False), position=pos, **notes[("option", dim["code"], o["code"])],
            )
            for pos, o in enumerate(dim["options"])
        )
    s_pos = p_pos = 0
    for a_pos, ax in enumerate(data["axes"]):
        axis = Axis.objects.create(
            version=version, code=ax["code"], label=ax["label"], description=ax["description"], position=a_pos,
            **notes[("axis", ax["code"])],
        )
        for sit in ax["situations"]:
            situation = Situation.objects.create(
                version=version, axis=axis, code=sit["code"], label=sit["label"],
                description=sit["description"], position=s_pos, **notes[("situation", sit["code"])],
            )
            s_pos += 1
            practices = []
            for pr in sit["practices"]:
                practices.append(
                    Practice(
                        version=version, situation=situation, code=pr["code"], label=pr["label"], position=p_pos,
                        **notes[("practice", pr["code"])],
                    )
                )
                p_pos += 1
            Practice.objects.bulk_create(practices)
    clear_grid_cache()
    return LoadResult(version=version, created=True)


def load_framework_file(*, path: Path) -> LoadResult:
    """Read, validate and load one framework file."""
    return load_framework_version(data=read_framework_file(path))


def export_framework_version(version: FrameworkVersion) -> dict:
    """The version as a framework file, in the loader's format (see docs/format-referentiel.md).

    The exact inverse of :func:`validate_framework_data`: validating the export gives back
    the content the version holds, so exporting then loading gives the same content hash.
    Empty optional fields are left out; an option's ``value`` is written (``null`` included)
    only in dimensions where some option has one.
    """
    framework = version.framework
    situations = Prefetch(
        "situations",
        queryset=Situation.objects.order_by("position").prefetch_related(
            Prefetch("practices", queryset=Practice.objects.order_by("position"))
        ),
    )
    axes = Axis.objects.filter(version=version).order_by("position").prefetch_related(situations)
    dimensions = (
        Dimension.objects.filter(version=version)
        .order_by("position")
        .prefetch_related(Prefetch("options", queryset=DimensionOption.objects.order_by("position")))
    )

    def optional(**fields: Any) -> dict:
        return {key: value for key, value in fields.items() if value not in ("", None)}

    def translated(obj: Any) -> dict:
        return {"translations": obj.translations} if obj.translations else {}

    def options(dimension: Dimension) -> list[dict]:
        rows = list(dimension.options.all())
        valued = any(o.value is not None for o in rows)
        return [
            {"code": o.code, "label": o.label}
            | ({"value": o.value} if valued else {})
            | ({"partnership": True} if o.partnership else {})
            | translated(o)
            for o in rows
        ]

    def practice(p: Practice) -> dict:
        return {"code": p.code, "label": p.label} | ({"guide": p.guide} if p.guide else {}) | translated(p)

    return {
        "format": SUPPORTED_FORMAT,
        "framework": {"code": framework.code, "name": framework.name}
        | optional(publisher=framework.publisher)
        | translated(framework),
        "version": {"code": version.code, "title": version.title}
        | optional(
            source=version.source,
            source_date=version.source_date.isoformat() if version.source_date else None,
        )
        | {"status": str(version.status)}
        | ({"language": version.language} if version.language != "fr" else {})
        | optional(guide_note=version.guide_note)
        | translated(version),
        "dimensions": [
            {"code": d.code, "role": str(d.role), "label": d.label}
            | optional(help=d.help_text)
            | {"options": options(d)}
            | translated(d)
            for d in dimensions
        ],
        "axes": [
            {"code": a.code, "label": a.label}
            | optional(description=a.description)
            | {
                "situations": [
                    {"code": s.code, "label": s.label}
                    | optional(description=s.description)
                    | {"practices": [practice(p) for p in s.practices.all()]}
                    | translated(s)
                    for s in a.situations.all()
                ]
            }
            | translated(a)
            for a in axes
        ],
    }


@transaction.atomic
def publish_framework_version(*, version: FrameworkVersion) -> FrameworkVersion:
    """Publish a draft: from now on it is frozen, answers may point at it, a change is a new version.

    The content is checked as a published file would be (every dimension role, at least one
    practice in each situation…) and its hash recomputed from the export, so that loading the
    exported file later is recognised as the same version.
    """
    locked = FrameworkVersion.objects.select_for_update().select_related("framework").get(pk=version.pk)
    if locked.is_published:
        raise FrameworkFileError(_("La version « %(version)s » est déjà publiée.") % {"version": locked})
    data = export_framework_version(locked)
    data["version"]["status"] = str(VersionStatus.PUBLISHED)
    try:
        validated = validate_framework_data(data)
    except FrameworkFileError as exc:
        raise FrameworkFileError(
            _("La version « %(version)s » ne peut pas être publiée : %(reason)s") % {"version": locked, "reason": exc}
        ) from exc
    locked.status = VersionStatus.PUBLISHED
    locked.published_at = timezone.now()
    locked.content_hash = content_hash(validated)
    locked.save(update_fields=["status", "published_at", "content_hash"])
    clear_grid_cache()
    return locked


def default_framework_files() -> list[Path]:
    # Resource files (resources-*.yaml) sit beside the grids; they are loaded after them.
    return sorted(p for p in DATA_DIR.glob("*.yaml") if not p.name.startswith("resources-"))
