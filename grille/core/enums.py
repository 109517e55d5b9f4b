"""Enumerations shared by several apps."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class StructureType(models.TextChoices):
    COMMUNE = "commune", _("Commune")
    EPCI = "epci", _("EPCI (intercommunalité)")
    DEPARTEMENT = "departement", _("Département")
    REGION = "region", _("Région")
    OTHER_LOCAL_AUTHORITY = "autre-collectivite", _("Autre collectivité ou syndicat")
    STATE = "etat", _("État ou organisme public")
    ASSOCIATION = "association", _("Association")
    FOUNDATION = "fondation", _("Fondation")
    COMPANY = "entreprise", _("Entreprise")
    ACADEMIC = "academique", _("Acteur académique ou de recherche")
    OTHER = "autre", _("Autre")
