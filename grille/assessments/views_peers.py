"""Pages of « Se comparer aux pairs »: join, leave, and the comparison itself."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from grille.core.access import private
from grille.core.enums import StructureType

from . import grants, peers, permissions, selectors, services
from .forms import PeerJoinForm
from .models import Assessment
from .views import _profile_context


def _profile_anchor(assessment: Assessment) -> str:
    return reverse("assessments:profile", args=[assessment.uuid]) + "#pairs"


@private
@require_POST
def join(request: HttpRequest, uuid: UUID) -> HttpResponse:
    assessment = selectors.get_assessment_for(request, uuid)
    form = PeerJoinForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            share = peers.join_benchmark(assessment=assessment, structure_type=form.cleaned_data["structure_type"])
        except services.AssessmentError as exc:
            form.add_error(None, str(exc))
            status = exc.status
        else:
            if share.released:
                messages.success(request, _("Votre positionnement compte désormais dans la comparaison anonyme entre pairs."))
            else:
                messages.success(
                    request,
                    _("Votre positionnement rejoint la comparaison anonyme entre pairs : il comptera pour les autres avec le prochain lot."),
                )
            return redirect(_profile_anchor(assessment))
    context = _profile_context(request, assessment, chart_id="radar-chart")
    context["peer_form"] = form
    return render(request, "assessments/profile.html", context, status=status)


@private
@require_POST
def leave(request: HttpRequest, uuid: UUID) -> HttpResponse:
    assessment = selectors.get_assessment_for(request, uuid)
    if peers.leave_benchmark(assessment=assessment):
        messages.success(request, _("Votre positionnement est retiré de la comparaison entre pairs : il n'y compte plus."))
    else:
        messages.info(request, _("Ce positionnement ne participait pas à la comparaison entre pairs."))
    return redirect(_profile_anchor(assessment))


@private
@require_GET
def comparison(request: HttpRequest, uuid: UUID) -> HttpResponse:
    assessment = selectors.get_assessment_for(request, uuid)
    share = peers.get_peer_share(assessment)
    context = {
        "assessment": assessment,
        "all_peers": peers.ALL_PEERS,
        "own_type": share.structure_type if share else "",
        "own_type_label": StructureType(share.structure_type).label if share else "",
    }
    requested = request.GET.get("type", peers.ALL_PEERS)
    if requested != peers.ALL_PEERS and requested not in StructureType.values:
        context["error"] = _("Ce type de structure n'existe pas : choisissez l'un des filtres proposés.")
        return render(request, "assessments/peers.html", context, status=400)
    structure_type = None if requested == peers.ALL_PEERS else requested
    if structure_type and not permissions.can_compare_with_type(share, structure_type):
        context["error"] = _("Vous pouvez vous comparer à l'ensemble des pairs ou à ceux de votre type de structure.")
        return render(request, "assessments/peers.html", context, status=400)
    context["comparison"] = peers.peer_comparison(
        assessment, structure_type=structure_type, own_uuids=grants.granted_uuids(request)
    )
    return render(request, "assessments/peers.html", context)
