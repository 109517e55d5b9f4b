from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RateLimitCounter(models.Model):
    """Attempts counted by grille.core.ratelimit, in the database so that every gunicorn worker
    sees the same count. The key holds a keyed hash, never an address or an e-mail in clear."""

    key = models.CharField(max_length=100, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"


class OutgoingEmail(models.Model):
    """One e-mail Grille sends: written in the transaction of the action that causes it, sent by
    the worker (grille/core/tasks.py), which retries transport errors with backoff.

    The body holds the links it carries (a sign-in link is a credential): it is emptied once the
    message is sent. `topic` names what caused it (`invitee:<id>`), so that an app can show each
    sending's state without core knowing that app."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("en attente")
        SENDING = "sending", _("en cours d'envoi")
        SENT = "sent", _("envoyé")
        FAILED = "failed", _("en échec")

    kind = models.CharField(max_length=40)
    recipient = models.EmailField(max_length=254)
    subject = models.TextField()
    body = models.TextField(blank=True)
    # Stable across retries: a message delivered twice (worker killed between the server's
    # acceptance and our write) carries the same Message-ID, and can be recognised as a duplicate.
    message_id = models.CharField(max_length=255, unique=True)
    topic = models.CharField(max_length=100, blank=True, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outgoing_email_due"),
            # The rate counts the rows claimed in the last seconds, in a table that keeps every e-mail.
            models.Index(fields=["claimed_at"], name="outgoing_email_claimed"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient} ({self.status})"
