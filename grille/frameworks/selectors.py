from __future__ import annotations

import hashlib
import time
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Prefetch
from django.utils import translation

from grille.core.sql import fetch_all

from . import grid as g
from .enums import VersionStatus
from .models import (
    Axis,
    Crosswalk,
    Dimension,
    DimensionOption,
    Framework,
    FrameworkVersion,
    Practice,
    Resource,
    Situation,
)

# Published versions never change (but for their annotations, whose reload clears this), so
# their grid can be kept for the life of the process, one per language; drafts are read afresh.
_published_grids: dict[tuple[int, str], g.Grid] = {}


def display_language(language: str | None = None) -> str:
    """The base code of ``language``, or of the active language: "en" for "en-gb"."""
    code = language or translation.get_language() or settings.LANGUAGE_CODE
    return code.split("-")[0].lower()


def _in(language: str, obj: Any, name: str, key: str | None = None) -> str:
    """The text of ``obj.name`` in ``language``: its translation (under ``key``, by default the
    field's name) if it has one, else the original."""
    original: str = getattr(obj, name)
    translated = (obj.translations or {}).get(language, {}).get(key or name)
    return translated or original


def _guide(language: str, practice: Practice, level_labels: dict[str, str], note: str) -> g.Guide | None:
    guide = (practice.translations or {}).get(language, {}).get("guide") or practice.guide
    if not guide:
        return None
    levels = tuple(
        g.GuideLevel(code=code, label=label, text=guide["levels"][code])
        for code, label in level_labels.items()
        if code in guide.get("levels", {})
    )
    return g.Guide(summary=guide["summary"], levels=levels, note=note)


def get_default_version() -> FrameworkVersion | None:
    """The most recently published version: what a new positioning is answered on."""
    version = (
        FrameworkVersion.objects.select_related("framework")
        .filter(status=VersionStatus.PUBLISHED)
        .order_by("-published_at", "-id")
        .first()
    )
    _default_version_id[:] = [(version.pk if version else None, time.monotonic())]
    return version


# get_default_version's id as this process last read it, and when (time.monotonic()): cleared
# with the grids.
_default_version_id: list[tuple[int | None, float]] = []
DEFAULT_VERSION_ID_TTL = 60.0


def default_version_id_hint() -> int | None:
    """get_default_version's id as this process last read it (read again after a minute): a
    hint, for a guess that is checked (autosave); another process may have published since."""
    if _default_version_id and time.monotonic() - _default_version_id[0][1] < DEFAULT_VERSION_ID_TTL:
        return _default_version_id[0][0]
    version = get_default_version()
    return version.pk if version else None


