from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from .crosswalks import crosswalk_table
from .enums import VersionStatus
from .models import Crosswalk


@require_GET
def crosswalk_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A correspondence table, public like the grids it joins: both published (a study's earlier
    wave, loaded as a draft version, keeps its table to the campaign's analysts)."""
    public = Crosswalk.objects.filter(source__status=VersionStatus.PUBLISHED, target__status=VersionStatus.PUBLISHED)
    crosswalk = get_object_or_404(public.select_related("source__framework", "target__framework"), pk=pk)
    return render(request, "frameworks/crosswalk_detail.html", {"table": crosswalk_table(crosswalk)})
