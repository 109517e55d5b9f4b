from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from uuid import UUID

from django.contrib import messages
from django.contrib.staticfiles import finders
from django.core.exceptions import ObjectDoesNotExist
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from grille.core.access import private
from grille.core.mail import MailKind, send_templated_mail
from grille.core.pdf import PDF_STYLESHEETS, render_pdf, render_pdf_bytes
from grille.core.ratelimit import (
    BAD_RESUME_LINKS,
    RESUME_LINK_MAILS,
    RateLimited,
    counts_unknown_links,
    mail_sender,
    too_many_mails,
)
from grille.core.skeleton import kept, render_page, viewer_values
from grille.frameworks import grid as g
from grille.frameworks.charts import situation_radar, situation_series
from grille.frameworks.resources import resources_by_practice
from grille.frameworks.selectors import (
    crosswalks_from,
    get_default_version,
    get_grid,
    linked_content_stamp,
)

from . import grants, history, selectors, services, views_history
from .exporters import assessment_to_dict
from .fiche import fiche_context
from .forms import (
    COMMENT_FIELD,
    VERSION_FIELD,
    EmailForm,
    PracticeAnswerForm,
    StoredPractice,
    plain_answer,
)
from .models import Answer, Assessment
from .peers import get_peer_share
from .profile import Profile, compare_situations

FRESH_TOKEN_KEY = "grille_fresh_resume_token"
PROFILE_TEMPLATE = "assessments/profile.html"


def _locked_page(request: HttpRequest, assessment: Assessment, message: str) -> HttpResponse:
    return render(request, "assessments/locked.html", {"assessment": assessment, "message": message}, status=409)


def _item_from_form(form: PracticeAnswerForm, *, with_version: bool = False) -> services.AnswerInput:
    """The answer a form holds; ``with_version``: with the stamp the step form was rendered with."""
    codes = form.option_codes()
    return services.AnswerInput(
        practice_code=form.practice.code,
        level=codes["level"],
        wish=codes["wish"],
        carrying=codes["carrying"],
        comment=form.cleaned_data.get(COMMENT_FIELD, ""),
        version=form.version() if with_version else None,
    )


def _initial(grid: g.Grid, answers: dict, practice: g.Practice, *, version: int) -> dict:
    """The form's values for a stored answer, with the answer's edit stamp (``version``)."""
    a = answers.get(practice.code)
    if a is None:
        return {VERSION_FIELD: version}
    initial = {COMMENT_FIELD: a.comment, VERSION_FIELD: version}
    for role, option_id in (("level", a.level_id), ("wish", a.wish_id), ("carrying", a.carrying_id)):
        option = grid.dimensions[role].option_by_id(option_id)
        initial[grid.dimensions[role].code] = option.code if option else ""
    return initial


def _resume_url(request: HttpRequest, raw: str) -> str:
    return request.build_absolute_uri(reverse("assessments:resume", args=[raw]))


@require_POST
def start(request: HttpRequest) -> HttpResponse:
    version = get_default_version()
    if version is None:
        return render(request, "core/no_framework.html", status=503)
    owner = request.user if request.user.is_authenticated else None
    try:
        source = views_history.start_source(request)  # blank, or the answers the person chose to start from
        assessment, raw, copied = history.start_from(version=version, owner=owner, source=source)
    except (views_history.BadChoice, services.AssessmentError):
        return views_history.bad_start_choice(request)
    views_history.tell_copied(request, source, copied)
    grants.grant(request, assessment)
    request.session[FRESH_TOKEN_KEY] = [str(assessment.uuid), raw]
    return redirect("assessments:resume_link", uuid=assessment.uuid)


@private
@require_GET
def resume_link(request: HttpRequest, uuid: UUID) -> HttpResponse:
    assessment = selectors.get_assessment_for(request, uuid)
    fresh = request.session.get(FRESH_TOKEN_KEY)
    raw = None
    if fresh and fresh[0] == str(assessment.uuid):
        # Shown once: only the hash is kept, so the link cannot be displayed again.
        raw = fresh[1]
        del request.session[FRESH_TOKEN_KEY]
    return render(request, "assessments/resume_link.html", {
        "assessment": assessment,
        "token": raw,
        "url": _resume_url(request, raw) if raw else None,
        "form": EmailForm(),
    })


