"""Loading framework versions from their data files."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from .enums import DimensionRole, VersionStatus
from .models import (
    Axis,
    Dimension,
    DimensionOption,
    Framework,
    FrameworkVersion,
    Practice,
    Situation,
)
from .selectors import clear_grid_cache

DATA_DIR = Path(__file__).resolve().parent / "data"
SUPPORTED_FORMAT = 1


class FrameworkFileError(ValueError):
    """The file does not describe a valid framework version; the message says where.

    ``field`` is the path of the offending field when it is more precise than the place the
    message starts with (an unknown key inside an item), so the line given is that key's.
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class LoadResult:
    version: FrameworkVersion
    created: bool


def _require(mapping: Any, key: str, where: str, kind: type = str) -> Any:
    if not isinstance(mapping, dict):
        raise FrameworkFileError(_("%(where)s : un objet (clé: valeur) est attendu.") % {"where": where})
    if key not in mapping or mapping[key] in (None, ""):
        raise FrameworkFileError(
            _("%(where)s : le champ « %(key)s » est obligatoire.") % {"where": where, "key": key}
        )
    value = mapping[key]
    if kind is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, kind):
        raise FrameworkFileError(
            _("%(where)s : le champ « %(key)s » n'a pas le bon type.") % {"where": where, "key": key}
        )
    return value


def _check_keys(mapping: dict, allowed: set[str], where: str) -> None:
    """Refuse unknown fields: a typo must not be silently ignored."""
    unknown = sorted(set(mapping) - allowed, key=str)
    if unknown:
        raise FrameworkFileError(
            _("%(where)s : champ inconnu « %(key)s » (champs possibles : %(ok)s).")
            % {"where": where, "key": unknown[0], "ok": ", ".join(sorted(allowed))},
            field=f"{where}.{unknown[0]}" if where != "racine" else str(unknown[0]),
        )


def _optional_str(mapping: dict, key: str) -> str:
    value = mapping.get(key)
    return "" if value is None else str(value)


