import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grille.frameworks.models import DimensionOption, FrameworkVersion, Practice

from .enums import AssessmentStatus, ConsentKind

COMMENT_MAX_LENGTH = 2000


def new_record_key() -> int:
    """A random record key for the cell key method (grille/disclosure): 31 bits, never shown."""
    return secrets.randbits(31)


class Assessment(models.Model):
    """One person's positioning on one framework version."""

    # The public identifier in URLs; access still goes through the owner or a resume grant.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    version = models.ForeignKey(FrameworkVersion, on_delete=models.PROTECT, related_name="assessments")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
        related_name="assessments",
    )
    status = models.CharField(
        _("statut"), max_length=20, choices=AssessmentStatus.choices, default=AssessmentStatus.DRAFT
    )
    created_at = models.DateTimeField(_("commencé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)
    submitted_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    # Set by whoever opened the positioning with a deadline (a study campaign): no change after it.
    answers_until = models.DateTimeField(_("réponses acceptées jusqu'au"), null=True, blank=True)
    # Drawn once, kept for good: the same contributors always give the same protected figures.
    record_key = models.PositiveIntegerField(default=new_record_key, editable=False)

    class Meta:
        verbose_name = _("positionnement")
        verbose_name_plural = _("positionnements")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(status=AssessmentStatus.DRAFT, submitted_at__isnull=True)
                    | models.Q(status=AssessmentStatus.SUBMITTED, submitted_at__isnull=False)
                ),
                name="assessment_submitted_has_date",
            ),
        ]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {str(self.uuid)[:8]}"

    @property
    def is_submitted(self) -> bool:
        return self.status == AssessmentStatus.SUBMITTED

    @property
    def is_closed(self) -> bool:
        return self.answers_until is not None and timezone.now() > self.answers_until


class Answer(models.Model):
    """One practice in one positioning."""

    # Autosave rewrites an answer's options many times (issue 16): the options are not indexed
    # (never looked up by option; an index on each made every save rewrite every index of the
    # row), and the positioning's own index would repeat the unique constraint's first column.
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="answers", db_index=False)
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    level = models.ForeignKey(
        DimensionOption, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    wish = models.ForeignKey(
        DimensionOption, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    carrying = models.ForeignKey(
        DimensionOption, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    comment = models.TextField(_("commentaire"), max_length=COMMENT_MAX_LENGTH, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When the person made the saved change, in milliseconds since the epoch by their browser's
    # clock (sent by autosave): a change made earlier in another tab, arriving later, loses.
    edited_at_client = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("réponse")
        constraints = [
            models.UniqueConstraint(fields=["assessment", "practice"], name="unique_answer_per_practice"),
        ]

    def __str__(self) -> str:
        return f"{self.practice.code}"


class ResumeLink(models.Model):
    """A private link that reopens a positioning without an account."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="resume_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("lien de reprise")
        verbose_name_plural = _("liens de reprise")

    def __str__(self) -> str:
        return f"{self.assessment}"


class PeerShare(models.Model):
    """A person's explicit, revocable choice to add a submitted positioning to the network's
    anonymous benchmark; separate from sharing with an organisation or a study."""

    assessment = models.OneToOneField(Assessment, on_delete=models.CASCADE, related_name="peer_share")
    structure_type = models.CharField(_("type de structure"), max_length=40)
    consent_version = models.CharField(max_length=20)
    consented_at = models.DateTimeField(auto_now_add=True)
    # In the published pool of peers (grille/disclosure/release.py): it changes in batches.
    released = models.BooleanField(default=False, editable=False)

    class Meta:
        verbose_name = _("comparaison avec les pairs")
        indexes = [models.Index(fields=["structure_type"])]

    def __str__(self) -> str:
        return f"{self.assessment} ({self.structure_type})"


class ConsentRecord(models.Model):
    """The proof of a consent to a study or to the comparison with peers: who gave it, to which
    wording, when, and when it was withdrawn. Written when the consent is given, stamped at
    withdrawal; it outlives the share it proves (the answers leave the pools at once) and holds
    no answer. On erasure the person and the positioning are cut off: the pseudonymous proof
    stays (README, « Données personnelles »)."""

    kind = models.CharField(max_length=10, choices=ConsentKind.choices)
    # The person, when they had an account; the positioning while it exists.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assessment = models.ForeignKey(
        Assessment, on_delete=models.SET_NULL, null=True, blank=True, related_name="consent_records"
    )
    # Who, when nobody else says it: the respondent's pseudonym, or one drawn for a peer.
    pseudonym = models.CharField(max_length=16)
    # The study (its campaign's uuid); empty for the comparison with peers.
    scope = models.CharField(max_length=36, blank=True)
    text_version = models.CharField(max_length=20)
    given_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("preuve de consentement")
        indexes = [models.Index(fields=["kind", "scope"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.pseudonym} v{self.text_version}"


class StoredFiche(models.Model):
    """The PDF fiche of a submitted positioning, built once and served again (issue 16).

    ``key`` is the digest of what the PDF is made of (its HTML and stylesheets, hence the
    language, the person's name and every text): when any of it changes, another PDF is built.
    Deleted with the positioning.
    """

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    language = models.CharField(max_length=10, blank=True)
    pdf = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("fiche PDF enregistrée")
        constraints = [models.UniqueConstraint(fields=["assessment", "key"], name="unique_stored_fiche")]

    def __str__(self) -> str:
        return f"{self.assessment} {self.key[:8]}"