@require_POST
def renew_link(request: HttpRequest, uuid: UUID) -> HttpResponse:
    assessment = selectors.get_assessment_for(request, uuid)
    raw = services.renew_resume_link(assessment=assessment)
    request.session[FRESH_TOKEN_KEY] = [str(assessment.uuid), raw]
    messages.success(request, _("Un nouveau lien de reprise a été créé ; l'ancien ne fonctionne plus."))
    return redirect("assessments:resume_link", uuid=assessment.uuid)


@private
@require_POST
def send_link(request: HttpRequest, uuid: UUID) -> HttpResponse:
    assessment = selectors.get_assessment_for(request, uuid)
    raw = request.POST.get("token", "")
    form = EmailForm(request.POST)
    if not services.resume_token_matches(assessment=assessment, raw=raw):
        return render(request, "core/error.html", {"message_key": "link_changed"}, status=400)
    if not form.is_valid():
        return render(request, "assessments/resume_link.html", {
            "assessment": assessment, "token": raw, "url": _resume_url(request, raw), "form": form,
        }, status=400)
    # Any address may be typed here, by anyone: counted per sender and per recipient first.
    try:
        RESUME_LINK_MAILS.spend(sender=mail_sender(request), recipient=form.cleaned_data["email"])
    except RateLimited as exc:
        return too_many_mails(request, exc)
    send_templated_mail(
        to=form.cleaned_data["email"],
        subject=_("Votre lien pour reprendre votre positionnement"),
        template="assessments/email_resume.txt", kind=MailKind.RESUME_LINK,
        context={
            "url": _resume_url(request, raw),
            "requester_email": request.user.email if request.user.is_authenticated else "",
        },
    )
    messages.success(request, _("Le lien de reprise a été envoyé à %(email)s.") % {"email": form.cleaned_data["email"]})
    return redirect("assessments:step", uuid=assessment.uuid, number=1)


@counts_unknown_links(BAD_RESUME_LINKS)
@private
@require_GET
def resume(request: HttpRequest, token: str) -> HttpResponse:
    try:
        assessment = services.resolve_resume_token(token)
    except services.ResumeLinkError as exc:
        status = 410 if exc.reason == "revoked" else 404
        return render(request, "assessments/resume_invalid.html", {"reason": exc.reason}, status=status)
    grants.grant(request, assessment)
    if assessment.is_submitted:
        return redirect("assessments:profile", uuid=assessment.uuid)
    # A practice only counts as answered with a level, as in the progress bar and the recap.
    answered = {code for code, a in selectors.get_answers(assessment).items() if a.level_id is not None}
    grid = get_grid(assessment.version_id)
    first_open = next(
        (i for i, s in enumerate(grid.situations, 1) if any(p.code not in answered for p in s.practices)), 1
    )
    messages.info(request, _("Bon retour ! Vos réponses enregistrées sont là."))
    return redirect("assessments:step", uuid=assessment.uuid, number=first_open)


def _step_context(assessment: Assessment, grid: g.Grid, number: int, forms: list, answers: dict) -> dict:
    situations = grid.situations
    answered_codes = {code for code, a in answers.items() if a.level_id is not None}
    steps = [
        {
            "number": i,
            "situation": s,
            "answered": sum(1 for p in s.practices if p.code in answered_codes),
            "total": len(s.practices),
            "current": i == number,
        }
        for i, s in enumerate(situations, 1)
    ]
    return {
        "assessment": assessment,
        "links": {
            name: positioning_url(f"assessments:{name}", assessment.uuid, *args)
            for name, args in (("step", (number,)), ("profile", ()), ("resume_link", ()))
        },
        "grid": grid,
        "number": number,
        "situation": situations[number - 1],
        "axis": next(a for a in grid.axes if a.code == situations[number - 1].axis_code),
        "steps": steps,
        "step_count": len(situations),
        "forms": forms,
        "answered": len(answered_codes),
        "total": len(grid.practices),
        "previous": number - 1 if number > 1 else None,
        "next": number + 1 if number < len(situations) else None,
    }


