from django.db import models
from django.utils.translation import gettext_lazy as _


class TerritoryType(models.TextChoices):
    RURAL = "rural", _("Rural")
    PERIURBAN = "periurbain", _("Périurbain")
    URBAN = "urbain", _("Urbain")
    METROPOLITAN = "metropolitain", _("Métropolitain")
    MIXED = "mixte", _("Mixte")


class Role(models.TextChoices):
    FACILITATOR = "facilitator", _("Animateur·rice")
    MEMBER = "member", _("Membre")


class ShareMode(models.TextChoices):
    NAMED = "named", _("Avec mon nom")
    ANONYMOUS = "anonymous", _("Anonymement")


class DecisionMode(models.TextChoices):
    IN_HOUSE = "in-house", _("En interne")
    PARTNERSHIP = "partnership", _("En partenariat")
    BOTH = "both", _("Les deux")
    NOT_PRIORITY = "not-priority", _("Pas une priorité pour l'instant")


class PartnerType(models.TextChoices):
    LOCAL_AUTHORITY = "collectivite", _("Collectivité territoriale")
    STATE = "etat", _("État ou institution publique")
    ASSOCIATION = "association", _("Association")
    FOUNDATION = "fondation", _("Fondation")
    COMPANY = "entreprise", _("Entreprise")
    ACADEMIC = "academique", _("Acteur académique ou de recherche")
    OTHER = "autre", _("Autre")


class ActionStatus(models.TextChoices):
    TODO = "todo", _("À faire")
    IN_PROGRESS = "in-progress", _("En cours")
    DONE = "done", _("Fait")


# The wording a member agrees to when sharing; its version is recorded with each share.
SHARE_CONSENT_VERSION = "2026-11"
