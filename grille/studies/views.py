"""Study pages: the analyst sets up and runs a campaign; respondents answer through their link."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from grille.assessments import grants
from grille.assessments import selectors as assessment_selectors
from grille.core.access import private
from grille.core.charts import RadarSeries, line_chart
from grille.core.ratelimit import BAD_STUDY_LINKS, counts_unknown_links
from grille.core.security_log import security_event
from grille.core.users import AuthenticatedHttpRequest
from grille.files.models import GeneratedFile
from grille.files.services import status_label

from . import permissions, selectors, services
from .comparison import compare_waves
from .dashboard import Tracking, build_dashboard, build_tracking
from .files import (
    AGGREGATES_XLSX,
    MICRODATA,
    REPORT_PDF,
    ask_aggregates,
    ask_microdata,
    ask_report,
    recent_files,
)
from .forms import CampaignForm, QuestionForm, UploadForm, WaveForm
from .models import Campaign, PreviousWave, Respondent
from .pools import settle_campaign
from .queries import QueryRefused, ResultsQuery, parse_page_query
from .reports import study_radar

OPEN_LINK_SESSION_KEY = "grille_study_open_link"


def _refused(request: HttpRequest, campaign: Campaign | None, exc: services.StudyError, **extra: object) -> HttpResponse:
    return render(request, "studies/refused.html", {"campaign": campaign, "message": str(exc), **extra}, status=exc.status)


# --- Analysts ------------------------------------------------------------------------------

@login_required
@require_GET
def campaign_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "studies/campaign_list.html", {
        "campaigns": selectors.list_campaigns_for(request.user),
        "can_create": permissions.can_run_studies(request.user),
    })


@login_required
@require_http_methods(["GET", "POST"])
def campaign_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not permissions.can_run_studies(request.user):
        return _refused(request, None, services.NotAllowed(
            _("Seules les personnes habilitées comme analystes peuvent créer une campagne d'étude.")
        ))
    form = CampaignForm(request.POST or None, initial={"wave_year": timezone.localdate().year})
    if request.method == "POST":
        if form.is_valid():
            try:
                campaign = services.create_campaign(user=request.user, **form.cleaned_data)
            except services.StudyError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("La campagne est créée. Vérifiez ses questions de profil, puis invitez les répondants."))
                return redirect("studies:questions", uuid=campaign.uuid)
        return render(request, "studies/campaign_form.html", {"form": form}, status=400)
    return render(request, "studies/campaign_form.html", {"form": form})


@login_required
@require_GET
def campaign_home(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    campaign = selectors.get_campaign_for(request.user, uuid)
    return render(request, "studies/campaign_home.html", {
        "campaign": campaign,
        "counts": selectors.respondent_counts(campaign),
        "invitations": selectors.invitation_counts(campaign),
        "open_link": request.session.pop(OPEN_LINK_SESSION_KEY, None),
    })


@login_required
@require_http_methods(["GET", "POST"])
def campaign_edit(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    campaign = selectors.get_campaign_for(request.user, uuid)
    initial = {
        "name": campaign.name, "opens_at": timezone.localtime(campaign.opens_at), "closes_at": timezone.localtime(campaign.closes_at),
        "introduction": campaign.introduction, "consent_text": services.current_consent(campaign).text,
        "threshold": campaign.threshold,
    }
    form = CampaignForm(request.POST or None, initial=initial, with_version=False)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.update_campaign(campaign=campaign, **form.cleaned_data)
            except services.StudyError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("La campagne est modifiée."))
                return redirect("studies:home", uuid=uuid)
        return render(request, "studies/campaign_form.html", {"form": form, "campaign": campaign}, status=400)
    return render(request, "studies/campaign_form.html", {"form": form, "campaign": campaign})


@login_required
@require_http_methods(["GET", "POST"])
def questions(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    campaign = selectors.get_campaign_for(request.user, uuid)
    form = QuestionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.add_question(campaign=campaign, **form.cleaned_data)
            except services.StudyError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Question ajoutée."))
                return redirect("studies:questions", uuid=uuid)
        status = 400
    return render(request, "studies/questions.html", {
        "campaign": campaign, "questions": selectors.questions_of(campaign), "form": form,
    }, status=status)


@login_required
@require_POST
def question_move(request: AuthenticatedHttpRequest, uuid: UUID, question_id: int) -> HttpResponse:
    campaign = selectors.get_campaign_for(request.user, uuid)
    question = selectors.get_question(campaign, question_id)
    services.move_question(question=question, direction=-1 if request.POST.get("direction") == "up" else 1)
    return redirect("studies:questions", uuid=uuid)


@login_required
@require_POST
def question_delete(request: AuthenticatedHttpRequest, uuid: UUID, question_id: int) -> HttpResponse:
    campaign = selectors.get_campaign_for(request.user, uuid)
    question = selectors.get_question(campaign, question_id)
    services.delete_question(question=question)
    messages.success(request, _("Question retirée."))
    return redirect("studies:questions", uuid=uuid)


@login_required
@require_http_methods(["GET", "POST"])
def invitees(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    campaign = selectors.get_campaign_for(request.user, uuid)
    form = UploadForm(request.POST or None, request.FILES or None)
    errors: list = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                result = services.import_invitees(campaign=campaign, raw=form.cleaned_data["file"].read())
            except services.ImportRefused as exc:
                form.add_error(None, str(exc))
                errors = exc.errors
            else:
                messages.success(request, ngettext(
                    "%(added)d adresse ajoutée, ", "%(added)d adresses ajoutées, ", result.added,
                ) % {"added": result.added} + ngettext(
                    "%(already)d déjà invitée.", "%(already)d déjà invitées.", result.already_invited,
                ) % {"already": result.already_invited})
                return redirect("studies:invitees", uuid=uuid)
        status = 400
    return render(request, "studies/invitees.html", {
        "campaign": campaign, "form": form, "errors": errors[:200], "error_count": len(errors),
        "counts": selectors.invitation_counts(campaign),
        "invitees": selectors.invitees_with_status(campaign)[:500],
    }, status=status)


@login_required
@require_POST
def send(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    campaign = selectors.get_campaign_for(request.user, uuid)
    if request.POST.get("what") == "reminders":
        report = services.send_reminders(campaign=campaign)
        label = _("Relances")
    else:
        report = services.send_invitations(campaign=campaign)
        label = _("Invitations")
    messages.success(request, ngettext(
        "%(what)s : %(n)d message mis en file d'envoi ; son état s'affiche ci-dessous.",
        "%(what)s : %(n)d messages mis en file d'envoi ; leur état s'affiche ci-dessous.",
        report.queued,
    ) % {"what": label, "n": report.queued})
    return redirect("studies:invitees", uuid=uuid)


@login_required
@require_POST
def retry_mail(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    campaign = selectors.get_campaign_for(request.user, uuid)
    count = services.retry_failed_mailings(campaign=campaign)
    messages.success(request, ngettext(
        "%(n)d message en échec remis en file d'envoi.", "%(n)d messages en échec remis en file d'envoi.", count,
    ) % {"n": count})
    return redirect("studies:invitees", uuid=uuid)


@login_required
@require_POST
def open_link(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    campaign = selectors.get_campaign_for(request.user, uuid)
    if request.POST.get("action") == "revoke":
        services.revoke_open_link(campaign=campaign)
        messages.success(request, _("Le lien ouvert est désactivé."))
    else:
        raw = services.create_open_link(campaign=campaign)
        request.session[OPEN_LINK_SESSION_KEY] = request.build_absolute_uri(reverse("studies:open", args=[raw]))
    return redirect("studies:home", uuid=uuid)


# --- Respondents ---------------------------------------------------------------------------

def _landing(request: HttpRequest, campaign: Campaign, link_key: str | None, *, make_key: Callable[[], str]) -> HttpResponse:
    """The study's landing page: introduction, consent, and the start of the answers."""
    respondent = Respondent.objects.filter(campaign=campaign, link_key=link_key).select_related("assessment").first() if link_key else None
    consent = services.current_consent(campaign)
    if request.method == "POST":
        if request.POST.get("consent") != "on":
            return render(request, "studies/landing.html", {
                "campaign": campaign, "consent": consent, "respondent": respondent,
                "error": _("Cochez la case pour donner votre accord avant de commencer."),
            }, status=400)
        try:
            version = int(request.POST.get("consent_version", "0"))
        except ValueError:
            version = 0
        try:
            respondent = services.start_response(
                campaign=campaign, link_key=link_key or make_key(), consent_version=version,
                owner=request.user if request.user.is_authenticated else None,
            )
        except services.StudyError as exc:
            return _refused(request, None, exc)
        grants.grant(request, respondent.assessment)
        return redirect("studies:profile", uuid=respondent.assessment.uuid)
    if respondent is not None:
        grants.grant(request, respondent.assessment)
    return render(request, "studies/landing.html", {"campaign": campaign, "consent": consent, "respondent": respondent})


