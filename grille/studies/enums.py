from typing import TypedDict

from django.db import models
from django.utils.translation import gettext_lazy as _


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("Un seul choix")
    MULTIPLE = "multiple", _("Plusieurs choix possibles")


class WaveFormat(models.TextChoices):
    MICRODATA = "microdata", _("Microdonnées (une ligne par répondant)")
    AGGREGATES = "aggregates", _("Agrégats (effectifs par item et niveau)")


# The default profile questions of a campaign (DESIGN.md), copied into each new
# campaign where the analyst can reorder, drop or extend them.
REGIONS = [
    ("ara", "Auvergne-Rhône-Alpes"), ("bfc", "Bourgogne-Franche-Comté"), ("bre", "Bretagne"),
    ("cvl", "Centre-Val de Loire"), ("cor", "Corse"), ("ges", "Grand Est"), ("hdf", "Hauts-de-France"),
    ("idf", "Île-de-France"), ("nor", "Normandie"), ("naq", "Nouvelle-Aquitaine"), ("occ", "Occitanie"),
    ("pdl", "Pays de la Loire"), ("pac", "Provence-Alpes-Côte d'Azur"), ("gua", "Guadeloupe"),
    ("guy", "Guyane"), ("mar", "Martinique"), ("may", "Mayotte"), ("reu", "La Réunion"),
]

class DefaultQuestion(TypedDict):
    code: str
    label: str
    kind: str
    options: list[tuple[str, str]]


DEFAULT_PROFILE_QUESTIONS: list[DefaultQuestion] = [
    {
        "code": "structure", "label": "Type de structure", "kind": "single",
        "options": [
            ("commune", "Commune"), ("epci", "EPCI (intercommunalité)"), ("departement", "Département"),
            ("region", "Région"), ("autre-collectivite", "Autre collectivité ou syndicat"),
            ("etat", "État ou organisme public"), ("association", "Association"), ("fondation", "Fondation"),
            ("entreprise", "Entreprise"), ("academique", "Acteur académique ou de recherche"), ("autre", "Autre"),
        ],
    },
    {
        "code": "territoire", "label": "Type de territoire", "kind": "single",
        "options": [("rural", "Rural"), ("periurbain", "Périurbain"), ("urbain", "Urbain"),
                    ("metropolitain", "Métropolitain"), ("mixte", "Mixte")],
    },
    {
        "code": "outre-mer", "label": "Hexagone ou outre-mer", "kind": "single",
        "options": [("hexagone", "Hexagone et Corse"), ("outre-mer", "Outre-mer")],
    },
    {"code": "region", "label": "Région", "kind": "single", "options": REGIONS},
    {
        "code": "ingenieries", "label": "Ingénieries portées", "kind": "multiple",
        "options": [("gestion-publique", "Gestion publique"), ("management-projets", "Management de projets"),
                    ("catalyse", "Catalyse")],
    },
    {
        "code": "ecosystemes", "label": "Écosystèmes avec lesquels vous interagissez", "kind": "multiple",
        "options": [
            ("organisation", "Votre propre organisation (pairs, direction générale, élus)"),
            ("equipes-projets", "Les équipes de projets territoriaux"),
            ("partenaires-territoriaux", "Les partenaires territoriaux"),
            ("partenaires-nationaux", "Des partenaires nationaux"),
        ],
    },
    {
        "code": "metiers", "label": "Métiers de la catalyse exercés", "kind": "multiple",
        "options": [("dialogue", "Dialogue territorial"), ("experimentations", "Expérimentations collectives"),
                    ("cooperations", "Accompagnement des coopérations"), ("lieux", "Gestion de lieux")],
    },
    {
        "code": "anciennete", "label": "Années d'expérience en ingénierie territoriale", "kind": "single",
        "options": [("moins-2", "Moins de 2 ans"), ("2-5", "2 à 5 ans"), ("5-10", "5 à 10 ans"),
                    ("plus-10", "Plus de 10 ans")],
    },
    {
        "code": "role", "label": "Fonction", "kind": "single",
        "options": [("direction", "Direction"), ("chef-projet", "Cheffe ou chef de projet"),
                    ("charge-mission", "Chargée ou chargé de mission"), ("elu", "Élue ou élu"),
                    ("autre", "Autre")],
    },
]
