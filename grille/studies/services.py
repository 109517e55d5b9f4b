"""Every change to a study campaign goes through one of these functions."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from grille.assessments.consents import new_pseudonym, record_consent, withdraw_consents
from grille.assessments.enums import AssessmentStatus, ConsentKind
from grille.assessments.models import Assessment
from grille.assessments.services import start_assessment
from grille.core.links import absolute_url
from grille.core.mail import Mail, MailKind, queue_mails, retry_failed_mail
from grille.core.tabular.reading import ImportFileError
from grille.core.tokens import accepted_keys, derived_token, hash_token, new_token, token_text
from grille.core.users import User
from grille.core.validators import SUBJECT_TEXT_MAX, single_line, validate_mailed_name
from grille.disclosure.cells import MIN_THRESHOLD
from grille.frameworks.crosswalks import CrosswalkFileError, UnknownCodeMessages, load_crosswalk
from grille.frameworks.enums import VersionStatus
from grille.frameworks.models import CROSSWALK_NAME_MAX, FrameworkVersion, Practice
from grille.frameworks.services import content_hash, load_framework_version

from . import importers
from .enums import DEFAULT_PROFILE_QUESTIONS, QuestionKind
from .models import (
    Campaign,
    ConsentText,
    Invitee,
    MicrodataDownload,
    PreviousWave,
    ProfileAnswer,
    ProfileQuestion,
    Respondent,
    WaveItem,
)
from .permissions import can_run_studies
from .pools import settle_campaign
from .selectors import campaign_mail, invitee_topic


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


def _check_name(name: str) -> str:
    """The campaign's name is mailed to every invitee: one line, without a web address."""
    name = name.strip()
    try:
        validate_mailed_name(name)
    except ValidationError as exc:
        raise StudyError(_("Nom de la campagne : %(problem)s") % {"problem": exc.messages[0]}) from None
    return name


def _subject_name(campaign: Campaign) -> str:
    # A name saved before the check above may hold a line break or a direction override.
    return single_line(campaign.name, max_length=SUBJECT_TEXT_MAX)


def _check_dates_and_threshold(opens_at: datetime, closes_at: datetime, threshold: int) -> None:
    if closes_at <= opens_at:
        raise StudyError(_("La date de clôture doit être postérieure à la date d'ouverture."))
    if threshold < MIN_THRESHOLD:
        raise StudyError(
            _("Le seuil de diffusion ne peut pas être inférieur à %(min)d répondants.") % {"min": MIN_THRESHOLD}
        )


