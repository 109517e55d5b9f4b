"""Published frameworks and their grids: public, no token needed."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.http import Http404, HttpRequest
from ninja import Path, Router

from grille.frameworks import grid as g
from grille.frameworks.enums import VersionStatus
from grille.frameworks.models import Framework, FrameworkVersion
from grille.frameworks.selectors import get_default_version, get_grid

from .common import ID_MAX, PUBLIC_ERRORS, limit_param, offset_param, paginate
from .schemas import FrameworkPage, VersionDetailOut, VersionPage

router = Router(tags=["Référentiels"])

PUBLISHED = Q(status=VersionStatus.PUBLISHED)


def version_dict(version: FrameworkVersion) -> dict[str, Any]:
    return {
        "id": version.pk,
        "framework": version.framework.code,
        "code": version.code,
        "title": version.title,
        "source": version.source,
        "source_date": version.source_date,
        "published_at": version.published_at,
    }


def version_ref(version: FrameworkVersion) -> dict[str, Any]:
    return {"id": version.pk, "framework": version.framework.code, "code": version.code}


@router.get("/frameworks", response={200: FrameworkPage, **PUBLIC_ERRORS}, summary="Référentiels publiés")
def list_frameworks(request: HttpRequest, limit: int = limit_param(), offset: int = offset_param()):
    """Les référentiels qui ont au moins une version publiée."""
    default = get_default_version()
    frameworks = (
        Framework.objects.annotate(published_versions=Count("versions", filter=Q(versions__status=VersionStatus.PUBLISHED)))
        .filter(published_versions__gt=0)
        .order_by("name", "code")
    )
    return paginate(frameworks, limit=limit, offset=offset, item=lambda f: {
        "code": f.code,
        "name": f.name,
        "publisher": f.publisher,
        "published_versions": f.published_versions,
        "default_version": default.pk if default is not None and default.framework_id == f.pk else None,
    })


@router.get(
    "/frameworks/{code}/versions", response={200: VersionPage, **PUBLIC_ERRORS}, summary="Versions publiées d'un référentiel"
)
def list_versions(request: HttpRequest, code: str, limit: int = limit_param(), offset: int = offset_param()):
    """Les versions publiées d'un référentiel, la plus récente d'abord ; les brouillons n'apparaissent jamais."""
    versions = (
        FrameworkVersion.objects.filter(PUBLISHED, framework__code=code)
        .select_related("framework")
        .order_by("-published_at", "-id")
    )
    page = paginate(versions, limit=limit, offset=offset, item=version_dict)
    if page["count"] == 0:
        raise Http404
    return page


@router.get("/versions/{version_id}", response={200: VersionDetailOut, **PUBLIC_ERRORS}, summary="Grille d'une version")
def get_version(request: HttpRequest, version_id: int = Path(..., ge=1, le=ID_MAX)):
    """Toute la grille d'une version publiée : questions posées par pratique et leurs échelles, axes, situations, pratiques."""
    version = FrameworkVersion.objects.filter(PUBLISHED, pk=version_id).select_related("framework").first()
    if version is None:
        raise Http404
    grid = get_grid(version)
    return {
        **version_dict(version),
        "framework_name": version.framework.name,
        "dimensions": [_dimension(grid.dimensions[role]) for role in ("level", "wish", "carrying") if role in grid.dimensions],
        "axes": [
            {
                "code": axis.code,
                "label": axis.label,
                "description": axis.description,
                "situations": [
                    {
                        "code": s.code,
                        "label": s.label,
                        "description": s.description,
                        "practices": [{"code": p.code, "label": p.label} for p in s.practices],
                    }
                    for s in axis.situations
                ],
            }
            for axis in grid.axes
        ],
    }


def _dimension(dimension: g.Dimension) -> dict[str, Any]:
    return {
        "role": dimension.role,
        "code": dimension.code,
        "label": dimension.label,
        "help_text": dimension.help_text,
        "options": [
            {"code": o.code, "label": o.label, "value": o.value, "partnership": o.partnership} for o in dimension.options
        ],
    }
