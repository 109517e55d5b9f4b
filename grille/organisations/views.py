from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from grille.assessments.forms import EmailForm
from grille.core.access import private
from grille.core.people import person_label
from grille.core.ratelimit import (
    BAD_INVITATION_LINKS,
    RateLimited,
    counts_unknown_links,
    too_many_mails,
)
from grille.core.security_log import security_event
from grille.core.users import AuthenticatedHttpRequest
from grille.frameworks.selectors import get_grid

from . import permissions, selectors, services
from .enums import DecisionMode, PartnerType, ShareMode
from .forms import (
    ActionForm,
    CommentForm,
    DecisionForm,
    InvitationBatchForm,
    InvitationForm,
    OrganisationForm,
    RoleForm,
    ShareForm,
    StatusForm,
)
from .models import Membership
from .reports import team_radar
from .team import ANONYMOUS_BATCH, ANONYMOUS_MIN, TeamMap, build_team_map


def _refused(request: HttpRequest, membership: Membership | None, exc: services.OrganisationError) -> HttpResponse:
    return render(
        request, "organisations/refused.html", {"membership": membership, "message": str(exc)}, status=exc.status
    )


def _org_context(membership: Membership, **extra: object) -> dict[str, object]:
    return {
        "membership": membership,
        "organisation": membership.organisation,
        # What the templates offer, as permissions.py answers it: they never test a role.
        "can_export_team": permissions.can_export_team(membership),
        "can_manage_members": permissions.can_manage_members(membership),
        "can_decide": permissions.can_decide(membership),
        "can_manage_actions": permissions.can_manage_actions(membership),
        **extra,
    }


def _team_map(membership: Membership, *, may: Callable[[Membership | None], bool] = permissions.can_view_team) -> TeamMap:
    """The team map, built only for those permissions.py shows it to: page, workshop and reports alike."""
    if not may(membership):
        raise PermissionDenied
    return build_team_map(membership.organisation)


@login_required
@require_GET
def organisation_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "organisations/organisation_list.html", {
        "memberships": selectors.list_organisations_for(request.user),
    })


@login_required
@require_http_methods(["GET", "POST"])
def organisation_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = OrganisationForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                organisation = services.create_organisation(user=request.user, **form.cleaned_data)
            except services.OrganisationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("La structure est créée. Invitez maintenant ses membres."))
                return redirect("organisations:members", uuid=organisation.uuid)
        return render(request, "organisations/organisation_create.html", {"form": form}, status=400)
    return render(request, "organisations/organisation_create.html", {"form": form})


