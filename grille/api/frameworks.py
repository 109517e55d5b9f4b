"""Published frameworks and their grids: public, no token needed."""

from __future__ import annotations

from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.http import Http404, HttpRequest
from ninja import Path, Router

from grille.frameworks.enums import VersionStatus
from grille.frameworks.models import Framework, FrameworkVersion
from grille.frameworks.selectors import get_default_version

from .common import ID_MAX, PUBLIC_ERRORS, Page, limit_param, offset_param, paginate
from .schemas import FrameworkPage, VersionDetailOut, VersionPage

router = Router(tags=["Référentiels"])

PUBLISHED = Q(status=VersionStatus.PUBLISHED)


@router.get("/frameworks", response={200: FrameworkPage, **PUBLIC_ERRORS}, summary="Référentiels publiés")
def list_frameworks(request: HttpRequest, limit: int = limit_param(), offset: int = offset_param()) -> Page[Framework]:
    """Les référentiels qui ont au moins une version publiée."""
    default = get_default_version()
    # The version a new positioning starts on, on its framework's row only.
    default_version = Case(
        *([When(pk=default.framework_id, then=Value(default.pk))] if default is not None else []),
        output_field=IntegerField(),
    )
    frameworks = (
        Framework.objects.annotate(
            published_versions=Count("versions", filter=Q(versions__status=VersionStatus.PUBLISHED)),
            default_version=default_version,
        )
        .filter(published_versions__gt=0)
        .order_by("name", "code")
    )
    return paginate(frameworks, limit=limit, offset=offset)


@router.get(
    "/frameworks/{code}/versions", response={200: VersionPage, **PUBLIC_ERRORS}, summary="Versions publiées d'un référentiel"
)
def list_versions(
    request: HttpRequest, code: str, limit: int = limit_param(), offset: int = offset_param()
) -> Page[FrameworkVersion]:
    """Les versions publiées d'un référentiel, la plus récente d'abord ; les brouillons n'apparaissent jamais."""
    versions = (
        FrameworkVersion.objects.filter(PUBLISHED, framework__code=code)
        .select_related("framework")
        .order_by("-published_at", "-id")
    )
    page = paginate(versions, limit=limit, offset=offset)
    if page.count == 0:
        raise Http404
    return page


@router.get("/versions/{version_id}", response={200: VersionDetailOut, **PUBLIC_ERRORS}, summary="Grille d'une version")
def get_version(request: HttpRequest, version_id: int = Path(..., ge=1, le=ID_MAX)) -> FrameworkVersion:
    """Toute la grille d'une version publiée : questions posées par pratique et leurs échelles, axes, situations, pratiques."""
    version = FrameworkVersion.objects.filter(PUBLISHED, pk=version_id).select_related("framework").first()
    if version is None:
        raise Http404
    return version