def validate_framework_data(data: Any) -> dict:
    """Check the structure of a parsed framework file and return it normalised.

    Every error names the place in the file (e.g. ``axes[1].situations[0].practices[2].code``).
    """
    if not isinstance(data, dict):
        raise FrameworkFileError(_("Le fichier doit contenir un objet YAML ou JSON."))
    fmt = _require(data, "format", "racine", int)
    if fmt != SUPPORTED_FORMAT:
        raise FrameworkFileError(
            _("format : la version de format %(fmt)s n'est pas prise en charge (attendu : %(ok)s).")
            % {"fmt": fmt, "ok": SUPPORTED_FORMAT}
        )
    _check_keys(data, {"format", "framework", "version", "dimensions", "axes"}, "racine")
    fw = _require(data, "framework", "racine", dict)
    _check_keys(fw, {"code", "name", "publisher"}, "framework")
    ver = _require(data, "version", "racine", dict)
    _check_keys(ver, {"code", "title", "source", "source_date", "status"}, "version")
    source_date = ver.get("source_date")
    if source_date is not None and not isinstance(source_date, date):
        try:
            source_date = date.fromisoformat(str(source_date))
        except ValueError as exc:
            raise FrameworkFileError(_("version.source_date : date attendue au format AAAA-MM-JJ.")) from exc
    status = ver.get("status", VersionStatus.DRAFT)
    if status not in VersionStatus.values:
        raise FrameworkFileError(_("version.status : « published » ou « draft » attendu."))
    out: dict[str, Any] = {
        "framework": {
            "code": _require(fw, "code", "framework"),
            "name": _require(fw, "name", "framework"),
            "publisher": _optional_str(fw, "publisher"),
        },
        "version": {
            "code": _require(ver, "code", "version"),
            "title": _require(ver, "title", "version"),
            "source": _optional_str(ver, "source"),
            "source_date": source_date.isoformat() if source_date else None,
            "status": status,
        },
        "dimensions": [],
        "axes": [],
    }
    roles_seen: set[str] = set()
    for i, dim in enumerate(_require(data, "dimensions", "racine", list)):
        where = f"dimensions[{i}]"
        role = _require(dim, "role", where)
        _check_keys(dim, {"code", "role", "label", "help", "options"}, where)
        if role not in DimensionRole.values:
            raise FrameworkFileError(
                _("%(where)s.role : « %(role)s » inconnu (attendu : %(ok)s).")
                % {"where": where, "role": role, "ok": ", ".join(DimensionRole.values)}
            )
        if role in roles_seen:
            raise FrameworkFileError(_("%(where)s.role : rôle en double.") % {"where": where})
        roles_seen.add(role)
        options = []
        option_codes: set[str] = set()
        for j, opt in enumerate(_require(dim, "options", where, list)):
            owhere = f"{where}.options[{j}]"
            code = _require(opt, "code", owhere)
            _check_keys(opt, {"code", "label", "value", "partnership"}, owhere)
            if code in option_codes:
                raise FrameworkFileError(_("%(where)s.code : code en double.") % {"where": owhere})
            option_codes.add(code)
            value = opt.get("value")
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise FrameworkFileError(_("%(where)s.value : nombre entier attendu.") % {"where": owhere})
            partnership = opt.get("partnership", False)
            if not isinstance(partnership, bool):
                raise FrameworkFileError(_("%(where)s.partnership : true ou false attendu.") % {"where": owhere})
            option = {"code": code, "label": _require(opt, "label", owhere), "value": value}
            if partnership:
                option["partnership"] = True
            options.append(option)
        out["dimensions"].append(
            {
                "code": _require(dim, "code", where),
                "role": role,
                "label": _require(dim, "label", where),
                "help": _optional_str(dim, "help"),
                "options": options,
            }
        )
    missing = set(DimensionRole.values) - roles_seen
    if missing:
        raise FrameworkFileError(
            _("dimensions : il manque les rôles %(roles)s.") % {"roles": ", ".join(sorted(missing))}
        )
    codes = {"axes": set(), "situations": set(), "practices": set()}

    def unique(kind: str, code: str, where: str) -> str:
        if code in codes[kind]:
            raise FrameworkFileError(_("%(where)s.code : code « %(code)s » en double.") % {"where": where, "code": code})
        codes[kind].add(code)
        return code

    for i, axis in enumerate(_require(data, "axes", "racine", list)):
        where = f"axes[{i}]"
        _check_keys(_require(axis, "code", where) and axis, {"code", "label", "description", "situations"}, where)
        situations = []
        for j, sit in enumerate(_require(axis, "situations", where, list)):
            swhere = f"{where}.situations[{j}]"
            _check_keys(_require(sit, "code", swhere) and sit, {"code", "label", "description", "practices"}, swhere)
            for k, p in enumerate(_require(sit, "practices", swhere, list)):
                _check_keys(_require(p, "code", f"{swhere}.practices[{k}]") and p, {"code", "label"}, f"{swhere}.practices[{k}]")
            practices = [
                {
                    "code": unique("practices", _require(p, "code", f"{swhere}.practices[{k}]"), f"{swhere}.practices[{k}]"),
                    "label": _require(p, "label", f"{swhere}.practices[{k}]"),
                }
                for k, p in enumerate(_require(sit, "practices", swhere, list))
            ]
            situations.append(
                {
                    "code": unique("situations", _require(sit, "code", swhere), swhere),
                    "label": _require(sit, "label", swhere),
                    "description": _optional_str(sit, "description"),
                    "practices": practices,
                }
            )
        out["axes"].append(
            {
                "code": unique("axes", _require(axis, "code", where), where),
                "label": _require(axis, "label", where),
                "description": _optional_str(axis, "description"),
                "situations": situations,
            }
        )
    if not out["axes"]:
        raise FrameworkFileError(_("axes : au moins un axe est attendu."))
    if out["version"]["status"] == VersionStatus.PUBLISHED:
        _check_complete(out)
    return out


def _check_complete(data: dict) -> None:
    """What a published version needs beyond a well-formed file: people answer every part of it.

    A draft may be loaded half-written and completed in the admin; publishing it runs these checks.
    """
    for i, dim in enumerate(data["dimensions"]):
        if not dim["options"]:
            raise FrameworkFileError(_("dimensions[%(i)d].options : au moins une modalité est attendue.") % {"i": i})
        if dim["role"] == DimensionRole.LEVEL and all(o["value"] is None for o in dim["options"]):
            raise FrameworkFileError(
                _("dimensions[%(i)d].options : le niveau de pratique doit avoir au moins une modalité avec une valeur.")
                % {"i": i}
            )
    for i, axis in enumerate(data["axes"]):
        if not axis["situations"]:
            raise FrameworkFileError(
                _("axes[%(i)d] (« %(code)s ») : au moins une situation est attendue.") % {"i": i, "code": axis["code"]}
            )
        for j, sit in enumerate(axis["situations"]):
            if not sit["practices"]:
                raise FrameworkFileError(
                    _("axes[%(i)d].situations[%(j)d] (« %(code)s ») : au moins une pratique est attendue.")
                    % {"i": i, "j": j, "code": sit["code"]}
                )


