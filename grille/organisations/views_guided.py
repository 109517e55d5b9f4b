"""The guided workshop: agenda, one practice per screen, live follow, summary and printable kit.

Facilitators drive (permissions.can_run_workshop); every member reads and follows
(permissions.can_follow_workshop). Everything works without JavaScript: the practice pages have
previous and next buttons, the follow page an « Actualiser » link; guided.js adds the arrow keys,
the ticking timer and the live refresh.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from grille.core.access import private
from grille.core.charts import distribution_bar
from grille.core.security_log import security_event
from grille.core.users import AuthenticatedHttpRequest

from . import guided, permissions, selectors, services
from .enums import DecisionMode, PartnerType
from .forms import CommentForm, DecisionForm
from .forms_guided import AgendaForm, GuidedActionForm, member_choices
from .models import Membership, WorkshopSession
from .team import ANONYMOUS_BATCH, ANONYMOUS_MIN, TeamMap, build_team_map
from .views import _refused


def _team(membership: Membership) -> TeamMap:
    if not permissions.can_follow_workshop(membership):
        raise PermissionDenied
    return build_team_map(membership.organisation)


def _base_context(membership: Membership, **extra: object) -> dict[str, object]:
    return {
        "membership": membership,
        "organisation": membership.organisation,
        "can_run_workshop": permissions.can_run_workshop(membership),
        "can_decide": permissions.can_decide(membership),
        "can_manage_actions": permissions.can_manage_actions(membership),
        "can_export_team": permissions.can_export_team(membership),
        "anonymous_min": ANONYMOUS_MIN,
        "anonymous_batch": ANONYMOUS_BATCH,
        **extra,
    }


def practice_screen(membership: Membership, session: WorkshopSession, team: TeamMap, position: int) -> dict[str, Any]:
    """What one practice's screen shows, the same for the facilitator, the projector and the
    members' devices: the team map's figures for it (shown cells only), its shared comments,
    whether it is a debate point, the organisation's current decision and the timer."""
    if not 0 <= position < len(session.agenda):
        raise Http404
    code = session.agenda[position]
    grid = team.grid
    practice = grid.practice(code)
    if practice is None:
        raise Http404
    stats = team.stats(code)
    distribution = team.distribution(stats)
    debate = next((p for p in team.disagreements if p.practice.code == code), None)
    named = [
        {"name": c.name, "cell": team.matrix.get((c.assessment_id, practice.id))}
        for c in team.contributors
    ]
    return {
        "session": session,
        "team": team,
        "position": position,
        "number": position + 1,
        "total": len(session.agenda),
        "previous_position": position - 1 if position > 0 else None,
        "next_position": position + 1 if position + 1 < len(session.agenda) else None,
        "is_current": position == session.current_index,
        "practice": practice,
        "situation": grid.situation(practice.situation_code),
        "stats": stats,
        "distribution": distribution,
        "bar": distribution_bar(segments=[(o.label, n, o.value is not None) for o, n in distribution], width=360, height=28),
        "is_gap": any(p.practice.code == code for p in team.gaps),
        "debate": debate,
        "named": [row for row in named if row["cell"] is not None],
        "comments": list(selectors.comments_on(membership, practice.id)),
        "decision": selectors.decisions_of(membership).get(practice.id),
        "mode_labels": dict(DecisionMode.choices),
        "partner_labels": dict(PartnerType.choices),
        "seconds": (seconds := guided.item_seconds(session, code)),
        "clock": guided.clock(seconds),
        "planned_seconds": session.minutes_per_item * 60,
        "planned_clock": guided.clock(session.minutes_per_item * 60),
        "overtime": seconds > session.minutes_per_item * 60,
        "timer_running": session.is_open and position == session.current_index,
        "refreshed_at": timezone.localtime(),
    }


def _decision_form(decision: Any) -> DecisionForm:
    if decision is None:
        return DecisionForm()
    return DecisionForm(initial={
        "mode": decision.mode, "partner_types": decision.partner_types, "partners": decision.partners, "note": decision.note,
    })


def _item_page(
    request: HttpRequest, membership: Membership, session: WorkshopSession, position: int, *,
    form: DecisionForm | None = None, action_form: GuidedActionForm | None = None,
    comment_form: CommentForm | None = None, status: int = 200,
) -> HttpResponse:
    team = _team(membership)
    screen = practice_screen(membership, session, team, position)
    members = member_choices(selectors.members_of(membership)) if permissions.can_manage_actions(membership) else []
    return render(request, "organisations/guided_item.html", _base_context(
        membership,
        **screen,
        agenda=guided.agenda_items(session, team),
        form=form or _decision_form(screen["decision"]),
        action_form=action_form or GuidedActionForm(members=members),
        comment_form=comment_form or CommentForm(),
        actions=[a for a in selectors.actions_of(membership) if any(p.code == screen["practice"].code for p in a.practices.all())],
    ), status=status)


