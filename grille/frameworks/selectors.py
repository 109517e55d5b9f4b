from __future__ import annotations

from django.db.models import Prefetch

from . import grid as g
from .enums import VersionStatus
from .models import (
    Axis,
    Crosswalk,
    Dimension,
    DimensionOption,
    FrameworkVersion,
    Practice,
    Situation,
)

# Published versions never change, so their grid can be kept for the life of
# the process; drafts are always read afresh.
_published_grids: dict[int, g.Grid] = {}


def get_default_version() -> FrameworkVersion | None:
    """The most recently published version: what a new positioning is answered on."""
    return (
        FrameworkVersion.objects.select_related("framework")
        .filter(status=VersionStatus.PUBLISHED)
        .order_by("-published_at", "-id")
        .first()
    )


def get_grid(version: FrameworkVersion | int) -> g.Grid:
    """The whole grid of one version, in four queries (cached once published)."""
    version_id = version if isinstance(version, int) else version.pk
    cached = _published_grids.get(version_id)
    if cached is not None:
        return cached
    if isinstance(version, int):
        version = FrameworkVersion.objects.select_related("framework").get(pk=version_id)
    practices = Prefetch("practices", queryset=Practice.objects.order_by("position"))
    situations = Prefetch(
        "situations",
        queryset=Situation.objects.order_by("position").prefetch_related(practices),
    )
    axes = Axis.objects.filter(version=version).order_by("position").prefetch_related(situations)
    dimensions = Dimension.objects.filter(version=version).prefetch_related(
        Prefetch("options", queryset=DimensionOption.objects.order_by("position"))
    )
    grid = g.Grid(
        version_id=version.pk,
        framework_name=version.framework.name,
        version_code=version.code,
        title=version.title,
        source=version.source,
        source_date=version.source_date,
        axes=tuple(
            g.Axis(
                code=a.code,
                label=a.label,
                description=a.description,
                situations=tuple(
                    g.Situation(
                        code=s.code,
                        label=s.label,
                        description=s.description,
                        axis_code=a.code,
                        practices=tuple(
                            g.Practice(id=p.pk, code=p.code, label=p.label, situation_code=s.code)
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
                label=d.label,
                help_text=d.help_text,
                options=tuple(
                    g.Option(id=o.pk, code=o.code, label=o.label, value=o.value, partnership=o.partnership)
                    for o in d.options.all()
                ),
            )
            for d in dimensions
        },
    )
    if version.is_published:
        _published_grids[version_id] = grid
    return grid


def clear_grid_cache() -> None:
    _published_grids.clear()


def crosswalks_from(version_id: int) -> list[Crosswalk]:
    """The correspondence tables through which a positioning on this version can be read."""
    return list(
        Crosswalk.objects.filter(source_id=version_id)
        .select_related("target__framework")
        .order_by("target__framework__name", "target__code", "pk")
    )


def get_crosswalk_from(version_id: int, pk: int) -> Crosswalk | None:
    """One of :func:`crosswalks_from`, or None (a table from another version reads nothing here)."""
    return Crosswalk.objects.select_related("source__framework", "target__framework").filter(source_id=version_id, pk=pk).first()
