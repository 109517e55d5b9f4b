from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from .crosswalks import crosswalk_table
from .models import Crosswalk


@require_GET
def crosswalk_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A correspondence table, public like the grids it joins."""
    crosswalk = get_object_or_404(Crosswalk.objects.select_related("source__framework", "target__framework"), pk=pk)
    return render(request, "frameworks/crosswalk_detail.html", {"table": crosswalk_table(crosswalk)})