@private
@require_http_methods(["GET", "POST"])
def step(request: HttpRequest, uuid: UUID, number: int) -> HttpResponse:
    if request.method == "GET":
        return _show_step(request, uuid, number)
    assessment = selectors.get_assessment_for(request, uuid)
    grid = get_grid(assessment.version_id)
    if not 1 <= number <= len(grid.situations):
        raise Http404(_("Cette étape n'existe pas."))
    if assessment.is_submitted:
        return _locked_page(request, assessment, _("Ce positionnement a déjà été envoyé : il ne peut plus être modifié."))
    situation = grid.situations[number - 1]
    answers = selectors.get_answers(assessment)
    forms = [PracticeAnswerForm(request.POST, grid=grid, practice=p) for p in situation.practices]
    if not all(f.is_valid() for f in forms):
        context = _step_context(assessment, grid, number, forms, answers)
        context["has_errors"] = True
        return render(request, "assessments/step.html", context, status=400)
    try:
        result = services.save_answers(assessment=assessment, items=[_item_from_form(f, with_version=True) for f in forms])
    except services.AssessmentLocked as exc:
        return _locked_page(request, assessment, str(exc))
    if result.kept:
        # Changed elsewhere since this page was loaded: the same step shows the newer answers.
        messages.warning(request, _kept_message(grid, result.kept))
        return redirect("assessments:step", uuid=assessment.uuid, number=number)
    target = request.POST.get("aller", "")
    if target == "recapitulatif":
        return redirect("assessments:recap", uuid=assessment.uuid)
    if target.isdigit() and 1 <= int(target) <= len(grid.situations):
        return redirect("assessments:step", uuid=assessment.uuid, number=int(target))
    messages.success(request, _("Étape %(n)d enregistrée.") % {"n": number})
    return redirect("assessments:step", uuid=assessment.uuid, number=number)


_URL_STAND_IN = "00000000-0000-4000-8000-000000000000"


@functools.cache
def _url_pattern(name: str, prefix: str, *args: object) -> str:
    return reverse(name, args=[_URL_STAND_IN, *args])


def positioning_url(name: str, uuid: UUID | str, *args: object) -> str:
    """``reverse(name, args=[uuid, *args])``, reversed once per process and script prefix: the
    questionnaire step shows several on every request (issue 16)."""
    return _url_pattern(name, get_script_prefix(), *args).replace(_URL_STAND_IN, str(uuid))


def _show_step(request: HttpRequest, uuid: UUID, number: int) -> HttpResponse:
    data = selectors.get_step_data(request, uuid)
    assessment, answers, versions = data.assessment, data.answers, data.versions
    grid = get_grid(assessment.version_id)
    if not 1 <= number <= len(grid.situations):
        raise Http404(_("Cette étape n'existe pas."))
    if assessment.is_submitted:
        return redirect("assessments:profile", uuid=assessment.uuid)
    forms = [
        StoredPractice(grid=grid, practice=p, initial=_initial(grid, answers, p, version=versions.get(p.code, 0)))
        for p in grid.situations[number - 1].practices
    ]
    return render_page(
        request, "assessments/step.html", _step_context(assessment, grid, number, forms, answers),
        # Outside its live parts, the page is the grid's step in the language: kept per
        # published version and step (core/skeleton.py), never for a draft grid.
        key=(grid.version_id, number) if assessment.version.is_published else None,
        guard=grid, private=_private_values(request, assessment),
    )


def _private_values(request: HttpRequest, assessment: Assessment) -> list[str]:
    """What must never be in the text of a step page kept for everybody (core/skeleton.py)."""
    return [str(assessment.uuid), assessment.uuid.hex, *viewer_values(request)]