@counts_unknown_links(BAD_STUDY_LINKS)
@private
@require_http_methods(["GET", "POST"])
def invited(request: HttpRequest, token: str) -> HttpResponse:
    invitee = services.find_invitee(token)
    if invitee is None:
        return render(request, "studies/link_invalid.html", status=404)
    return _landing(request, invitee.campaign, invitee.link_key, make_key=lambda: invitee.link_key)


@counts_unknown_links(BAD_STUDY_LINKS)
@private
@require_http_methods(["GET", "POST"])
def open_entry(request: HttpRequest, token: str) -> HttpResponse:
    campaign = services.find_open_campaign(token)
    if campaign is None:
        return render(request, "studies/link_invalid.html", status=404)
    # Someone answering through the open link is recognised by this browser only.
    keys = request.session.get("grille_open_keys", {})
    link_key = keys.get(str(campaign.uuid))

    def make_key() -> str:
        key = services.open_link_key()
        request.session["grille_open_keys"] = {**keys, str(campaign.uuid): key}
        return key

    return _landing(request, campaign, link_key, make_key=make_key)


def _respondent_for(request: HttpRequest, uuid: UUID) -> Respondent:
    assessment = assessment_selectors.get_assessment_for(request, uuid)
    respondent = Respondent.objects.filter(assessment=assessment).select_related("campaign").first()
    if respondent is None:
        raise Http404
    return respondent