@login_required
@private
@require_http_methods(["GET", "POST"])
def guided_setup(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    """The agenda: facilitators choose the practices or situations to debate and their order."""
    membership = selectors.get_membership(request.user, uuid)
    team = _team(membership)
    grid = team.grid
    status = 200
    if request.method == "POST":
        form = AgendaForm(request.POST, grid=grid)
        if form.is_valid():
            try:
                session = guided.start_workshop_session(
                    membership=membership, team=team, ordering=form.cleaned_data["ordering"],
                    practice_codes=form.cleaned_data["practices"], situation_codes=form.cleaned_data["situations"],
                    minutes_per_item=form.cleaned_data["minutes_per_item"],
                )
            except services.NotAllowed as exc:
                return render(request, "organisations/refused.html", {"membership": membership, "message": str(exc)}, status=403)
            except services.OrganisationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("L'atelier est ouvert : les membres peuvent le suivre sur leur appareil."))
                return redirect("organisations:guided_item", uuid=uuid, session_id=session.pk, position=0)
        status = 400
        ordering = request.POST.get("ordering", guided.DEFAULT_ORDERING)
    else:
        ordering = request.GET.get("ordre", guided.DEFAULT_ORDERING)
        if ordering not in guided.ORDERINGS:
            ordering = guided.DEFAULT_ORDERING
        form = AgendaForm(grid=grid, initial={
            "ordering": ordering, "practices": guided.suggested_codes(team, ordering),
        })
    if ordering not in guided.ORDERINGS:
        ordering = guided.DEFAULT_ORDERING
    chosen = set(form["practices"].value() or [])
    gaps = {p.practice.code for p in team.gaps}
    debates = {p.practice.code for p in team.disagreements}
    rows = [
        {"stats": s, "checked": s.practice.code in chosen, "is_gap": s.practice.code in gaps, "is_debate": s.practice.code in debates}
        for s in guided.order_practices(team, ordering)
    ]
    return render(request, "organisations/guided_setup.html", _base_context(
        membership, team=team, form=form, rows=rows, ordering=ordering, orderings=guided.ORDERINGS,
        open_session=guided.open_session(membership),
        past_sessions=guided.sessions_of(membership).filter(ended_at__isnull=False)[:10],
        chosen_situations=set(form["situations"].value() or []),
    ), status=status)


@login_required
@private
@require_GET
def guided_item(request: AuthenticatedHttpRequest, uuid: UUID, session_id: int, position: int) -> HttpResponse:
    membership = selectors.get_membership(request.user, uuid)
    session = guided.get_session(membership, session_id)
    return _item_page(request, membership, session, position)


def _redirect_item(uuid: UUID, session: WorkshopSession, position: int) -> HttpResponse:
    return redirect("organisations:guided_item", uuid=uuid, session_id=session.pk, position=position)


@login_required
@require_POST
def guided_decide(request: AuthenticatedHttpRequest, uuid: UUID, session_id: int, position: int) -> HttpResponse:
    """Record the decision on the practice on screen, then stay or go on to the next one."""
    membership = selectors.get_membership(request.user, uuid)
    session = guided.get_session(membership, session_id)
    screen_code = practice_screen(membership, session, _team(membership), position)["practice"].code
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _item_page(request, membership, session, position, form=form, status=400)
    try:
        services.set_decision(membership=membership, practice_code=screen_code, **form.cleaned_data)
    except services.NotAllowed as exc:
        return render(request, "organisations/refused.html", {"membership": membership, "message": str(exc)}, status=403)
    except services.OrganisationError as exc:
        form.add_error(None, str(exc))
        return _item_page(request, membership, session, position, form=form, status=400)
    messages.success(request, _("Arbitrage enregistré pour la pratique %(code)s.") % {"code": screen_code})
    if request.POST.get("then") == "next" and position + 1 < len(session.agenda) and session.is_open:
        guided.move_workshop_session(membership=membership, session=session, position=position + 1)
        return _redirect_item(uuid, session, position + 1)
    return _redirect_item(uuid, session, position)


@login_required
@require_POST
def guided_action(request: AuthenticatedHttpRequest, uuid: UUID, session_id: int, position: int) -> HttpResponse:
    """Add an action about the practice on screen to the plan."""
    membership = selectors.get_membership(request.user, uuid)
    session = guided.get_session(membership, session_id)
    code = practice_screen(membership, session, _team(membership), position)["practice"].code
    form = GuidedActionForm(request.POST, members=member_choices(selectors.members_of(membership)))
    if not form.is_valid():
        return _item_page(request, membership, session, position, action_form=form, status=400)
    try:
        services.create_action(
            membership=membership, title=form.cleaned_data["title"], practice_codes=[code],
            owner_id=form.cleaned_data["owner"], due_date=form.cleaned_data["due_date"],
        )
    except services.NotAllowed as exc:
        return render(request, "organisations/refused.html", {"membership": membership, "message": str(exc)}, status=403)
    except services.OrganisationError as exc:
        form.add_error(None, str(exc))
        return _item_page(request, membership, session, position, action_form=form, status=400)
    messages.success(request, _("Action ajoutée au plan."))
    return _redirect_item(uuid, session, position)


