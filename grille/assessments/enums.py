from django.db import models
from django.utils.translation import gettext_lazy as _


class AssessmentStatus(models.TextChoices):
    DRAFT = "draft", _("En cours")
    SUBMITTED = "submitted", _("Envoyé")


class ConsentKind(models.TextChoices):
    STUDY = "etude", _("Participation à une étude")
    PEERS = "pairs", _("Comparaison avec les pairs")
