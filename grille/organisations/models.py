import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grille.assessments.models import Assessment
from grille.core.enums import StructureType
from grille.core.validators import validate_mailed_name
from grille.frameworks.models import FrameworkVersion, Practice

from .enums import ActionStatus, DecisionMode, Role, ShareMode, TerritoryType

NAME_MAX = 200
NOTE_MAX = 4000
EMAIL_MAX = 254  # EmailField's default, named for the service that checks it


class Organisation(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Mailed in every invitation: one line, no web address (grille/core/validators.py).
    name = models.CharField(_("nom"), max_length=NAME_MAX, validators=[validate_mailed_name])
    structure_type = models.CharField(_("type de structure"), max_length=40, choices=StructureType.choices)
    territory = models.CharField(_("territoire"), max_length=NAME_MAX, blank=True)
    territory_type = models.CharField(_("type de territoire"), max_length=20, choices=TerritoryType.choices, blank=True)
    # The grid the team compares itself on: only positionings on this version can be shared.
    version = models.ForeignKey(FrameworkVersion, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("structure")
        verbose_name_plural = _("structures")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)
    # The last reminder to share sent to this member (services.remind_members): one a day at most.
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("membre")
        constraints = [models.UniqueConstraint(fields=["organisation", "user"], name="unique_membership")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation}"

    @property
    def is_facilitator(self) -> bool:
        return self.role == Role.FACILITATOR


class Invitation(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("adresse e-mail"), max_length=EMAIL_MAX, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expire le"))
    # None: usable by any number of people until it expires.
    max_uses = models.PositiveIntegerField(_("utilisations possibles"), null=True, blank=True)
    uses = models.PositiveIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_uses__isnull=True) | models.Q(uses__lte=models.F("max_uses")),
                name="invitation_uses_within_limit",
            ),
        ]

    def __str__(self) -> str:
        return self.email or str(_("lien d'invitation"))

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.max_uses is not None and self.uses >= self.max_uses:
            return "used"
        if self.expires_at <= timezone.now():
            return "expired"
        return "active"


class Share(models.Model):
    """A member's explicit, revocable choice to show one positioning to the organisation."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shares")
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="shares")
    mode = models.CharField(_("mode"), max_length=20, choices=ShareMode.choices)
    consent_version = models.CharField(max_length=20)
    shared_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # An anonymous share in the team's published pool (grille/disclosure/release.py): the pool
    # changes in batches.
    released = models.BooleanField(default=False, editable=False)

    class Meta:
        verbose_name = _("partage")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="one_active_share_per_member",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "withdrawn_at"])]

    def __str__(self) -> str:
        return f"{self.user} → {self.organisation} ({self.mode})"


class Decision(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="decisions")
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    mode = models.CharField(_("arbitrage"), max_length=20, choices=DecisionMode.choices)
    partner_types = models.JSONField(_("types de partenaires"), default=list, blank=True)
    partners = models.CharField(_("partenaires locaux"), max_length=NOTE_MAX, blank=True)
    note = models.TextField(_("note"), max_length=NOTE_MAX, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("arbitrage")
        constraints = [models.UniqueConstraint(fields=["organisation", "practice"], name="unique_decision")]

    def __str__(self) -> str:
        return f"{self.practice.code} {self.mode}"


class DecisionRevision(models.Model):
    """Who changed a decision, when, and to what: the history is never rewritten."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="revisions")
    mode = models.CharField(max_length=20, choices=DecisionMode.choices)
    partner_types = models.JSONField(default=list)
    partners = models.CharField(max_length=NOTE_MAX, blank=True)
    note = models.TextField(blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.decision} @ {self.changed_at:%Y-%m-%d %H:%M}"


class PracticeComment(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="comments")
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    body = models.TextField(_("commentaire"), max_length=NOTE_MAX)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.body[:60]


class ActionItem(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="actions")
    title = models.CharField(_("action"), max_length=NAME_MAX)
    practices = models.ManyToManyField(Practice, related_name="+", blank=True)
    owner = models.ForeignKey(Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="actions")
    due_date = models.DateField(_("échéance"), null=True, blank=True)
    status = models.CharField(_("statut"), max_length=20, choices=ActionStatus.choices, default=ActionStatus.TODO)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("action")
        ordering = ["due_date", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_overdue(self) -> bool:
        return self.status != ActionStatus.DONE and self.due_date is not None and self.due_date < timezone.localdate()


class WorkshopSession(models.Model):
    """A guided workshop: the practices the facilitator chose to debate, in order, and where
    the room is in that agenda. Members follow it live; its decisions and actions are the
    organisation's own (Decision, ActionItem), so the session only remembers the walk."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="workshop_sessions")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    # Practice codes, in the order they are debated.
    agenda = models.JSONField(default=list)
    ordering = models.CharField(max_length=20, blank=True)
    minutes_per_item = models.PositiveSmallIntegerField(default=5)
    current_index = models.PositiveIntegerField(default=0)
    # Seconds spent on each practice before the room reached the current one (code -> seconds);
    # the current one runs from current_since.
    item_seconds = models.JSONField(default=dict)
    item_started_at = models.JSONField(default=dict)  # code -> first time the room reached it (ISO 8601)
    current_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("atelier guidé")
        verbose_name_plural = _("ateliers guidés")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"], condition=models.Q(ended_at__isnull=True), name="one_open_workshop_session"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} — {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    @property
    def current_code(self) -> str | None:
        if not self.agenda:
            return None
        return str(self.agenda[min(self.current_index, len(self.agenda) - 1)])