def _kept_message(grid: g.Grid, kept: tuple[Answer, ...]) -> str:
    by_id = {p.id: p for p in grid.practices}
    names = [f"{by_id[a.practice_id].code} « {by_id[a.practice_id].label} »" for a in kept if a.practice_id in by_id]
    return _(
        "Enregistré, sauf pour ces pratiques, modifiées ailleurs (dans un autre onglet ou sur un autre appareil) "
        "après l'ouverture de cette page : %(practices)s. Leur réponse la plus récente est conservée et affichée "
        "ci-dessous ; modifiez-la si besoin."
    ) % {"practices": ", ".join(names)}


def _edit_stamp(request: HttpRequest) -> int | None:
    """When the person made the change, as autosave.js sends it (ms since the epoch), or None.

    ValueError when the stamp is not a plain whole number.
    """
    raw = request.POST.get("edited_at", "")
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 15:
        raise ValueError(raw)
    return int(raw)


def _autosave_answered(answered: int, total: int) -> JsonResponse:
    return JsonResponse({"ok": True, "message": _("Enregistré"), "answered": answered, "total": total})


@private
@require_POST
def autosave(request: HttpRequest, uuid: UUID, code: str) -> JsonResponse:
    """Save one practice as autosave.js sends it: the common case in one statement
    (services.quick_autosave), its values checked beforehand against the grid the positioning
    most likely uses (services.guess_version); every other case — another grid, first answer, a
    later edit stored elsewhere, an error — by the general path, which says what happened."""
    try:
        edited_at = _edit_stamp(request)
    except ValueError:
        return _autosave(request, uuid, code)
    version_id = services.guess_version(str(uuid))
    if version_id is None:
        return _autosave(request, uuid, code)
    try:
        grid = get_grid(version_id)
    except ObjectDoesNotExist:  # a guess left by a version since removed
        return _autosave(request, uuid, code)
    practice = grid.practice(code)
    if practice is None:
        return _autosave(request, uuid, code)
    answer = plain_answer(request.POST, grid=grid, practice=practice)
    if answer is None:
        return _autosave(request, uuid, code)
    try:
        values = services.resolve_answer(version_id, services.AnswerInput(
            practice_code=practice.code, level=answer["level"], wish=answer["wish"], carrying=answer["carrying"],
            comment=answer["comment"],
        ))
    except services.AssessmentError:
        return _autosave(request, uuid, code)
    quick = services.quick_autosave(
        uuid=str(uuid), scope=selectors.caller_scope(request), version_id=version_id, values=values, edited_at=edited_at
    )
    if quick is not None and quick.result is not None:
        return _autosave_answered(quick.result.answered, len(grid.practices))
    # Nothing written (not open to the caller, another grid, no answer stored yet, a later one,
    # an input error): the general path answers, with its message.
    return _autosave(request, uuid, code)


def _autosave(request: HttpRequest, uuid: UUID, code: str) -> JsonResponse:
    assessment = selectors.get_assessment_for(request, uuid)
    grid = get_grid(assessment.version_id)
    practice = grid.practice(code)
    if practice is None:
        return JsonResponse({"ok": False, "message": _("Cette pratique n'existe pas dans la grille.")}, status=404)
    form = PracticeAnswerForm(request.POST, grid=grid, practice=practice)
    try:
        edited_at = _edit_stamp(request)
    except ValueError:
        return JsonResponse({"ok": False, "message": _("Non enregistré : corrigez la saisie.")}, status=400)
    if not form.is_valid():
        errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
        return JsonResponse({"ok": False, "message": _("Non enregistré : corrigez la saisie."), "errors": errors}, status=400)
    try:
        result = services.autosave_answer(assessment=assessment, item=_item_from_form(form), edited_at=edited_at)
    except services.AssessmentError as exc:
        return JsonResponse({"ok": False, "message": str(exc)}, status=exc.status)
    if result.stored is not None:
        # A later change, made in another tab, is saved: the page shows it instead of this one.
        stored = _initial(grid, {practice.code: result.stored}, practice, version=result.stored.edited_at_client or 0)
        return JsonResponse({
            "ok": True,
            "stale": True,
            "message": _("Une valeur plus récente a été enregistrée depuis un autre onglet : elle est affichée ici."),
            "values": {form.add_prefix(name): value for name, value in stored.items()},
            "answered": result.answered,
            "total": len(grid.practices),
        })
    return _autosave_answered(result.answered, len(grid.practices))


