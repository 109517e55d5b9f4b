"""« Mes positionnements » and repeat positionings: the list, the comparison of any two, and
where a new positioning starts from."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.db.models import BooleanField, Case, QuerySet, Subquery, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from grille.core.access import private
from grille.frameworks.charts import situation_radar, situation_series
from grille.frameworks.enums import VersionStatus
from grille.frameworks.models import FrameworkVersion
from grille.frameworks.selectors import get_grid

from . import history, selectors
from .enums import AssessmentStatus
from .errors import AssessmentError
from .models import Assessment

SOURCE_FIELD = "depuis"
BEFORE_FIELD = "avant"
AFTER_FIELD = "apres"


class BadChoice(Exception):
    """A form value that is not a positioning identifier at all (a 400, not a 404)."""


def _chosen(request: HttpRequest, value: str) -> Assessment:
    """One of the caller's positionings by the uuid a form sent: BadChoice when it is no uuid,
    404 when it is not one of the caller's (someone else's looks exactly like a missing one)."""
    try:
        uuid = UUID(value)
    except ValueError:
        raise BadChoice(value) from None
    return selectors.get_assessment_for(request, uuid)


def _with_start_flag(assessments: QuerySet[Assessment]) -> QuerySet[Assessment]:
    """Each positioning flagged ``startable``: sent, on the framework new positionings use
    (that of get_default_version, the latest published version), in the same query."""
    default_framework = (
        FrameworkVersion.objects.filter(status=VersionStatus.PUBLISHED)
        .order_by("-published_at", "-id")
        .values("framework_id")[:1]
    )
    return assessments.annotate(startable=Case(
        When(status=AssessmentStatus.SUBMITTED, version__framework_id=Subquery(default_framework), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    ))


def start_sources(assessments: list[Assessment]) -> list[Assessment]:
    """The positionings whose answers a new positioning may start from, the latest sent first."""
    startable = [a for a in assessments if getattr(a, "startable", False)]
    return sorted(startable, key=lambda a: a.submitted_at or a.created_at, reverse=True)


def start_source(request: HttpRequest) -> Assessment | None:
    """The positioning the person chose to start from (field « depuis »), None for a blank one.

    BadChoice for a value that is no identifier; 404 for one that is not the caller's.
    """
    value = request.POST.get(SOURCE_FIELD, "").strip()
    if not value:
        return None
    return _chosen(request, value)


def bad_start_choice(request: HttpRequest) -> HttpResponse:
    return render(request, "assessments/history_error.html", {
        "message": _("Le positionnement de départ choisi n'existe pas. Rien n'a été créé : choisissez à nouveau."),
    }, status=400)


def tell_copied(request: HttpRequest, source: Assessment | None, copied: int) -> None:
    """After a start from an earlier positioning: say what was taken over."""
    if source is None:
        return
    messages.info(request, ngettext(
        "%(n)d réponse de votre positionnement du %(date)s a été reprise : modifiez ce qui a changé, puis envoyez.",
        "%(n)d réponses de votre positionnement du %(date)s ont été reprises : modifiez ce qui a changé, puis envoyez.",
        copied,
    ) % {"n": copied, "date": date_format(timezone.localtime(history.moment(source)), "DATETIME_FORMAT")})


@private
@require_GET
def assessment_list(request: HttpRequest) -> HttpResponse:
    assessments = list(_with_start_flag(selectors.list_assessments_for(request)))
    return render(request, "assessments/list.html", {
        "assessments": assessments,
        "start_sources": start_sources(assessments),
        **_default_pair(assessments),
    })


def _default_pair(choices: list[Assessment]) -> dict:
    """What the comparison form proposes: the two latest sent positionings, else the two latest."""
    sent = [a for a in choices if a.is_submitted]
    pool = sent if len(sent) > 1 else choices
    return {
        "before_default": pool[1].uuid if len(pool) > 1 else None,
        "after_default": pool[0].uuid if pool else None,
    }


@private
@require_GET
def compare(request: HttpRequest) -> HttpResponse:
    """Two of the caller's positionings side by side: per axis, situation and practice."""
    choices = list(selectors.list_assessments_for(request))
    context: dict = {"choices": choices, **_default_pair(choices)}
    first = request.GET.get(BEFORE_FIELD, "")
    second = request.GET.get(AFTER_FIELD, "")
    if not first or not second:
        status = 400 if (first or second) else 200
        if status == 400:
            context["error"] = _("Choisissez deux positionnements à comparer.")
        return render(request, "assessments/compare.html", context, status=status)
    try:
        picked = (_chosen(request, first), _chosen(request, second))
    except BadChoice:
        context["error"] = _("Choisissez deux positionnements à comparer.")
        return render(request, "assessments/compare.html", context, status=400)
    context["before_default"], context["after_default"] = picked[0].uuid, picked[1].uuid
    before, after = history.in_order(*picked)
    try:
        evolution = history.evolution(before, after)
    except AssessmentError as exc:
        context["error"] = str(exc)
        return render(request, "assessments/compare.html", context, status=exc.status)
    grid = get_grid(after.version_id)
    after_means = {d.situation.code: d.after for d in evolution.situations}
    before_means = {d.situation.code: d.before for d in evolution.situations}
    radar = situation_radar(grid, [
        situation_series(grid, after_means, label=_("Positionnement le plus récent")),
        situation_series(grid, before_means, label=_("Positionnement le plus ancien"), kind="secondary"),
    ], chart_id="compare-radar", title=_("Profil par situation professionnelle"))
    context.update({"before": before, "after": after, "evolution": evolution, "radar": radar, "grid": grid})
    return render(request, "assessments/compare.html", context)
