"""Every change to a study campaign goes through one of these functions."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from grille.assessments.enums import AssessmentStatus
from grille.assessments.models import Assessment
from grille.assessments.services import start_assessment
from grille.core.tokens import hash_token, new_token
from grille.disclosure.cells import MIN_THRESHOLD
from grille.frameworks.models import FrameworkVersion
from grille.frameworks.selectors import get_grid

from . import importers
from .enums import DEFAULT_PROFILE_QUESTIONS, QuestionKind
from .models import (
    Campaign,
    ConsentText,
    CrosswalkLink,
    Invitee,
    MicrodataDownload,
    PreviousWave,
    ProfileAnswer,
    ProfileQuestion,
    Respondent,
    WaveItem,
)
from .pools import settle_campaign

PSEUDONYM_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class StudyError(Exception):
    """A refused change; the message is for the person, in their language."""

    status = 400


class NotAllowed(StudyError):
    status = 403


class CampaignClosed(StudyError):
    status = 410


class ImportRefused(StudyError):
    """The file has errors: nothing was imported. `errors` lists them line by line."""

    def __init__(self, message: str, errors: list):
        super().__init__(message)
        self.errors = errors


def can_run_studies(user) -> bool:
    return user.is_authenticated and user.has_perm("studies.run_studies")


def _check_dates_and_threshold(opens_at: datetime, closes_at: datetime, threshold: int) -> None:
    if closes_at <= opens_at:
        raise StudyError(_("La date de clôture doit être postérieure à la date d'ouverture."))
    if threshold < MIN_THRESHOLD:
        raise StudyError(
            _("Le seuil de diffusion ne peut pas être inférieur à %(min)d répondants.") % {"min": MIN_THRESHOLD}
        )


@transaction.atomic
def create_campaign(
    *, user, name: str, wave_year: int, version: FrameworkVersion, opens_at: datetime, closes_at: datetime,
    introduction: str = "", consent_text: str, threshold: int = 5, synthetic: bool = False,
) -> Campaign:
    """Create a campaign with the default profile questions; its creator becomes its analyst."""
    if user is not None and not can_run_studies(user):
        raise NotAllowed(_("Seules les personnes habilitées comme analystes peuvent créer une campagne d'étude."))
    _check_dates_and_threshold(opens_at, closes_at, threshold)
    if not consent_text.strip():
        raise StudyError(_("Le texte du consentement est obligatoire."))
    campaign = Campaign.objects.create(
        name=name.strip(), wave_year=wave_year, version=version, opens_at=opens_at, closes_at=closes_at,
        introduction=introduction.strip(), threshold=threshold, synthetic=synthetic,
    )
    ConsentText.objects.create(campaign=campaign, version=1, text=consent_text.strip())
    ProfileQuestion.objects.bulk_create(
        ProfileQuestion(
            campaign=campaign, code=q["code"], label=q["label"], kind=q["kind"],
            options=[list(option) for option in q["options"]], position=position,
        )
        for position, q in enumerate(DEFAULT_PROFILE_QUESTIONS)
    )
    if user is not None:
        campaign.analysts.add(user)
        campaign.lead = user
        campaign.save(update_fields=["lead"])
    return campaign


def can_download_microdata(user, campaign: Campaign) -> bool:
    """Only the study lead downloads the pseudonymised microdata (DESIGN.md, privacy rules)."""
    return user is not None and user.is_authenticated and campaign.lead_id == user.pk


@transaction.atomic
def record_microdata_download(*, campaign: Campaign, user, fmt: str, via: str) -> MicrodataDownload:
    """Record one download of the microdata, before its first byte leaves: who, when, what."""
    rows = Respondent.objects.filter(campaign=campaign, assessment__status=AssessmentStatus.SUBMITTED).count()
    return MicrodataDownload.objects.create(
        campaign=campaign, user=user, user_email=getattr(user, "email", "") or "", fmt=fmt, via=via, rows=rows,
    )


@transaction.atomic
def update_campaign(
    *, campaign: Campaign, name: str, opens_at: datetime, closes_at: datetime, introduction: str,
    consent_text: str, threshold: int,
) -> Campaign:
    """Change a campaign. A new consent wording becomes a new version; a new closing date
    applies at once to every positioning of the campaign."""
    _check_dates_and_threshold(opens_at, closes_at, threshold)
    if threshold != campaign.threshold and Respondent.objects.filter(campaign=campaign, released=True).exists():
        # Results already published with one k: another k would publish other cells and
        # other batches of the same people, and the two could be compared.
        raise StudyError(_("Le seuil de diffusion ne change plus une fois des résultats publiés."))
    current = current_consent(campaign)
    if consent_text.strip() and consent_text.strip() != current.text:
        ConsentText.objects.create(campaign=campaign, version=current.version + 1, text=consent_text.strip())
    campaign.name, campaign.opens_at, campaign.closes_at = name.strip(), opens_at, closes_at
    campaign.introduction, campaign.threshold = introduction.strip(), threshold
    campaign.save(update_fields=["name", "opens_at", "closes_at", "introduction", "threshold"])
    Assessment.objects.filter(study_respondent__campaign=campaign).update(answers_until=closes_at)
    return campaign


def current_consent(campaign: Campaign) -> ConsentText:
    return ConsentText.objects.filter(campaign=campaign).order_by("-version").first()


def _options_from_lines(lines: str) -> list[list[str]]:
    options: list[list[str]] = []
    seen: set[str] = set()
    for line in lines.splitlines():
        label = line.strip()
        if not label:
            continue
        code = slugify(label)[:40] or f"option-{len(options) + 1}"
        base, i = code, 2
        while code in seen:
            code, i = f"{base[:36]}-{i}", i + 1
        seen.add(code)
        options.append([code, label[:200]])
    return options


@transaction.atomic
def add_question(*, campaign: Campaign, label: str, kind: str, options_text: str) -> ProfileQuestion:
    """Add the analyst's own single- or multiple-choice question (one option per line)."""
    label = label.strip()
    if not label or len(label) > 300:
        raise StudyError(_("Le libellé de la question est obligatoire (300 caractères au plus)."))
    if kind not in QuestionKind.values:
        raise StudyError(_("Choisissez le type de question."))
    options = _options_from_lines(options_text)
    if len(options) < 2:
        raise StudyError(_("Une question doit proposer au moins deux modalités, une par ligne."))
    code = slugify(label)[:36] or "question"
    base, i = code, 2
    while ProfileQuestion.objects.filter(campaign=campaign, code=code).exists():
        code, i = f"{base[:33]}-{i}", i + 1
    last = ProfileQuestion.objects.filter(campaign=campaign).order_by("-position").first()
    return ProfileQuestion.objects.create(
        campaign=campaign, code=code, label=label, kind=kind, options=options,
        position=(last.position + 1) if last else 0,
    )


