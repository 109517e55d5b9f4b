"""A file built by a task (a heavy export, a report), kept for a while, downloaded through a view."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .enums import FileStatus

# Below MEDIA_ROOT, never served as static files: every download goes through files:download.
UPLOAD_DIR = "fichiers"


class GeneratedFile(models.Model):
    """One request for a generated file and, once built, the file.

    `subject` names what the file is about (``campaign:<uuid>``): the app that registered `kind`
    decides from it who may see and download the file (grille/files/registry.py). `attempt`
    counts the builds: a build only publishes its file while it is still the current attempt,
    so a retried job never gets the file of the build it replaced.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generated_files")
    kind = models.CharField(max_length=60)
    parameters = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=10, blank=True)  # the asker's, for the file's texts
    subject = models.CharField(max_length=120, db_index=True)
    status = models.CharField(max_length=10, choices=FileStatus.choices, default=FileStatus.QUEUED)
    attempt = models.PositiveIntegerField(default=0)
    progress = models.PositiveSmallIntegerField(default=0)
    progress_label = models.CharField(max_length=120, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    file = models.FileField(upload_to=UPLOAD_DIR, max_length=200, blank=True)
    filename = models.CharField(max_length=200, blank=True)
    size = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("fichier généré")
        verbose_name_plural = _("fichiers générés")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["expires_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="generated_file_progress_at_most_100"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.subject}, {self.status})"