@private
@require_GET
def recap(request: HttpRequest, uuid: UUID) -> HttpResponse:
    assessment = selectors.get_assessment_for(request, uuid)
    if assessment.is_submitted:
        return redirect("assessments:profile", uuid=assessment.uuid)
    return render(request, "assessments/recap.html", _recap_context(assessment))


def _recap_context(assessment: Assessment) -> dict:
    profile = selectors.get_profile(assessment)
    missing = [s for s in profile.practices if not s.answered]
    situations = profile.grid.situations
    step_of = {p.code: i for i, s in enumerate(situations, 1) for p in s.practices}
    return {
        "assessment": assessment,
        "profile": profile,
        "missing": [{"score": s, "step": step_of[s.practice.code]} for s in missing],
    }


@require_POST
def submit(request: HttpRequest, uuid: UUID) -> HttpResponse:
    assessment = selectors.get_assessment_for(request, uuid)
    try:
        services.submit_assessment(assessment=assessment)
    except services.AssessmentLocked as exc:
        return _locked_page(request, assessment, str(exc))
    except services.AssessmentError as exc:
        context = _recap_context(assessment)
        context["error"] = str(exc)
        return render(request, "assessments/recap.html", context, status=400)
    messages.success(request, _("Votre positionnement est envoyé. Voici votre profil."))
    return redirect("assessments:profile", uuid=assessment.uuid)


def _radar(profile: Profile, previous: Profile | None, *, chart_id: str) -> str:
    """The radar of the profile page and of its PDF: the positioning's mean level per situation,
    over the previous positioning's when there is one."""
    grid = profile.grid
    series = [situation_series(grid, profile.situation_means, label=_("Ce positionnement"))]
    if previous is not None:
        series.append(situation_series(
            grid, previous.situation_means, label=_("Positionnement précédent"), kind="secondary",
        ))
    return situation_radar(grid, series, chart_id=chart_id, title=_("Profil par situation professionnelle"))


def _profile_context(request: HttpRequest, assessment: Assessment, *, chart_id: str) -> dict:
    profile = selectors.get_profile(assessment)
    previous_assessment = selectors.get_previous_submitted(request, assessment)
    previous = selectors.get_profile(previous_assessment) if previous_assessment else None
    return {
        "assessment": assessment,
        "profile": profile,
        "grid": profile.grid,
        # Drawn when shown: a submitted profile's content comes from the fragment cache without it.
        "radar": SimpleLazyObject(lambda: _radar(profile, previous, chart_id=chart_id)),
        "previous_assessment": previous_assessment,
        "evolution": compare_situations(previous, profile) if previous else None,
        "changes": (
            history.evolution_of(previous_assessment, previous, assessment, profile) if previous_assessment and previous else None
        ),
        "resources": resources_by_practice(profile.grid),
        "crosswalks": crosswalks_from(assessment.version_id),
        "peer_share": get_peer_share(assessment),
    }


@private
@require_GET
def profile(request: HttpRequest, uuid: UUID) -> HttpResponse:
    head = selectors.get_profile_head(request, uuid)
    key = None
    if head.assessment.is_submitted and head.assessment.version.is_published:
        # A submitted profile is made of the positioning, the caller's previous one, the
        # participation in the comparison, the grid and the resources and tables linked to it:
        # kept under all of them (core/skeleton.py), checked in two more statements.
        version_id = head.assessment.version_id
        key = (head.assessment.pk, head.assessment.submitted_at, head.previous_id, head.peer_share,
               version_id, linked_content_stamp(version_id))
        page = kept(request, PROFILE_TEMPLATE, key=key, guard=get_grid(version_id))
        if page is not None:
            return HttpResponse(page.fill(request, {"assessment": head.assessment}))
    context = _profile_context(request, head.assessment, chart_id="radar-chart")
    context["profile_fragment_key"] = _profile_fragment_key(context)
    return render_page(
        request, PROFILE_TEMPLATE, context, key=key, guard=context["grid"], private=viewer_values(request)
    )