@login_required
@private
@require_GET
def organisation_home(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    membership = selectors.get_membership(request.user, uuid)
    team = _team_map(membership)
    return render(request, "organisations/organisation_home.html", _org_context(
        membership,
        team=team,
        radar=team_radar(team, chart_id="team-radar"),
        share=selectors.active_share(membership),
        anonymous_min=ANONYMOUS_MIN,
        anonymous_batch=ANONYMOUS_BATCH,
    ))


@login_required
@private
@require_http_methods(["GET", "POST"])
def share(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    membership = selectors.get_membership(request.user, uuid)
    assessments = selectors.shareable_assessments(membership)
    form = ShareForm(request.POST or None, initial={"mode": ShareMode.NAMED})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            assessment = assessments.filter(uuid=form.cleaned_data["assessment"]).first()
            if assessment is None:
                form.add_error("assessment", _("Choisissez l'un de vos positionnements envoyés."))
            else:
                try:
                    services.share_assessment(membership=membership, assessment=assessment, mode=form.cleaned_data["mode"])
                except services.OrganisationError as exc:
                    return _refused(request, membership, exc)
                messages.success(request, _("Votre positionnement est partagé avec la structure."))
                return redirect("organisations:home", uuid=uuid)
        status = 400
    # « Partager avec … » on a profile names the positioning to preselect.
    wanted = request.POST.get("assessment") or request.GET.get("positionnement", "")
    chosen = next((str(a.uuid) for a in assessments if str(a.uuid) == wanted), None)
    return render(request, "organisations/share.html", _org_context(
        membership, form=form, assessments=assessments, share=selectors.active_share(membership), chosen=chosen,
        anonymous_min=ANONYMOUS_MIN, anonymous_batch=ANONYMOUS_BATCH,
    ), status=status)


@login_required
@require_POST
def withdraw(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    membership = selectors.get_membership(request.user, uuid)
    services.withdraw_share(membership=membership)
    messages.success(request, _("Votre partage est retiré : vos réponses n'apparaissent plus dans les vues de l'équipe."))
    return redirect("organisations:home", uuid=uuid)


@login_required
@require_GET
def members(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    membership = selectors.get_membership(request.user, uuid)
    return render(request, "organisations/members.html", _members_context(request, membership))


def _members_context(request: HttpRequest, membership: Membership, **extra: object) -> dict[str, object]:
    return _org_context(
        membership,
        members=selectors.members_of(membership),
        invitations=selectors.invitations_of(membership) if permissions.can_manage_members(membership) else [],
        form=extra.pop("form", None) or InvitationForm(),
        batch_form=extra.pop("batch_form", None) or InvitationBatchForm(prefix="batch"),
        batch_report=request.session.pop("grille_invitation_report", None),
        batch_max=services.INVITATION_BATCH_MAX,
        new_link=request.session.pop("grille_new_invitation", None),
        **extra,
    )


@login_required
@require_POST
def invite(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    membership = selectors.get_membership(request.user, uuid)
    form = InvitationForm(request.POST)
    if not form.is_valid():
        return render(request, "organisations/members.html", _members_context(request, membership, form=form), status=400)
    try:
        _invitation, raw = services.create_invitation(
            membership=membership,
            email=form.cleaned_data["email"] or "",
            days=form.cleaned_data["days"],
            max_uses=None if form.cleaned_data["multi_use"] else 1,
        )
    except services.OrganisationError as exc:
        return _refused(request, membership, exc)
    except RateLimited as exc:
        return too_many_mails(request, exc)
    # Shown once on the next page: only the hash is kept.
    request.session["grille_new_invitation"] = services.join_url(raw)
    if form.cleaned_data["email"]:
        messages.success(request, _("Invitation envoyée à %(email)s.") % {"email": form.cleaned_data["email"]})
    return redirect("organisations:members", uuid=uuid)


# The lines without an address listed after a batch, at most: the page stays readable whatever the file.
BATCH_ERRORS_SHOWN = 100


@login_required
@require_POST
def invite_batch(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    """Invite a pasted or uploaded list of addresses; the next page lists what became of each."""
    membership = selectors.get_membership(request.user, uuid)
    if not permissions.can_manage_members(membership):
        return _refused(request, membership, services.NotAllowed(_("Seul·e un·e animateur·rice de la structure peut inviter des membres.")))
    form = InvitationBatchForm(request.POST, request.FILES, prefix="batch")
    report = None
    if form.is_valid():
        try:
            addresses = services.read_address_list(pasted=form.cleaned_data["addresses"], raw=form.raw_file())
            report = services.invite_batch(membership=membership, addresses=addresses, days=form.cleaned_data["days"])
        except services.NotAllowed as exc:
            return _refused(request, membership, exc)
        except services.OrganisationError as exc:
            form.add_error(None, str(exc))
    if report is None:
        context = _members_context(request, membership, batch_form=form)
        return render(request, "organisations/members.html", context, status=400)
    # Shown once on the next page, as the new link is: plain strings, in the session.
    request.session["grille_invitation_report"] = {
        "invited": report.invited,
        "already_members": report.already_members,
        "already_invited": report.already_invited,
        "postponed": report.postponed,
        "retry_minutes": report.retry_minutes,
        "errors": [str(error) for error in report.errors[:BATCH_ERRORS_SHOWN]],
        "more_errors": max(0, len(report.errors) - BATCH_ERRORS_SHOWN),
        "not_invited": report.not_invited,
    }
    return redirect(reverse("organisations:members", args=[uuid]) + "#invite-report")


@login_required
@require_POST
def remind(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    membership = selectors.get_membership(request.user, uuid)
    try:
        services.remind_members(membership=membership)
    except services.OrganisationError as exc:
        return _refused(request, membership, exc)
    # No count: it would tell the exact number of anonymous shares (services.remind_members).
    messages.success(request, _(
        "Un rappel part par e-mail vers chaque membre qui n'a pas encore partagé son positionnement "
        "(au plus un rappel par personne et par jour)."
    ))
    return redirect("organisations:members", uuid=uuid)


@login_required
@require_POST
def revoke_invitation(request: AuthenticatedHttpRequest, uuid: UUID, invitation_id: int) -> HttpResponse:
    membership = selectors.get_membership(request.user, uuid)
    invitation = selectors.get_invitation(membership, invitation_id)
    try:
        services.revoke_invitation(membership=membership, invitation=invitation)
    except services.OrganisationError as exc:
        return _refused(request, membership, exc)
    messages.success(request, _("L'invitation est révoquée."))
    return redirect("organisations:members", uuid=uuid)


@login_required
@require_POST
def change_role(request: AuthenticatedHttpRequest, uuid: UUID, member_id: int) -> HttpResponse:
    membership = selectors.get_membership(request.user, uuid)
    target = selectors.get_member(membership, member_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _refused(request, membership, services.OrganisationError(_("Rôle inconnu.")))
    try:
        services.set_role(by=membership, target=target, role=form.cleaned_data["role"])
    except services.OrganisationError as exc:
        return _refused(request, membership, exc)
    security_event(request, "role_change", organisation=uuid, member=target.user_id, role=form.cleaned_data["role"])
    messages.success(request, _("Le rôle de %(name)s est modifié.") % {"name": person_label(target.user, reveal_email=True)})
    return redirect("organisations:members", uuid=uuid)


@login_required
@require_http_methods(["GET", "POST"])
def remove_member(request: AuthenticatedHttpRequest, uuid: UUID, member_id: int) -> HttpResponse:
    """GET asks for confirmation; POST removes (or leaves, for one's own membership)."""
    membership = selectors.get_membership(request.user, uuid)
    target = selectors.get_member(membership, member_id)
    if request.method == "GET":
        if not permissions.can_remove_member(membership, target):
            return _refused(request, membership, services.NotAllowed(
                _("Seul·e un·e animateur·rice de la structure peut retirer un membre.")
            ))
        return render(request, "organisations/remove_confirm.html", _org_context(
            membership, target=target, leaving=target.pk == membership.pk,
            # Only one's own share is told: whether someone else shares, even anonymously, is theirs.
            own_share=selectors.active_share(membership) if target.pk == membership.pk else None,
        ))
    try:
        services.remove_member(by=membership, target=target)
    except services.OrganisationError as exc:
        return _refused(request, membership, exc)
    if target.pk == membership.pk:
        messages.success(request, _("Vous avez quitté la structure."))
        return redirect("organisations:list")
    messages.success(request, _("%(name)s ne fait plus partie de la structure.") % {"name": person_label(target.user, reveal_email=True)})
    return redirect("organisations:members", uuid=uuid)


@counts_unknown_links(BAD_INVITATION_LINKS)
@private
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.find_invitation(token)
    except services.InvitationError as exc:
        return render(request, "organisations/join_invalid.html", {"reason": exc.reason}, status=404 if exc.reason == "unknown" else 410)
    if not request.user.is_authenticated:
        return render(request, "organisations/join.html", {
            "invitation": invitation, "form": EmailForm(initial={"email": invitation.email}), "next": request.path,
        })
    if request.method == "POST":
        try:
            membership = services.accept_invitation(raw=token, user=request.user)
        except services.InvitationError as exc:
            return render(request, "organisations/join_invalid.html", {"reason": exc.reason}, status=410)
        messages.success(request, _("Bienvenue dans « %(name)s » !") % {"name": membership.organisation.name})
        return redirect("organisations:home", uuid=membership.organisation.uuid)
    return render(request, "organisations/join.html", {"invitation": invitation})


def _decision_rows(membership: Membership, team: TeamMap) -> list[dict]:
    decisions = selectors.decisions_of(membership)
    comments = selectors.comment_counts(membership)
    return [
        {"stats": stats, "decision": decisions.get(stats.practice.id), "comments": comments.get(stats.practice.id, 0)}
        for stats in team.practices
    ]


@login_required
@require_GET
def decisions(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    membership = selectors.get_membership(request.user, uuid)
    team = _team_map(membership)
    return render(request, "organisations/decisions.html", _org_context(
        membership, team=team, rows=_decision_rows(membership, team),
    ))


def _decision_page(
    request: HttpRequest, membership: Membership, code: str, *, form: DecisionForm | None = None,
    comment_form: CommentForm | None = None, status: int = 200,
) -> HttpResponse:
    grid = get_grid(membership.organisation.version_id)
    practice = grid.practice(code)
    if practice is None:
        raise Http404(_("Cette pratique n'existe pas dans la grille."))
    decision = selectors.decisions_of(membership).get(practice.id)
    if form is None:
        initial = {"mode": decision.mode, "partner_types": decision.partner_types, "partners": decision.partners, "note": decision.note} if decision else {}
        form = DecisionForm(initial=initial)
    team = _team_map(membership)
    codes = [p.code for p in grid.practices]
    index = codes.index(practice.code)
    return render(request, "organisations/decision_detail.html", _org_context(
        membership,
        previous_practice=grid.practices[index - 1] if index > 0 else None,
        next_practice=grid.practices[index + 1] if index + 1 < len(codes) else None,
        practice=practice,
        situation=grid.situation(practice.situation_code),
        stats=team.stats(practice.code),
        team=team,
        decision=decision,
        form=form,
        comment_form=comment_form or CommentForm(),
        history=selectors.decision_history(membership, practice.id),
        comments=selectors.comments_on(membership, practice.id),
        partner_labels=dict(PartnerType.choices),
        mode_labels=dict(DecisionMode.choices),
    ), status=status)


@login_required
@require_http_methods(["GET", "POST"])
def decision_detail(request: AuthenticatedHttpRequest, uuid: UUID, code: str) -> HttpResponse:
    membership = selectors.get_membership(request.user, uuid)
    if request.method == "GET":
        return _decision_page(request, membership, code)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _decision_page(request, membership, code, form=form, status=400)
    try:
        services.set_decision(membership=membership, practice_code=code, **form.cleaned_data)
    except services.NotAllowed as exc:
        return _refused(request, membership, exc)
    except services.OrganisationError as exc:
        form.add_error(None, str(exc))
        return _decision_page(request, membership, code, form=form, status=400)
    messages.success(request, _("Arbitrage enregistré pour la pratique %(code)s.") % {"code": code})
    return redirect("organisations:decision", uuid=uuid, code=code)


@login_required
@require_POST
def comment(request: AuthenticatedHttpRequest, uuid: UUID, code: str) -> HttpResponse:
    membership = selectors.get_membership(request.user, uuid)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return _decision_page(request, membership, code, comment_form=form, status=400)
    try:
        services.add_comment(membership=membership, practice_code=code, body=form.cleaned_data["body"])
    except services.OrganisationError as exc:
        form.add_error("body", str(exc))
        return _decision_page(request, membership, code, comment_form=form, status=400)
    messages.success(request, _("Commentaire ajouté."))
    return redirect("organisations:decision", uuid=uuid, code=code)


def _action_form(membership: Membership, data: QueryDict | None = None, **kwargs: Any) -> ActionForm:
    return ActionForm(
        data, grid=get_grid(membership.organisation.version_id), members=selectors.members_of(membership), **kwargs
    )


def _action_kwargs(form: ActionForm) -> dict:
    data = form.cleaned_data
    return {
        "title": data["title"], "practice_codes": data["practices"], "owner_id": data["owner"],
        "due_date": data["due_date"], "status": data["status"],
    }


@login_required
@require_http_methods(["GET", "POST"])
def actions(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    membership = selectors.get_membership(request.user, uuid)
    form = _action_form(membership, request.POST or None, initial={"practices": request.GET.getlist("pratique")})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.create_action(membership=membership, **_action_kwargs(form))
            except services.NotAllowed as exc:
                return _refused(request, membership, exc)
            except services.OrganisationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Action ajoutée au plan."))
                return redirect("organisations:actions", uuid=uuid)
        status = 400
    plan = list(selectors.actions_of(membership))
    return render(request, "organisations/actions.html", _org_context(
        membership, actions=plan, form=form, today=timezone.localdate(),
        movable={a.pk for a in plan if permissions.can_set_action_status(membership, a)},
    ), status=status)


@login_required
@require_http_methods(["GET", "POST"])
def action_edit(request: AuthenticatedHttpRequest, uuid: UUID, action_id: int) -> HttpResponse:
    membership = selectors.get_membership(request.user, uuid)
    action = selectors.get_action(membership, action_id)
    initial = {
        "title": action.title, "practices": [p.code for p in action.practices.all()],
        "owner": action.owner_id, "due_date": action.due_date, "status": action.status,
    }
    form = _action_form(membership, request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.update_action(membership=membership, action=action, **_action_kwargs(form))
            except services.NotAllowed as exc:
                return _refused(request, membership, exc)
            except services.OrganisationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Action modifiée."))
                return redirect("organisations:actions", uuid=uuid)
        status = 400
    return render(request, "organisations/action_edit.html", _org_context(membership, action=action, form=form), status=status)


@login_required
@require_POST
def action_status(request: AuthenticatedHttpRequest, uuid: UUID, action_id: int) -> HttpResponse:
    membership = selectors.get_membership(request.user, uuid)
    action = selectors.get_action(membership, action_id)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _refused(request, membership, services.OrganisationError(_("Statut inconnu.")))
    try:
        services.set_action_status(membership=membership, action=action, status=form.cleaned_data["status"])
    except services.OrganisationError as exc:
        return _refused(request, membership, exc)
    return redirect("organisations:actions", uuid=uuid)


@login_required
@require_POST
def action_delete(request: AuthenticatedHttpRequest, uuid: UUID, action_id: int) -> HttpResponse:
    membership = selectors.get_membership(request.user, uuid)
    action = selectors.get_action(membership, action_id)
    try:
        services.delete_action(membership=membership, action=action)
    except services.OrganisationError as exc:
        return _refused(request, membership, exc)
    messages.success(request, _("Action supprimée."))
    return redirect("organisations:actions", uuid=uuid)


def _workshop_context(membership: Membership) -> dict:
    team = _team_map(membership)
    return _org_context(
        membership,
        team=team,
        radar=team_radar(team, chart_id="workshop-radar"),
        refreshed_at=timezone.localtime(),
        anonymous_min=ANONYMOUS_MIN,
        anonymous_batch=ANONYMOUS_BATCH,
    )


@login_required
@private
@require_GET
def workshop(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    membership = selectors.get_membership(request.user, uuid)
    return render(request, "organisations/workshop.html", _workshop_context(membership))


@login_required
@private
@require_GET
def workshop_live(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    """The live part of the workshop page, fetched again every few seconds by the page's script."""
    membership = selectors.get_membership(request.user, uuid)
    return render(request, "organisations/_workshop_live.html", _workshop_context(membership))


def _export_parts(membership: Membership) -> tuple:
    team = _team_map(membership, may=permissions.can_export_team)
    return membership.organisation, team, selectors.decisions_of(membership), list(selectors.actions_of(membership))


@login_required
@private
@require_GET
def report_pdf(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    from grille.core.pdf import render_pdf

    from .reports import report_context

    membership = selectors.get_membership(request.user, uuid)
    context = report_context(*_export_parts(membership))
    security_event(request, "export", organisation=uuid, kind="report_pdf")
    filename = f"rapport-structure-{timezone.localdate().isoformat()}.pdf"
    return render_pdf(request, "organisations/report_pdf.html", context, filename=filename)


@login_required
@private
@require_GET
def team_xlsx(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    from grille.core.tabular.writing import xlsx_response

    from .exporters import TeamExporter

    membership = selectors.get_membership(request.user, uuid)
    security_event(request, "export", organisation=uuid, kind="team_xlsx")
    return xlsx_response(TeamExporter(*_export_parts(membership)))