@transaction.atomic
def move_question(*, question: ProfileQuestion, direction: int) -> None:
    """Move a question one place up (-1) or down (+1)."""
    questions = list(ProfileQuestion.objects.select_for_update().filter(campaign=question.campaign_id).order_by("position", "id"))
    index = next(i for i, q in enumerate(questions) if q.pk == question.pk)
    target = index + (1 if direction > 0 else -1)
    if not 0 <= target < len(questions):
        return
    questions[index], questions[target] = questions[target], questions[index]
    for position, q in enumerate(questions):
        q.position = position
    ProfileQuestion.objects.bulk_update(questions, ["position"])


@transaction.atomic
def delete_question(*, question: ProfileQuestion) -> None:
    """Drop a profile question, with the answers already given to it."""
    question.delete()


# --- Respondents: invitations, open link, answers ------------------------------------------

def _keyed(purpose: str, value: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def invitee_token(invitee: Invitee) -> str:
    """The invitee's personal link token. Derived with the server's secret so that a reminder
    carries the same link as the invitation, while only its hash is stored."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"grille-invitee:{invitee.link_key}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


@dataclass(frozen=True)
class InviteeImportResult:
    added: int
    already_invited: int
    lines: int


@transaction.atomic
def import_invitees(*, campaign: Campaign, raw: bytes) -> InviteeImportResult:
    """Add the e-mails of a CSV file as invitees; any invalid line refuses the whole file."""
    try:
        parsed = importers.parse_email_list(raw)
    except importers.ImportFileError as exc:
        raise ImportRefused(str(exc), []) from exc
    if not parsed.ok:
        raise ImportRefused(
            _("Le fichier contient %(n)d ligne(s) à corriger : rien n'a été importé.") % {"n": len(parsed.errors)},
            parsed.errors,
        )
    existing = set(Invitee.objects.filter(campaign=campaign).values_list("email", flat=True))
    new = []
    for email in parsed.emails:
        if email in existing:
            continue
        link_key = secrets.token_hex(32)
        invitee = Invitee(campaign=campaign, email=email, link_key=link_key)
        invitee.token_hash = hash_token(invitee_token(invitee))
        new.append(invitee)
    Invitee.objects.bulk_create(new, batch_size=1000)
    return InviteeImportResult(added=len(new), already_invited=len(parsed.emails) - len(new), lines=parsed.total_lines)


def _completed_respondent(campaign: Campaign):
    return Respondent.objects.filter(
        campaign=campaign, link_key=OuterRef("link_key"), assessment__status=AssessmentStatus.SUBMITTED
    )


@dataclass(frozen=True)
class SendReport:
    sent: int
    failed: int


def _send(*, invitees: list[Invitee], link_for, template: str, subject: str, mark: str) -> SendReport:
    """Send one e-mail per invitee over one connection; each outcome is recorded on its own,
    so a failure is reported and can be retried without sending twice to the others."""
    sent = failed = 0
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except OSError as exc:
        Invitee.objects.filter(pk__in=[i.pk for i in invitees]).update(send_error=str(exc)[:500])
        return SendReport(sent=0, failed=len(invitees))
    try:
        for invitee in invitees:
            body = render_to_string(template, {"campaign": invitee.campaign, "url": link_for(invitee_token(invitee))})
            message = EmailMessage(subject, body, None, [invitee.email], connection=connection)
            try:
                message.send()
            except Exception as exc:  # noqa: BLE001 - any transport error is recorded for a retry
                Invitee.objects.filter(pk=invitee.pk).update(send_error=str(exc)[:500] or exc.__class__.__name__)
                failed += 1
            else:
                Invitee.objects.filter(pk=invitee.pk).update(**{mark: timezone.now()}, send_error="")
                sent += 1
    finally:
        connection.close()
    return SendReport(sent=sent, failed=failed)


def send_invitations(*, campaign: Campaign, link_for) -> SendReport:
    """Send the invitation to everyone not yet reached (new invitees and failed sendings)."""
    invitees = list(Invitee.objects.filter(campaign=campaign, sent_at__isnull=True).select_related("campaign"))
    return _send(
        invitees=invitees, link_for=link_for, template="studies/email_invitation.txt",
        subject=_("Étude « %(name)s » : votre participation") % {"name": campaign.name}, mark="sent_at",
    )


def send_reminders(*, campaign: Campaign, link_for) -> SendReport:
    """Remind only those who were invited and have not submitted their answers."""
    invitees = list(
        Invitee.objects.filter(campaign=campaign, sent_at__isnull=False)
        .exclude(Exists(_completed_respondent(campaign)))
        .select_related("campaign")
    )
    return _send(
        invitees=invitees, link_for=link_for, template="studies/email_reminder.txt",
        subject=_("Rappel — étude « %(name)s »") % {"name": campaign.name}, mark="reminded_at",
    )


@transaction.atomic
def create_open_link(*, campaign: Campaign) -> str:
    """Publish (or replace) the campaign's open link; the raw token is returned once."""
    raw, digest = new_token()
    campaign.open_token_hash = digest
    campaign.save(update_fields=["open_token_hash"])
    return raw


@transaction.atomic
def revoke_open_link(*, campaign: Campaign) -> None:
    campaign.open_token_hash = ""
    campaign.save(update_fields=["open_token_hash"])


def find_invitee(raw: str) -> Invitee | None:
    return Invitee.objects.select_related("campaign", "campaign__version").filter(token_hash=hash_token(raw)).first()


def find_open_campaign(raw: str) -> Campaign | None:
    if not raw:
        return None
    return Campaign.objects.select_related("version").filter(open_token_hash=hash_token(raw)).first()


def _check_open(campaign: Campaign) -> None:
    state = campaign.state
    if state == "upcoming":
        raise CampaignClosed(_("L'étude n'est pas encore ouverte."))
    if state == "closed":
        raise CampaignClosed(_("L'étude est close : les réponses ne sont plus acceptées."))


def _pseudonym() -> str:
    return "R-" + "".join(secrets.choice(PSEUDONYM_ALPHABET) for _ in range(8))


def start_response(*, campaign: Campaign, link_key: str, consent_version: int, owner=None) -> Respondent:
    """Record the consent and open the respondent's positioning (or return the one already open)."""
    _check_open(campaign)
    consent = current_consent(campaign)
    if consent is None or consent.version != consent_version:
        raise StudyError(_("Le texte du consentement a changé : relisez-le avant de commencer."))
    existing = Respondent.objects.filter(campaign=campaign, link_key=link_key).select_related("assessment").first()
    if existing is not None:
        return existing
    for _attempt in range(5):
        try:
            with transaction.atomic():
                assessment, _raw = start_assessment(version=campaign.version, owner=owner, answers_until=campaign.closes_at)
                return Respondent.objects.create(
                    campaign=campaign, pseudonym=_pseudonym(), link_key=link_key, assessment=assessment, consent=consent
                )
        except IntegrityError:
            existing = Respondent.objects.filter(campaign=campaign, link_key=link_key).first()
            if existing is not None:
                return existing  # the same person clicked twice: one respondent
    raise StudyError(_("Impossible de créer la participation, réessayez."))


def open_link_key() -> str:
    """A fresh key for someone answering through the open link."""
    return secrets.token_hex(32)


def invitee_link_key(invitee: Invitee) -> str:
    return invitee.link_key


@transaction.atomic
def save_profile_answers(*, respondent: Respondent, answers: dict[str, list[str]]) -> None:
    """Replace the respondent's profile answers after checking each against its question.

    Once the positioning is sent they are part of it and no longer change: a released
    respondent moving from one segment to another would make two views differ by one person."""
    _check_open(respondent.campaign)
    if Assessment.objects.filter(pk=respondent.assessment_id, status=AssessmentStatus.SUBMITTED).exists():
        raise StudyError(_("Votre questionnaire est envoyé : votre profil ne peut plus changer."))
    questions = {q.code: q for q in ProfileQuestion.objects.filter(campaign=respondent.campaign_id)}
    rows = []
    for code, values in answers.items():
        question = questions.get(code)
        if question is None:
            raise StudyError(_("Question inconnue : %(code)s.") % {"code": code})
        allowed = {c for c, _label in question.options}
        values = [v for v in values if v]
        if question.kind == QuestionKind.SINGLE and len(values) > 1:
            raise StudyError(_("« %(q)s » n'accepte qu'une réponse.") % {"q": question.label})
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise StudyError(_("« %(v)s » n'est pas une réponse possible à « %(q)s ».") % {"v": unknown[0], "q": question.label})
        rows += [ProfileAnswer(respondent=respondent, question=question, option=v) for v in dict.fromkeys(values)]
    ProfileAnswer.objects.filter(respondent=respondent).delete()
    ProfileAnswer.objects.bulk_create(rows)


@transaction.atomic
def withdraw_response(*, respondent: Respondent) -> None:
    """The respondent leaves the study: their answers leave every aggregate and export at once.
    Their positioning stays theirs (in « Mes positionnements »), unlinked from the study."""
    assessment = respondent.assessment
    campaign = respondent.campaign
    respondent.delete()
    Assessment.objects.filter(pk=assessment.pk).update(answers_until=None)
    # A departure: the results change only as a whole batch (pools.py).
    settle_campaign(campaign)


# --- Earlier waves and crosswalks ----------------------------------------------------------

@transaction.atomic
def import_previous_wave(*, campaign: Campaign, name: str, year: int, source_format: str, raw: bytes) -> PreviousWave:
    """Import an earlier wave from CSV (microdata or aggregates); any error refuses the file."""
    parse = importers.parse_wave_microdata if source_format == "microdata" else importers.parse_wave_aggregates
    try:
        data = parse(raw)
    except importers.ImportFileError as exc:
        raise ImportRefused(str(exc), []) from exc
    if data.errors:
        raise ImportRefused(_("Le fichier contient des lignes à corriger : rien n'a été importé."), data.errors)
    if not data.items:
        raise ImportRefused(_("Le fichier ne contient aucun item."), [])
    too_long = [code for code, item in data.items.items() if len(code) > 60 or len(item.label or "") > 300]
    if too_long:
        raise ImportRefused(
            _("Codes d'items de 60 caractères au plus, libellés de 300 au plus : %(code)s.") % {"code": too_long[0][:80]}, []
        )
    wave = PreviousWave.objects.create(
        campaign=campaign, name=name.strip() or str(year), year=year, source_format=source_format,
        respondents=data.respondents,
    )
    WaveItem.objects.bulk_create(
        WaveItem(wave=wave, code=item.code, label=item.label or "", counts={str(k): v for k, v in item.counts.items()})
        for item in data.items.values()
    )
    return wave


@transaction.atomic
def import_crosswalk(*, wave: PreviousWave, raw: bytes) -> int:
    """Replace the wave's correspondence table with the file's; returns the number of links."""
    try:
        crosswalk = importers.parse_crosswalk(raw)
    except importers.ImportFileError as exc:
        raise ImportRefused(str(exc), []) from exc
    grid = get_grid(wave.campaign.version_id)
    items = {i.code: i for i in WaveItem.objects.filter(wave=wave)}
    errors = list(crosswalk.errors)
    links = []
    for pair in crosswalk.pairs:
        item, practice = items.get(pair.source), grid.practice(pair.target)
        if item is None:
            errors.append(importers.LineError(pair.line, pair.source, _("item inconnu dans la vague importée")))
        elif practice is None:
            errors.append(importers.LineError(pair.line, pair.target, _("pratique inconnue dans la grille de la campagne")))
        elif not 0 < pair.weight < 1000 or pair.weight != round(pair.weight, 3):
            errors.append(importers.LineError(pair.line, str(pair.weight), _("poids attendu entre 0 et 999, trois décimales au plus")))
        else:
            weight = pair.weight
            links.append(CrosswalkLink(wave=wave, item=item, practice_id=practice.id, weight=weight))
    if errors:
        raise ImportRefused(_("La table de correspondance contient des lignes à corriger : rien n'a été importé."), errors)
    CrosswalkLink.objects.filter(wave=wave).delete()
    CrosswalkLink.objects.bulk_create(links)
    return len(links)