def _profile_fragment_key(context: dict) -> str | None:
    """What the profile's content is made of, for a submitted positioning (None for a draft, whose
    answers still change): the cached markup is used again only for the same content
    (questionnaire_tags.cached_include, which adds the language and checks the grid)."""
    assessment, previous = context["assessment"], context["previous_assessment"]
    if not assessment.is_submitted:
        return None
    resources = sorted(
        {r.pk: r for links in context["resources"].values() for r in links}.values(), key=lambda r: r.pk
    )
    material = [
        assessment.pk, assessment.submitted_at.isoformat() if assessment.submitted_at else "",
        previous.pk if previous else None,
        previous.submitted_at.isoformat() if previous and previous.submitted_at else "",
        context["grid"].version_id,
        {code: [r.pk for r in links] for code, links in context["resources"].items()},
        [[r.pk, r.code, r.title, r.kind, r.publisher, r.url, r.description, r.language, r.translations]
         for r in resources],
    ]
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()


@private
@require_GET
def profile_pdf(request: HttpRequest, uuid: UUID) -> HttpResponse:
    assessment = selectors.get_assessment_for(request, uuid)
    context = _profile_context(request, assessment, chart_id="radar-chart-pdf")
    context.update(fiche_context(assessment.owner, context["profile"], context["resources"]))
    date = timezone.localdate(assessment.submitted_at or assessment.created_at).isoformat()
    filename = f"fiche-positionnement-{date}.pdf"
    if not assessment.is_submitted:
        return render_pdf(request, PROFILE_PDF_TEMPLATE, context, filename=filename)
    # A submitted positioning never changes: its fiche is built once, and again only when what it
    # is made of changes (the person's name, a resource, the language, the templates or styles).
    html = render_to_string(PROFILE_PDF_TEMPLATE, {**context, "for_pdf": True}, request=request)
    key = hashlib.sha256(html.encode() + _pdf_styles_digest()).hexdigest()
    pdf = selectors.get_stored_fiche(assessment, key)
    if pdf is None:
        pdf = render_pdf_bytes(request, PROFILE_PDF_TEMPLATE, context)
        services.store_fiche(assessment=assessment, key=key, language=get_language() or "", pdf=pdf)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


PROFILE_PDF_TEMPLATE = "assessments/profile_pdf.html"


@functools.cache
def _pdf_styles_digest() -> bytes:
    """The stylesheets the PDF is printed with, as a digest: part of a stored fiche's key."""
    digest = hashlib.sha256()
    for name in PDF_STYLESHEETS:
        path = finders.find(name)
        digest.update(Path(path).read_bytes() if isinstance(path, str) else name.encode())
    return digest.digest()


@private
@require_GET
def export_json(request: HttpRequest, uuid: UUID) -> HttpResponse:
    assessment = selectors.get_assessment_for(request, uuid)
    data = assessment_to_dict(assessment, selectors.get_profile(assessment))
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2, cls=DjangoJSONEncoder),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="positionnement-{str(assessment.uuid)[:8]}.json"'
    return response


@private
@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest, uuid: UUID) -> HttpResponse:
    assessment = selectors.get_assessment_for(request, uuid)
    if request.method == "GET":
        return render(request, "assessments/delete_confirm.html", {"assessment": assessment})
    services.delete_assessment(assessment=assessment)
    grants.revoke_grant(request, assessment)
    messages.success(request, _("Le positionnement a été supprimé définitivement."))
    return redirect("assessments:list")
