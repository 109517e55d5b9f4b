"""What the API reads and writes: the OpenAPI schema is generated from these classes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import BaseModel, ConfigDict

# --- Common -----------------------------------------------------------------------------------


class ErrorOut(Schema):
    detail: str = Field(description="Message en français, à montrer tel quel.")


class PageMeta(Schema):
    count: int = Field(description="Nombre total d'éléments, toutes pages confondues.")
    limit: int
    offset: int


# --- Frameworks -------------------------------------------------------------------------------


class FrameworkOut(Schema):
    code: str
    name: str
    publisher: str
    published_versions: int = Field(description="Nombre de versions publiées.")
    default_version: int | None = Field(
        description="Identifiant de la version sur laquelle un nouveau positionnement est commencé, "
        "si c'est une version de ce référentiel."
    )


class FrameworkPage(PageMeta):
    items: list[FrameworkOut]


class VersionOut(Schema):
    id: int
    framework: str = Field(description="Code du référentiel.")
    code: str
    title: str
    source: str
    source_date: date | None
    published_at: datetime | None


class VersionPage(PageMeta):
    items: list[VersionOut]


class OptionOut(Schema):
    code: str
    label: str
    value: int | None = Field(description="Valeur comptée dans les moyennes ; null : hors moyenne (« Non concerné·e »).")
    partnership: bool


class DimensionOut(Schema):
    role: Literal["level", "wish", "carrying"]
    code: str
    label: str
    help_text: str
    options: list[OptionOut]


class PracticeOut(Schema):
    code: str
    label: str


class SituationOut(Schema):
    code: str
    label: str
    description: str
    practices: list[PracticeOut]


class AxisOut(Schema):
    code: str
    label: str
    description: str
    situations: list[SituationOut]


class VersionDetailOut(VersionOut):
    framework_name: str
    dimensions: list[DimensionOut]
    axes: list[AxisOut]


# --- Positionings -----------------------------------------------------------------------------


class VersionRef(Schema):
    id: int
    framework: str
    code: str


class PositioningOut(Schema):
    id: UUID
    version: VersionRef
    status: Literal["draft", "submitted"]
    started_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    answers_until: datetime | None = Field(description="Date au-delà de laquelle les réponses ne sont plus acceptées.")
    answered: int = Field(description="Nombre de pratiques dont le niveau est renseigné.")


class PositioningPage(PageMeta):
    items: list[PositioningOut]


class AnswerOut(Schema):
    practice: str = Field(description="Code de la pratique, par exemple « 1.1 ».")
    level: str | None = Field(description="Code de l'option choisie pour le niveau de pratique.")
    wish: str | None = Field(description="Code de l'option choisie pour le souhait de développement.")
    carrying: str | None = Field(description="Code de l'option choisie pour le portage.")
    comment: str


class PositioningDetailOut(PositioningOut):
    practices: int = Field(description="Nombre de pratiques de la grille.")
    answers: list[AnswerOut] = Field(description="Toutes les pratiques de la grille, dans son ordre ; null : pas de réponse.")


class AnswerIn(BaseModel):
    """La réponse entière à une pratique : un champ absent ou vide efface cette partie de la réponse."""

    # A plain pydantic model, strict about its shape: a misspelt key or a body that is not an
    # object must be refused, not read as an empty answer that would clear the saved one.
    model_config = ConfigDict(extra="forbid")

    level: str | None = Field(None, max_length=100, description="Code d'une option du niveau de pratique.")
    wish: str | None = Field(None, max_length=100, description="Code d'une option du souhait de développement.")
    carrying: str | None = Field(None, max_length=100, description="Code d'une option du portage.")
    comment: str | None = Field(None, description="Commentaire libre, 2000 caractères au plus.")


class AnswerSavedOut(AnswerOut):
    answered: int = Field(description="Nombre de pratiques dont le niveau est renseigné, après l'enregistrement.")


# The profile is the positioning's JSON export (« grille-positionnement/1 »), the same document
# as the download on the profile page, so its keys are the export's French ones.


class ExportFramework(Schema):
    nom: str
    version: str
    titre: str


class ExportPositioning(Schema):
    id: str
    statut: str
    commence_le: str
    envoye_le: str | None


class ExportAnswer(BaseModel):
    # Besides these keys, one per dimension of the grid, named by its code (e.g. « niveau »),
    # with {code, libelle, valeur} or null: kept as they are (a ninja Schema would drop them).
    model_config = ConfigDict(extra="allow")

    pratique: str
    libelle: str
    situation: str
    commentaire: str


class ExportGroup(Schema):
    code: str
    libelle: str
    moyenne: float | None
    renseignees: int
    comptees: int
    total: int


class ExportProfile(Schema):
    pratiques_renseignees: int
    pratiques_total: int
    moyenne: float | None
    situations: list[ExportGroup]
    axes: list[ExportGroup]
    forces: list[str]
    a_developper: list[str]
    portage: dict[str, int]
    perimetre_d_actions: str


class ProfileOut(Schema):
    format: str
    referentiel: ExportFramework
    positionnement: ExportPositioning
    reponses: list[ExportAnswer] = Field(
        description="Une entrée par pratique ; chaque dimension de la grille y figure sous son code "
        "(par exemple « niveau ») avec {code, libelle, valeur}, ou null."
    )
    profil: ExportProfile


# --- Organisations ----------------------------------------------------------------------------


class OrganisationRef(Schema):
    id: UUID
    name: str


class LevelCount(Schema):
    level: str = Field(description="Code de l'option du niveau de pratique.")
    count: int


class TeamPracticeOut(Schema):
    practice: str
    label: str
    situation: str
    answered: int = Field(description="Contributions avec un niveau (« Non concerné·e » compris).")
    scored: int = Field(description="Contributions avec une valeur (sans « Non concerné·e ») : le dénominateur de la moyenne et de regular.")
    mean: float | None
    spread: float | None = Field(description="Écart-type des niveaux (variance d'échantillon), à partir de deux réponses.")
    regular: int = Field(description="Contributions aux deux niveaux les plus élevés.")
    wish: int = Field(description="Contributions souhaitant développer la pratique.")
    partnership: int = Field(description="Contributions portant la pratique en partenariat.")
    levels: list[LevelCount]
    approximate: bool = Field(
        default=False,
        description="Les chiffres comptent les partages anonymes publiés, légèrement perturbés ; "
        "un effectif anonyme de moins de anonymous_min n'y est pas compté.",
    )


class TeamSituationOut(Schema):
    code: str
    label: str
    mean: float | None = Field(description="Moyenne des scores des membres dans la situation.")
    approximate: bool = Field(default=False, description="La moyenne compte les partages anonymes, perturbés.")


class MemberAnswerOut(Schema):
    practice: str
    level: str | None
    wish: str | None
    carrying: str | None


class TeamMemberOut(Schema):
    name: str
    situations: dict[str, float | None] = Field(description="Moyenne par code de situation.")
    answers: list[MemberAnswerOut]


class TeamOut(Schema):
    organisation: OrganisationRef
    version: VersionRef
    contributions: int = Field(description="Positionnements comptés dans les chiffres de l'équipe.")
    named: int
    anonymous: int = Field(
        description="Partages anonymes comptés (approché : perturbé ; 0 tant que l'ensemble anonyme n'est pas publié)."
    )
    anonymous_pending: int = Field(
        description="Partages anonymes pas encore comptés : l'ensemble anonyme n'est montré qu'à partir de "
        "anonymous_min personnes, change par lots d'au moins 3 nouveaux partages, et n'est plus montré après "
        "un retrait ou un départ jusqu'au lot suivant."
    )
    anonymous_min: int
    approximate: bool = Field(default=False, description="Des chiffres comptent les partages anonymes, perturbés.")
    practices: list[TeamPracticeOut]
    situations: list[TeamSituationOut]
    members: list[TeamMemberOut] = Field(description="Seulement les membres qui partagent avec leur nom.")


# --- Studies ----------------------------------------------------------------------------------


class CellOut(Schema):
    value: int | None = Field(description="Effectif ; null quand il est masqué.")
    suppressed: bool
    approximate: bool = Field(False, description="Effectif perturbé (méthode de la clé de cellule) : à ±2 près.")


class MeanOut(Schema):
    n: int | None
    mean: float | None
    low: float | None = Field(description="Borne basse de l'intervalle de confiance à 95 %.")
    high: float | None = Field(description="Borne haute de l'intervalle de confiance à 95 %.")
    suppressed: bool
    approximate: bool = Field(False, description="Calculée à partir d'effectifs perturbés.")


class CampaignRef(Schema):
    id: UUID
    name: str
    wave_year: int
    synthetic: bool = Field(description="Données fictives, générées pour essayer.")


class SegmentOut(Schema):
    code: str
    label: str
    size: int | None = Field(description="Nombre de répondants (perturbé) ; null quand il est masqué.")
    suppressed: bool
    reason: str = Field("", description="Pourquoi le segment est masqué : too-few, neighbour, remainder.")


class StudyGroupOut(Schema):
    code: str
    label: str
    mean: MeanOut
    segments: dict[str, MeanOut] = Field(description="Moyenne par code de segment de la comparaison.")


class LevelCellOut(CellOut):
    level: str


class StudyPracticeOut(Schema):
    practice: str
    label: str
    levels: list[LevelCellOut]
    total: CellOut
    mean: MeanOut
    wish: CellOut
    partnership: CellOut
    segments: dict[str, MeanOut]


class StudyResultsOut(Schema):
    campaign: CampaignRef
    threshold: int = Field(description="Seuil de diffusion k : aucun chiffre sur moins de k répondants.")
    filters: dict[str, str]
    compare: str | None
    respondents: int | None = Field(description="Questionnaires complets retenus ; null quand la population est masquée.")
    population_suppressed: bool
    reason: str = Field("", description="Pourquoi la population est masquée : too-few (moins de k), neighbour (diffère de 1 à k − 1 personnes d'un groupe plus large), withheld (retrait en attente du prochain lot).")
    pending: int = Field(0, description="Questionnaires complets en attente du prochain lot de k.")
    segments: list[SegmentOut]
    situations: list[StudyGroupOut]
    axes: list[StudyGroupOut]
    practices: list[StudyPracticeOut]