@private
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest, uuid: UUID) -> HttpResponse:
    respondent = _respondent_for(request, uuid)
    campaign = respondent.campaign
    questions = list(selectors.questions_of(campaign))
    current: dict[str, list[str]] = {}
    for answer in respondent.profile_answers.select_related("question"):
        current.setdefault(answer.question.code, []).append(answer.option)
    if request.method == "POST":
        submitted = {q.code: request.POST.getlist(q.code) for q in questions}
        try:
            services.save_profile_answers(respondent=respondent, answers=submitted)
        except services.StudyError as exc:
            return render(request, "studies/profile_questions.html", {
                "respondent": respondent, "campaign": campaign, "questions": questions, "current": submitted,
                "error": str(exc),
            }, status=exc.status)
        return redirect("assessments:step", uuid=uuid, number=1)
    return render(request, "studies/profile_questions.html", {
        "respondent": respondent, "campaign": campaign, "questions": questions, "current": current,
    })


@require_POST
def withdraw(request: HttpRequest, uuid: UUID) -> HttpResponse:
    respondent = _respondent_for(request, uuid)
    services.withdraw_response(respondent=respondent)
    messages.success(request, _("Votre participation à l'étude est retirée : vos réponses ne figurent plus dans ses résultats. Votre positionnement reste le vôtre."))
    return redirect("assessments:list")


# --- Results -------------------------------------------------------------------------------

def _results_query(request: HttpRequest, campaign: Campaign) -> tuple[ResultsQuery, str]:
    """The query string checked by the one parser of the page and the API (queries.py), with
    the French reason when it is refused."""
    try:
        return parse_page_query(campaign, request.GET), ""
    except QueryRefused as exc:
        return ResultsQuery(), str(exc)


