import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grille.assessments.models import Assessment
from grille.core.validators import validate_mailed_name
from grille.frameworks.models import FrameworkVersion, Practice

from .enums import QuestionKind, WaveFormat

CAMPAIGN_NAME_MAX = 200

class Campaign(models.Model):
    """A study wave: who is asked, on which grid, when, and how small a group may be shown."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Mailed to every invitee: one line, no web address (grille/core/validators.py).
    name = models.CharField(_("nom"), max_length=CAMPAIGN_NAME_MAX, validators=[validate_mailed_name])
    wave_year = models.PositiveSmallIntegerField(_("vague (année)"))
    version = models.ForeignKey(FrameworkVersion, on_delete=models.PROTECT, related_name="+")
    opens_at = models.DateTimeField(_("ouverture"))
    closes_at = models.DateTimeField(_("clôture"))
    introduction = models.TextField(_("texte d'introduction"), blank=True)
    threshold = models.PositiveSmallIntegerField(_("seuil de diffusion (k)"), default=5)
    # Generated demo data: every page, export and PDF that shows it says « données fictives ».
    synthetic = models.BooleanField(_("données fictives"), default=False)
    open_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    analysts = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="analysed_campaigns", blank=True)
    # The study lead: the only one who may download the pseudonymised microdata.
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("responsable de l'étude"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("campagne d'étude")
        verbose_name_plural = _("campagnes d'étude")
        permissions = [("run_studies", _("Peut créer et mener des campagnes d'étude"))]
        constraints = [
            models.CheckConstraint(condition=models.Q(threshold__gte=3), name="campaign_threshold_at_least_3"),
            models.CheckConstraint(condition=models.Q(closes_at__gt=models.F("opens_at")), name="campaign_closes_after_opening"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.wave_year})"

    @property
    def content_language(self) -> str:
        """The language of the study's own texts (its profile questions and their options, seeded
        in French and written by its analysts for its respondents): that of its grid's original.
        Pages mark them with it, so that an English page shows them as what they are."""
        return self.version.language or "fr"

    @property
    def state(self) -> str:
        now = timezone.now()
        if now < self.opens_at:
            return "upcoming"
        if now > self.closes_at:
            return "closed"
        return "open"


class ConsentText(models.Model):
    """Each wording of the consent is kept: a respondent's consent points at the one they read."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="consent_texts")
    version = models.PositiveSmallIntegerField()
    text = models.TextField(_("texte du consentement"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["campaign", "version"], name="unique_consent_version")]

    def __str__(self) -> str:
        return f"{self.campaign} v{self.version}"


class ProfileQuestion(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="questions")
    code = models.SlugField(_("code"), max_length=40)
    label = models.CharField(_("question"), max_length=300)
    kind = models.CharField(_("type"), max_length=20, choices=QuestionKind.choices)
    options = models.JSONField(_("modalités"), default=list)  # [[code, label], ...]
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "code"], name="unique_question_code")]

    def __str__(self) -> str:
        return self.label

    def option_label(self, code: str) -> str:
        return next((label for c, label in self.options if c == code), code)


class Invitee(models.Model):
    """An identity invited to a campaign. Kept apart from answers: the link to a
    respondent is a random key both carry, never a foreign key an analyst's page could follow."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="invitees")
    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    link_key = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    send_error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("personne invitée")
        constraints = [models.UniqueConstraint(fields=["campaign", "email"], name="unique_invitee_email")]

    def __str__(self) -> str:
        return self.email


class Respondent(models.Model):
    """A pseudonymous participant: profile answers and a positioning, no identity."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="respondents")
    pseudonym = models.CharField(max_length=16)
    link_key = models.CharField(max_length=64)
    assessment = models.OneToOneField(Assessment, on_delete=models.CASCADE, related_name="study_respondent")
    consent = models.ForeignKey(ConsentText, on_delete=models.PROTECT, related_name="+")
    consented_at = models.DateTimeField(default=timezone.now)
    synthetic = models.BooleanField(default=False)
    # In the campaign's published results (grille/disclosure/release.py): they change in batches.
    released = models.BooleanField(default=False, editable=False)

    class Meta:
        verbose_name = _("répondant·e")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "pseudonym"], name="unique_pseudonym"),
            models.UniqueConstraint(fields=["campaign", "link_key"], name="unique_respondent_link"),
        ]

    def __str__(self) -> str:
        return self.pseudonym


class ProfileAnswer(models.Model):
    respondent = models.ForeignKey(Respondent, on_delete=models.CASCADE, related_name="profile_answers")
    question = models.ForeignKey(ProfileQuestion, on_delete=models.CASCADE, related_name="answers")
    option = models.CharField(max_length=40)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["respondent", "question", "option"], name="unique_profile_answer"),
        ]
        indexes = [models.Index(fields=["question", "option"])]

    def __str__(self) -> str:
        return f"{self.question.code}={self.option}"


class PreviousWave(models.Model):
    """An earlier wave (e.g. the 2018 study), imported as microdata or aggregates, for comparison.

    Its items are the practices of ``version``, a framework version of their own, which the
    campaign's version reads through a crosswalk (grille/frameworks/crosswalks.py).
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="previous_waves")
    name = models.CharField(_("nom"), max_length=200)
    year = models.PositiveSmallIntegerField(_("année"))
    source_format = models.CharField(max_length=20, choices=WaveFormat.choices)
    version = models.ForeignKey(FrameworkVersion, on_delete=models.PROTECT, related_name="+")
    respondents = models.PositiveIntegerField(null=True, blank=True)
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("vague précédente")

    def __str__(self) -> str:
        return f"{self.name} ({self.year})"


class WaveItem(models.Model):
    """How the wave's respondents answered one of its items."""

    wave = models.ForeignKey(PreviousWave, on_delete=models.CASCADE, related_name="items")
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    counts = models.JSONField(default=dict)  # {"0": n, "1": n, ...}

    class Meta:
        constraints = [models.UniqueConstraint(fields=["wave", "practice"], name="unique_wave_practice")]

    def __str__(self) -> str:
        return self.practice.code


class MicrodataDownload(models.Model):
    """A record of each download of a campaign's pseudonymised microdata, kept as proof."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="microdata_downloads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    user_email = models.EmailField(blank=True)  # kept if the account is erased
    fmt = models.CharField(max_length=10)
    via = models.CharField(max_length=20)  # "web" or "commande"
    rows = models.PositiveIntegerField()
    downloaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("téléchargement de microdonnées")
        ordering = ["-downloaded_at"]

    def __str__(self) -> str:
        return f"{self.campaign} — {self.user_email or '?'} ({self.downloaded_at:%Y-%m-%d %H:%M})"