def get_grid(version: FrameworkVersion | int, language: str | None = None) -> g.Grid:
    """The whole grid of one version, in four queries (cached once published), in ``language``
    (by default the active one) when the version carries that translation, else in its own."""
    version_id = version if isinstance(version, int) else version.pk
    wanted = display_language(language)
    cached = _published_grids.get((version_id, wanted))
    if cached is not None:
        return cached
    if isinstance(version, int):
        version = FrameworkVersion.objects.select_related("framework").get(pk=version_id)
    lang = wanted if wanted in (version.translations or {}) else version.language
    translated = lang != version.language

    def original(text: str) -> str:
        return text if translated else ""

    practices = Prefetch("practices", queryset=Practice.objects.order_by("position"))
    situations = Prefetch(
        "situations",
        queryset=Situation.objects.order_by("position").prefetch_related(practices),
    )
    axes = Axis.objects.filter(version=version).order_by("position").prefetch_related(situations)
    dimensions = list(
        Dimension.objects.filter(version=version).prefetch_related(
            Prefetch("options", queryset=DimensionOption.objects.order_by("position"))
        )
    )
    level = next((d for d in dimensions if d.role == "level"), None)
    level_labels = {o.code: _in(lang, o, "label") for o in level.options.all()} if level else {}
    note = _in(lang, version, "guide_note")
    grid = g.Grid(
        version_id=version.pk,
        framework_name=_in(lang, version.framework, "name"),
        version_code=version.code,
        title=_in(lang, version, "title"),
        source=_in(lang, version, "source"),
        source_date=version.source_date,
        axes=tuple(
            g.Axis(
                code=a.code,
                label=_in(lang, a, "label"),
                description=_in(lang, a, "description"),
                original_label=original(a.label),
                situations=tuple(
                    g.Situation(
                        code=s.code,
                        label=_in(lang, s, "label"),
                        description=_in(lang, s, "description"),
                        axis_code=a.code,
                        original_label=original(s.label),
                        original_description=original(s.description),
                        practices=tuple(
                            g.Practice(
                                id=p.pk,
                                code=p.code,
                                label=_in(lang, p, "label"),
                                situation_code=s.code,
                                original_label=original(p.label),
                                guide=_guide(lang, p, level_labels, note),
                                language=lang,
                                original_language=version.language,
                            )
                            for p in s.practices.all()
                        ),
                    )
                    for s in a.situations.all()
                ),
            )
            for a in axes
        ),
        dimensions={
            d.role: g.Dimension(
                code=d.code,
                role=d.role,
                label=_in(lang, d, "label"),
                help_text=_in(lang, d, "help_text", "help"),
                original_label=original(d.label),
                original_help_text=original(d.help_text),
                options=tuple(
                    g.Option(
                        id=o.pk,
                        code=o.code,
                        label=_in(lang, o, "label"),
                        value=o.value,
                        partnership=o.partnership,
                        original_label=original(o.label),
                    )
                    for o in d.options.all()
                ),
            )
            for d in dimensions
        },
        language=lang,
        original_language=version.language,
        original_title=original(version.title),
    )
    if version.is_published:
        _published_grids[(version_id, wanted)] = grid
    return grid


def clear_grid_cache() -> None:
    _published_grids.clear()
    _default_version_id.clear()


def crosswalks_from(version_id: int) -> list[Crosswalk]:
    """The correspondence tables through which a positioning on this version can be read."""
    return list(
        Crosswalk.objects.filter(source_id=version_id)
        .select_related("target__framework")
        .order_by("target__framework__name", "target__code", "pk")
    )


def linked_content_stamp(version_id: int) -> str:
    """A digest of what a profile shows besides the grid and the answers: the resources of the
    version's framework and the correspondence tables from the version, every field of them.
    Two raw statements, no model built: a kept page is checked against it on each request, so a
    changed resource shows at once (core/skeleton.py)."""
    qn = connection.ops.quote_name
    resource_columns = ", ".join(f"r.{qn(f.column or f.attname)}" for f in Resource._meta.concrete_fields)
    digest = hashlib.sha256()
    digest.update(repr(fetch_all(
        f"SELECT {resource_columns} FROM {qn(Resource._meta.db_table)} r "  # noqa: S608 - names from the models
        f"JOIN {qn(FrameworkVersion._meta.db_table)} v ON v.{qn('framework_id')} = r.{qn('framework_id')} "
        f"WHERE v.{qn('id')} = %s ORDER BY r.{qn('id')}",
        [version_id],
    )).encode())
    digest.update(repr(fetch_all(
        f"SELECT c.{qn('id')}, c.{qn('target_id')}, c.{qn('name')}, t.{qn('code')}, t.{qn('title')}, "  # noqa: S608
        f"f.{qn('name')}, f.{qn('translations')} FROM {qn(Crosswalk._meta.db_table)} c "
        f"JOIN {qn(FrameworkVersion._meta.db_table)} t ON t.{qn('id')} = c.{qn('target_id')} "
        f"JOIN {qn(Framework._meta.db_table)} f ON f.{qn('id')} = t.{qn('framework_id')} "
        f"WHERE c.{qn('source_id')} = %s ORDER BY c.{qn('id')}",
        [version_id],
    )).encode())
    return digest.hexdigest()


def get_crosswalk_from(version_id: int, pk: int) -> Crosswalk | None:
    """One of :func:`crosswalks_from`, or None (a table from another version reads nothing here)."""
    return Crosswalk.objects.select_related("source__framework", "target__framework").filter(source_id=version_id, pk=pk).first()