@login_required
@require_GET
def dashboard(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    campaign = selectors.get_campaign_for(request.user, uuid)
    asked, error = _results_query(request, campaign)
    questions = list(selectors.questions_of(campaign))
    if error:
        return render(request, "studies/dashboard.html", {"campaign": campaign, "questions": questions, "error": error}, status=400)
    settle_campaign(campaign)
    board = build_dashboard(campaign, filters=asked.filters, compare=asked.compare)
    return render(request, "studies/dashboard.html", {
        "campaign": campaign, "questions": questions, "board": board, "radar": study_radar(board, chart_id="study-radar"),
        "query": request.GET.urlencode(),
    })


@login_required
@require_GET
def tracking(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    campaign = selectors.get_campaign_for(request.user, uuid)
    by = request.GET.get("par") or None
    questions = list(selectors.questions_of(campaign))
    if by and by not in {q.code for q in questions}:
        return render(request, "studies/tracking.html", {
            "campaign": campaign, "questions": questions, "error": _("Question inconnue : %(code)s.") % {"code": by},
        }, status=400)
    settle_campaign(campaign)
    data = build_tracking(campaign, by=by)
    return render(request, "studies/tracking.html", {
        "campaign": campaign, "questions": questions, "tracking": data, "by": by, "curve": _tracking_curve(data),
    })


def _tracking_curve(data: Tracking) -> str:
    if not data.days:
        return ""
    return line_chart(
        chart_id="tracking-curve",
        title=_("Réponses cumulées"),
        description=_("Nombre cumulé de questionnaires commencés et complets, jour par jour ; les valeurs sont dans le tableau qui suit."),
        x_labels=[date_format(day, "j M") for day, _s, _c in data.days],
        series=[
            RadarSeries(label=_("Complets"), values=[c for _d, _s, c in data.days]),
            RadarSeries(label=_("Commencés"), values=[s for _d, s, _c in data.days], kind="secondary"),
        ],
    )


@login_required
@require_http_methods(["GET", "POST"])
def waves(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    campaign = selectors.get_campaign_for(request.user, uuid)
    form = WaveForm(request.POST or None, request.FILES or None)
    errors: list = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.import_previous_wave(
                    campaign=campaign, name=data["name"], year=data["year"], source_format=data["source_format"],
                    raw=data["file"].read(),
                )
            except services.ImportRefused as exc:
                form.add_error(None, str(exc))
                errors = exc.errors
            else:
                messages.success(request, _("Vague importée. Chargez maintenant sa table de correspondance."))
                return redirect("studies:waves", uuid=uuid)
        status = 400
    waves_list = list(PreviousWave.objects.filter(campaign=campaign).order_by("-year"))
    settle_campaign(campaign)
    comparisons = [(wave, *compare_waves(campaign, wave)) for wave in waves_list]
    return render(request, "studies/waves.html", {
        "campaign": campaign, "form": form, "errors": errors[:200], "comparisons": comparisons,
        "upload": UploadForm(),
    }, status=status)


@login_required
@require_POST
def crosswalk(request: AuthenticatedHttpRequest, uuid: UUID, wave_id: int) -> HttpResponse:
    campaign = selectors.get_campaign_for(request.user, uuid)
    wave = PreviousWave.objects.filter(campaign=campaign, pk=wave_id).first()
    if wave is None:
        raise Http404
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _refused(request, campaign, services.StudyError(_("Choisissez un fichier CSV.")))
    upload = form.cleaned_data["file"]
    try:
        n = services.import_crosswalk(wave=wave, raw=upload.read(), filename=upload.name)
    except services.ImportRefused as exc:
        return _refused(request, campaign, exc, errors=exc.errors[:200])
    messages.success(request, ngettext(
        "Table de correspondance chargée : %(n)d lien.", "Table de correspondance chargée : %(n)d liens.", n,
    ) % {"n": n})
    return redirect("studies:waves", uuid=uuid)


@login_required
@require_GET
def exports(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    campaign = selectors.get_campaign_for(request.user, uuid)
    return render(request, "studies/exports.html", {
        "campaign": campaign, "counts": selectors.respondent_counts(campaign),
        "can_download_microdata": permissions.can_download_microdata(request.user, campaign),
        "downloads": campaign.microdata_downloads.select_related("user")[:20],
        "files_ttl_hours": settings.GRILLE_FILES_TTL_HOURS,
    })


def _generated_file(
    request: AuthenticatedHttpRequest, campaign: Campaign, *, kind: str, title: str, ask: Callable[[], GeneratedFile],
) -> HttpResponse:
    """GET: the page that offers to prepare the file (and lists the caller's recent ones); POST:
    the job is queued for the worker and the caller follows its progress on the file's page."""
    if request.method == "POST":
        job = ask()
        security_event(request, "export_requested", study=campaign.uuid, kind=kind, file=job.uuid)
        return redirect("files:detail", uuid=job.uuid)
    return render(request, "studies/file_request.html", {
        "campaign": campaign, "title": title, "action": request.get_full_path(),
        "recent": [(job, status_label(job)) for job in recent_files(campaign, request.user, kind)],
    })


@login_required
@private
@require_http_methods(["GET", "POST"])
def export_microdata(request: AuthenticatedHttpRequest, uuid: UUID, fmt: str) -> HttpResponseBase:
    campaign = selectors.get_campaign_for(request.user, uuid)
    if fmt not in MICRODATA:
        raise Http404
    if not permissions.can_download_microdata(request.user, campaign):
        return _refused(request, campaign, services.NotAllowed(
            _("Seul·e la ou le responsable de l'étude peut télécharger les microdonnées pseudonymisées. Les tableaux agrégés, protégés, restent disponibles.")
        ))
    return _generated_file(
        request, campaign, kind=MICRODATA[fmt], title=_("Microdonnées (%(fmt)s)") % {"fmt": fmt.upper()},
        ask=lambda: ask_microdata(campaign=campaign, user=request.user, fmt=fmt),
    )


@login_required
@private
@require_http_methods(["GET", "POST"])
def export_aggregates(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    campaign = selectors.get_campaign_for(request.user, uuid)
    _asked, error = _results_query(request, campaign)
    if error:
        return _refused(request, campaign, services.StudyError(error))
    return _generated_file(
        request, campaign, kind=AGGREGATES_XLSX, title=_("Tableaux agrégés (XLSX)"),
        ask=lambda: ask_aggregates(campaign=campaign, user=request.user, query=request.GET.urlencode()),
    )


@login_required
@private
@require_http_methods(["GET", "POST"])
def report_pdf(request: AuthenticatedHttpRequest, uuid: UUID) -> HttpResponse:
    campaign = selectors.get_campaign_for(request.user, uuid)
    return _generated_file(
        request, campaign, kind=REPORT_PDF, title=_("Rapport d'étude (PDF)"),
        ask=lambda: ask_report(campaign=campaign, user=request.user),
    )
