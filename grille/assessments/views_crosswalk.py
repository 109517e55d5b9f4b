"""A positioning read through a correspondence table: its figures on another version's situations."""

from __future__ import annotations

from uuid import UUID

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from grille.core.access import private
from grille.frameworks.charts import situation_radar, situation_series
from grille.frameworks.crosswalks import read_profile
from grille.frameworks.selectors import get_crosswalk_from

from . import selectors


@private
@require_GET
def read_through(request: HttpRequest, uuid: UUID, pk: int) -> HttpResponse:
    assessment = selectors.get_assessment_for(request, uuid)
    crosswalk = get_crosswalk_from(assessment.version_id, pk)
    if crosswalk is None:
        raise Http404(_("Cette table de correspondance ne s'applique pas à ce positionnement."))
    profile = selectors.get_profile(assessment)
    reading = read_profile(crosswalk, {s.practice.code: s.value for s in profile.practices})
    radar = situation_radar(
        reading.target,
        [situation_series(
            reading.target, {s.situation.code: s.mean for s in reading.situations},
            label=_("Ce positionnement, lu dans l'autre version"),
        )],
        chart_id="crosswalk-radar",
        title=_("Profil lu selon les situations de « %(version)s »") % {"version": crosswalk.target},
        max_value=reading.max_value,
    )
    return render(
        request,
        "assessments/crosswalk_profile.html",
        {"assessment": assessment, "profile": profile, "reading": reading, "radar": radar},
    )
