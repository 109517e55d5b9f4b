from django.db import models
from django.utils.translation import gettext_lazy as _


class FileStatus(models.TextChoices):
    QUEUED = "queued", _("En attente")
    BUILDING = "building", _("En préparation")
    READY = "ready", _("Prêt")
    FAILED = "failed", _("Échec")
    EXPIRED = "expired", _("Expiré")
