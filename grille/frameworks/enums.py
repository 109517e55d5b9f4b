from django.db import models
from django.utils.translation import gettext_lazy as _


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    PUBLISHED = "published", _("Publiée")


class DimensionRole(models.TextChoices):
    """What the product does with a dimension; its labels and scale are data."""

    LEVEL = "level", _("Niveau de pratique")
    WISH = "wish", _("Souhait de développement")
    CARRYING = "carrying", _("Portage")