@transaction.atomic
def create_campaign(
    *, user: User | None, name: str, wave_year: int, version: FrameworkVersion, opens_at: datetime, closes_at: datetime,
    introduction: str = "", consent_text: str, threshold: int = 5, synthetic: bool = False,
) -> Campaign:
    """Create a campaign with the default profile questions; its creator becomes its analyst."""
    if user is not None and not can_run_studies(user):
        raise NotAllowed(_("Seules les personnes habilitées comme analystes peuvent créer une campagne d'étude."))
    name = _check_name(name)
    _check_dates_and_threshold(opens_at, closes_at, threshold)
    if not consent_text.strip():
        raise StudyError(_("Le texte du consentement est obligatoire."))
    campaign = Campaign.objects.create(
        name=name, wave_year=wave_year, version=version, opens_at=opens_at, closes_at=closes_at,
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


@transaction.atomic
def record_microdata_download(*, campaign: Campaign, user: User | None, fmt: str, via: str) -> MicrodataDownload:
    """Record one download of the microdata, before its first byte leaves: who, when, what
    (no one for the command line's export_campaign, run by whoever holds the server)."""
    rows = Respondent.objects.filter(campaign=campaign, assessment__status=AssessmentStatus.SUBMITTED).count()
    return MicrodataDownload.objects.create(
        campaign=campaign, user=user, user_email=user.email if user else "", fmt=fmt, via=via, rows=rows,
    )


@transaction.atomic
def update_campaign(
    *, campaign: Campaign, name: str, opens_at: datetime, closes_at: datetime, introduction: str,
    consent_text: str, threshold: int,
) -> Campaign:
    """Change a campaign. A new consent wording becomes a new version; a new closing date
    applies at once to every positioning of the campaign."""
    name = _check_name(name)
    _check_dates_and_threshold(opens_at, closes_at, threshold)
    if threshold != campaign.threshold and Respondent.objects.filter(campaign=campaign, released=True).exists():
        # Results already published with one k: another k would publish other cells and
        # other batches of the same people, and the two could be compared.
        raise StudyError(_("Le seuil de diffusion ne change plus une fois des résultats publiés."))
    current = current_consent(campaign)
    if consent_text.strip() and consent_text.strip() != current.text:
        ConsentText.objects.create(campaign=campaign, version=current.version + 1, text=consent_text.strip())
    campaign.name, campaign.opens_at, campaign.closes_at = name, opens_at, closes_at
    campaign.introduction, campaign.threshold = introduction.strip(), threshold
    campaign.save(update_fields=["name", "opens_at", "closes_at", "introduction", "threshold"])
    Assessment.objects.filter(study_respondent__campaign=campaign).update(answers_until=closes_at)
    return campaign


def current_consent(campaign: Campaign) -> ConsentText:
    """The wording respondents read now. A campaign has one from its creation on
    (create_campaign writes the first in the same transaction)."""
    return ConsentText.objects.filter(campaign=campaign).latest("version")


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

INVITEE_LINK_PURPOSE = "grille.studies.invitee"


def _legacy_invitee_token(link_key: str, key: str | bytes) -> str:
    # Links sent before they were salted were a raw HMAC of the key: still recognised, so that
    # invitations already sent keep working. To remove once the campaigns that had invitees
    # before then have closed.
    return token_text(hmac.new(force_bytes(key), f"grille-invitee:{link_key}".encode(), hashlib.sha256).digest())


def _accepted_invitee_tokens(link_key: str) -> Iterator[str]:
    for key in accepted_keys():
        yield derived_token(INVITEE_LINK_PURPOSE, link_key, key=key)
        yield _legacy_invitee_token(link_key, key)


def _current_invitee_token(link_key: str) -> str:
    return derived_token(INVITEE_LINK_PURPOSE, link_key, key=settings.SECRET_KEY)


def invitee_token(invitee: Invitee) -> str:
    """The invitee's personal link token, derived from their link key with the server's secret so
    that a reminder carries the same link as the invitation while only its hash is stored.

    The link already sent is kept while the key it was made with is still accepted (SECRET_KEY or
    one of SECRET_KEY_FALLBACKS). Once that key is dropped, that link no longer opens: a new one is
    made with the current key and its hash stored, for the next e-mail."""
    token, token_hash = _link_token(invitee.pk, invitee.link_key, invitee.token_hash)
    invitee.token_hash = token_hash
    return token


def _link_token(pk: int, link_key: str, token_hash: str) -> tuple[str, str]:
    for token in _accepted_invitee_tokens(link_key):
        if hash_token(token) == token_hash:
            return token, token_hash
    token = _current_invitee_token(link_key)
    Invitee.objects.filter(pk=pk).update(token_hash=hash_token(token))
    return token, hash_token(token)


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
    except ImportFileError as exc:
        raise ImportRefused(str(exc), []) from exc
    if not parsed.ok:
        raise ImportRefused(
            ngettext(
                "Le fichier contient %(n)d ligne à corriger : rien n'a été importé.",
                "Le fichier contient %(n)d lignes à corriger : rien n'a été importé.",
                len(parsed.errors),
            ) % {"n": len(parsed.errors)},
            parsed.errors,
        )
    Campaign.objects.select_for_update().filter(pk=campaign.pk).first()  # not while a mailing is accepted
    existing = set(Invitee.objects.filter(campaign=campaign).values_list("email", flat=True))
    new = []
    for email in parsed.emails:
        if email in existing:
            continue
        link_key = secrets.token_hex(32)
        new.append(Invitee(
            campaign=campaign, email=email, link_key=link_key, token_hash=hash_token(_current_invitee_token(link_key))
        ))
    Invitee.objects.bulk_create(new, batch_size=1000)
    return InviteeImportResult(added=len(new), already_invited=len(parsed.emails) - len(new), lines=parsed.total_lines)


def _completed_respondent(campaign: Campaign) -> QuerySet[Respondent]:
    return Respondent.objects.filter(
        campaign=campaign, link_key=OuterRef("link_key"), assessment__status=AssessmentStatus.SUBMITTED
    )


@dataclass(frozen=True)
class SendReport:
    queued: int


# Stands for each invitee's link while the message is rendered once for the whole mailing.
LINK_PLACEHOLDER = "@@grille-invitee-link@@"


def _queue(*, campaign: Campaign, invitees: QuerySet[Invitee], template: str, subject: str, kind: str, mark: str) -> SendReport:
    """Queue one e-mail per invitee in the outbox and mark them at once: the worker sends them at
    the configured rate, and the invitations page shows each one's state. The body is rendered
    once, each person's link put in its place."""
    # Tuples, not instances: 30 000 of them in one POST.
    people = list(invitees.values_list("pk", "email", "link_key", "token_hash"))
    body = render_to_string(template, {"campaign": campaign, "url": LINK_PLACEHOLDER})
    link_prefix = absolute_url(reverse("studies:invited", args=["x"]))[:-2]
    rows = [
        Mail(
            to=email, subject=subject, kind=kind, topic=invitee_topic(pk),
            body=body.replace(LINK_PLACEHOLDER, f"{link_prefix}{_link_token(pk, link_key, token_hash)[0]}/"),
        )
        for pk, email, link_key, token_hash in people
    ]
    queue_mails(rows)
    # The same people: the campaign is locked, so no invitee was added in between.
    invitees.update(**{mark: timezone.now()}, send_error="")
    return SendReport(queued=len(rows))


@transaction.atomic
def send_invitations(*, campaign: Campaign) -> SendReport:
    """Queue the invitation for everyone not yet invited; a failed one is sent again by
    retry_failed_mailings."""
    Campaign.objects.select_for_update().filter(pk=campaign.pk).first()  # one mailing at a time
    return _queue(
        campaign=campaign, invitees=Invitee.objects.filter(campaign=campaign, sent_at__isnull=True),
        template="studies/email_invitation.txt", kind=MailKind.STUDY_INVITATION,
        subject=_("Étude « %(name)s » : votre participation") % {"name": _subject_name(campaign)}, mark="sent_at",
    )


@transaction.atomic
def send_reminders(*, campaign: Campaign) -> SendReport:
    """Remind only those who were invited and have not submitted their answers."""
    Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
    return _queue(
        campaign=campaign,
        invitees=Invitee.objects.filter(campaign=campaign, sent_at__isnull=False).exclude(Exists(_completed_respondent(campaign))),
        template="studies/email_reminder.txt", kind=MailKind.STUDY_REMINDER,
        subject=_("Rappel — étude « %(name)s »") % {"name": _subject_name(campaign)}, mark="reminded_at",
    )


def retry_failed_mailings(*, campaign: Campaign) -> int:
    """Queue again the campaign's invitations and reminders that failed."""
    return retry_failed_mail(campaign_mail(campaign))


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
    """The invitee whose personal link this is; None for an unknown link, or for one made with a
    key that is no longer accepted."""
    invitee = Invitee.objects.select_related("campaign", "campaign__version").filter(token_hash=hash_token(raw)).first()
    if invitee is None or not any(constant_time_compare(raw, t) for t in _accepted_invitee_tokens(invitee.link_key)):
        return None
    return invitee


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


def start_response(
    *, campaign: Campaign, link_key: str, consent_version: int, owner: User | None = None
) -> Respondent:
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
                respondent = Respondent.objects.create(
                    campaign=campaign, pseudonym=new_pseudonym("R-"), link_key=link_key, assessment=assessment,
                    consent=consent,
                )
                record_consent(
                    kind=ConsentKind.STUDY, assessment=assessment, text_version=str(consent.version),
                    pseudonym=respondent.pseudonym, scope=str(campaign.uuid),
                )
                return respondent
        except IntegrityError:
            existing = Respondent.objects.filter(campaign=campaign, link_key=link_key).first()
            if existing is not None:
                return existing  # the same person clicked twice: one respondent
    raise StudyError(_("Impossible de créer la participation, réessayez."))


def open_link_key() -> str:
    """A fresh key for someone answering through the open link."""
    return secrets.token_hex(32)


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
    # The proof of the consent stays, stamped with the withdrawal (ConsentRecord).
    withdraw_consents(assessments=[assessment.pk], kind=ConsentKind.STUDY, scope=str(campaign.uuid))
    Assessment.objects.filter(pk=assessment.pk).update(answers_until=None)
    # A departure: the results change only as a whole batch (pools.py).
    settle_campaign(campaign)


# --- Earlier waves and crosswalks ----------------------------------------------------------

def _wave_framework_data(*, campaign: Campaign, name: str, year: int, items: Iterable[importers.WaveItem]) -> dict[str, Any]:
    """An earlier wave as the content of a framework file, loaded as any référentiel is.

    One axis and one situation hold its items as practices; it has no dimensions, so it can
    be neither published nor answered: it is only read through a crosswalk. The framework is
    the campaign's own, so that one campaign's table never changes another's comparison, and
    the version's code comes from its content, so that importing the same wave again finds
    the same version (and the table already loaded for it).
    """
    practices = [{"code": item.code, "label": item.label} for item in items]
    data: dict[str, Any] = {
        "framework": {"code": f"vagues-{campaign.uuid.hex}", "name": campaign.name, "publisher": ""},
        "version": {
            "code": "",
            "title": f"{name} ({year})",
            "source": "",
            "source_date": None,
            "status": str(VersionStatus.DRAFT),
        },
        "dimensions": [],
        "axes": [
            {
                "code": "1",
                "label": name,
                "description": "",
                "situations": [{"code": "1", "label": name, "description": "", "practices": practices}],
            }
        ],
    }
    data["version"]["code"] = f"{year}-{content_hash(data)[:12]}"
    return data


@transaction.atomic
def import_previous_wave(*, campaign: Campaign, name: str, year: int, source_format: str, raw: bytes) -> PreviousWave:
    """Import an earlier wave from CSV (microdata or aggregates); any error refuses the file.

    Its items become the practices of a framework version (:func:`_wave_framework_data`),
    and the wave keeps its counts for each.
    """
    parse = importers.parse_wave_microdata if source_format == "microdata" else importers.parse_wave_aggregates
    try:
        parsed = parse(raw)
    except ImportFileError as exc:
        raise ImportRefused(str(exc), []) from exc
    if parsed.errors:
        raise ImportRefused(_("Le fichier contient des lignes à corriger : rien n'a été importé."), parsed.errors)
    if not parsed.items:
        raise ImportRefused(_("Le fichier ne contient aucun item."), [])
    too_long = [code for code, item in parsed.items.items() if len(code) > 60 or len(item.label or "") > 300]
    if too_long:
        raise ImportRefused(
            _("Codes d'items de 60 caractères au plus, libellés de 300 au plus : %(code)s.") % {"code": too_long[0][:80]}, []
        )
    name = name.strip() or str(year)
    data = _wave_framework_data(campaign=campaign, name=name, year=year, items=parsed.items.values())
    version = load_framework_version(data=data).version
    practices = dict(Practice.objects.filter(version=version).values_list("code", "id"))
    wave = PreviousWave.objects.create(
        campaign=campaign, name=name, year=year, source_format=source_format, version=version,
        respondents=parsed.respondents,
    )
    WaveItem.objects.bulk_create(
        WaveItem(wave=wave, practice_id=practices[item.code], counts={str(k): v for k, v in item.counts.items()})
        for item in parsed.items.values()
    )
    return wave


def import_crosswalk(*, wave: PreviousWave, raw: bytes, filename: str = "") -> int:
    """Replace the table through which the campaign's grid reads the wave's items; returns the number of links.

    It is a crosswalk of the frameworks, from the wave's version to the campaign's, read from
    CSV (or YAML, by its ``filename``) as every correspondence table is.
    """
    campaign = wave.campaign
    unknown = UnknownCodeMessages(
        source=_("item inconnu dans la vague importée"), target=_("pratique inconnue dans la grille de la campagne")
    )
    try:
        crosswalk = load_crosswalk(
            raw=raw, filename=filename, source=wave.version, target=campaign.version,
            name=f"{wave} → {campaign}"[:CROSSWALK_NAME_MAX], unknown=unknown,
        )
    except CrosswalkFileError as exc:
        if exc.errors:
            message = _("La table de correspondance contient des lignes à corriger : rien n'a été importé.")
            raise ImportRefused(message, exc.errors) from exc
        raise ImportRefused(str(exc), []) from exc
    return crosswalk.entries.count()