def read_framework_file(path: Path) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise FrameworkFileError(_("Fichier illisible : %(path)s (%(err)s).") % {"path": path, "err": exc.strerror}) from exc
    try:
        data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise FrameworkFileError(_("Fichier mal formé : %(err)s") % {"err": exc}) from exc
    try:
        return validate_framework_data(data)
    except FrameworkFileError as exc:
        lines = _field_lines(text)
        line = lines.get(exc.field) if exc.field else None
        line = line or _line_of(str(exc), lines)
        if line is None:
            raise
        raise FrameworkFileError(_("Ligne %(line)d — %(message)s") % {"line": line, "message": exc}) from exc


def _field_lines(text: str) -> dict[str, int]:
    """The line each field of the file starts on, by the path validation errors use
    (``racine``, ``version.code``, ``axes[1].situations[0].practices[2]``…).

    YAML's composer keeps positions (JSON is read as the YAML it also is); a text it cannot
    compose gives no lines, and errors then name the field only.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    lines = {"racine": 1}

    def walk(node: yaml.Node, path: str) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = f"{path}.{key.value}" if path else str(key.value)
                lines.setdefault(name, key.start_mark.line + 1)
                walk(value, name)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                name = f"{path}[{i}]"
                lines[name] = item.start_mark.line + 1
                walk(item, name)

    if root is not None:
        walk(root, "")
    return lines


def _line_of(message: str, lines: dict[str, int]) -> int | None:
    """The line of the field an error message starts with, or of its closest enclosing field."""
    where, sep, _rest = message.partition(" : ")
    if not sep:
        return None
    while where:
        if where in lines:
            return lines[where]
        cut = max(where.rfind("."), where.rfind("["))
        if cut <= 0:
            return None
        where = where[:cut]
    return None


def content_hash(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


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
            return LoadResult(version=existing, created=False)
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
    version = FrameworkVersion.objects.create(
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
            help_text=dim["help"], position=d_pos,
        )
        DimensionOption.objects.bulk_create(
            DimensionOption(
                dimension=dimension, code=o["code"], label=o["label"], value=o["value"],
                partnership=o.get("partnership", False), position=pos,
            )
            for pos, o in enumerate(dim["options"])
        )
    s_pos = p_pos = 0
    for a_pos, ax in enumerate(data["axes"]):
        axis = Axis.objects.create(
            version=version, code=ax["code"], label=ax["label"], description=ax["description"], position=a_pos
        )
        for sit in ax["situations"]:
            situation = Situation.objects.create(
                version=version, axis=axis, code=sit["code"], label=sit["label"],
                description=sit["description"], position=s_pos,
            )
            s_pos += 1
            practices = []
            for pr in sit["practices"]:
                practices.append(
                    Practice(version=version, situation=situation, code=pr["code"], label=pr["label"], position=p_pos)
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

    def options(dimension: Dimension) -> list[dict]:
        rows = list(dimension.options.all())
        valued = any(o.value is not None for o in rows)
        return [
            {"code": o.code, "label": o.label}
            | ({"value": o.value} if valued else {})
            | ({"partnership": True} if o.partnership else {})
            for o in rows
        ]

    return {
        "format": SUPPORTED_FORMAT,
        "framework": {"code": framework.code, "name": framework.name} | optional(publisher=framework.publisher),
        "version": {"code": version.code, "title": version.title}
        | optional(
            source=version.source,
            source_date=version.source_date.isoformat() if version.source_date else None,
        )
        | {"status": str(version.status)},
        "dimensions": [
            {"code": d.code, "role": str(d.role), "label": d.label} | optional(help=d.help_text) | {"options": options(d)}
            for d in dimensions
        ],
        "axes": [
            {"code": a.code, "label": a.label}
            | optional(description=a.description)
            | {
                "situations": [
                    {"code": s.code, "label": s.label}
                    | optional(description=s.description)
                    | {"practices": [{"code": p.code, "label": p.label} for p in s.practices.all()]}
                    for s in a.situations.all()
                ]
            }
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