@login_required
@require_POST
def guided_comment(request: AuthenticatedHttpRequest, uuid: UUID, session_id: int, position: int) -> HttpResponse:
    """Every member may add a comment to the practice on screen."""
    membership = selectors.get_membership(request.user, uuid)
    session = guided.get_session(membership, session_id)
    code = practice_screen(membership, session, _team(membership), position)["practice"].code
    form = CommentForm(request.POST)
    if not form.is_valid():
        return _item_page(request, membership, session, position, comment_form=form, status=400)
    try:
        services.add_comment(membership=membership, practice_code=code, body=form.cleaned_data["body"])
    except services.OrganisationError as exc:
        form.add_error("body", str(exc))
        return _item_page(request, membership, session, position, comment_form=form, status=400)
    messages.success(request, _("Commentaire ajouté."))
    return _redirect_item(uuid, session, position)


@login_required
@require_POST
def guided_move(request: AuthenticatedHttpRequest, uuid: UUID, session_id: int) -> HttpResponse:
    """Bring the room to another practice of the agenda (previous, next or any)."""
    membership = selectors.get_membership(request.user, uuid)
    session = guided.get_session(membership, session_id)
    try:
        position = int(request.POST.get("position", ""))
    except ValueError:
        position = -1
    try:
        guided.move_workshop_session(membership=membership, session=session, position=position)
    except services.OrganisationError as exc:
        return _refused(request, membership, exc)
    return _redirect_item(uuid, session, position)


@login_required
@require_POST
def guided_end(request: AuthenticatedHttpRequest, uuid: UUID, session_id: int) -> HttpResponse:
    membership = selectors.get_membership(request.user, uuid)
    session = guided.get_session(membership, session_id)
    try:
        guided.end_workshop_session(membership=membership, session=session)
    except services.OrganisationError as exc:
        return _refused(request, membership, exc)
    messages.success(request, _("L'atelier est terminé. Voici ce qu'il a décidé."))
    return redirect("organisations:guided_summary", uuid=uuid, session_id=session.pk)


def _follow_context(membership: Membership, session: WorkshopSession) -> dict[str, Any]:
    team = _team(membership)
    context = _base_context(membership, session=session, team=team)
    if session.is_open and session.agenda:
        context.update(practice_screen(membership, session, team, min(session.current_index, len(session.agenda) - 1)))
    return context


@login_required
@private
@require_GET
def guided_follow(request: AuthenticatedHttpRequest, uuid: UUID, session_id: int) -> HttpResponse:
    """The members' read-only view: the practice the room is on, refreshed live by guided.js."""
    membership = selectors.get_membership(request.user, uuid)
    session = guided.get_session(membership, session_id)
    return render(request, "organisations/guided_follow.html", _follow_context(membership, session))


@login_required
@private
@require_GET
def guided_follow_live(request: AuthenticatedHttpRequest, uuid: UUID, session_id: int) -> HttpResponse:
    """The live part of the follow page; a removed member gets the 404 of a missing page."""
    membership = selectors.get_membership(request.user, uuid)
    session = guided.get_session(membership, session_id)
    return render(request, "organisations/_guided_follow_live.html", _follow_context(membership, session))


@login_required
@private
@require_GET
def guided_summary(request: AuthenticatedHttpRequest, uuid: UUID, session_id: int) -> HttpResponse:
    membership = selectors.get_membership(request.user, uuid)
    session = guided.get_session(membership, session_id)
    team = _team(membership)
    return render(request, "organisations/guided_summary.html", _base_context(
        membership, session=session, team=team, agenda=guided.agenda_items(session, team),
        summary=guided.session_summary(session, team),
        mode_labels=dict(DecisionMode.choices), partner_labels=dict(PartnerType.choices),
    ))


@login_required
@private
@require_GET
def guided_kit_pdf(request: AuthenticatedHttpRequest, uuid: UUID, session_id: int) -> HttpResponse:
    """The printable workshop kit, built from the same data as the screens."""
    from grille.core.pdf import render_pdf

    from .kit import kit_context

    membership = selectors.get_membership(request.user, uuid)
    session = guided.get_session(membership, session_id)
    if not permissions.can_export_team(membership):
        raise PermissionDenied
    context = kit_context(membership, session, _team(membership))
    security_event(request, "export", organisation=uuid, kind="workshop_kit_pdf")
    filename = f"kit-atelier-{timezone.localdate().isoformat()}.pdf"
    return render_pdf(request, "organisations/kit_pdf.html", context, filename=filename)
