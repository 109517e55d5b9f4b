"""What the API reads and writes: the OpenAPI schema is generated from these classes, and each
response is serialised by them, from the domain objects the endpoints return.

An output schema reads a domain object by its attributes (a model, a grid object, a cell of the
disclosure layer): a field named as in the domain needs nothing, a renamed one says where it
reads (`validation_alias`), a computed one has a `resolve_<field>`. Where a part of a response
needs its whole parent (a team map's practices and members, a dashboard's rows with their
segments), the parent's resolver builds that part, typed against its schema.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Literal, Self
from uuid import UUID

from ninja import Field, Schema
from pydantic import AliasPath, BaseModel, ConfigDict, field_validator, model_validator

from grille.assessments.exporters import PositioningExport
from grille.assessments.models import Assessment
from grille.assessments.profile import PracticeScore
from grille.assessments.selectors import get_profile
from grille.disclosure.cells import Cell, MeanCell
from grille.disclosure.policy import ANONYMOUS_MIN
from grille.frameworks import grid as g
from grille.frameworks.models import FrameworkVersion
from grille.frameworks.selectors import get_grid
from grille.organisations.models import Organisation
from grille.organisations.team import TeamMap
from grille.studies.dashboard import Dashboard, Segment

# --- Common -----------------------------------------------------------------------------------


class ErrorOut(Schema):
    detail: str = Field(description="Message en français, à montrer tel quel.")


class PageMeta(Schema):
    count: int = Field(description="Nombre total d'éléments, toutes pages confondues.")
    limit: int
    offset: int


def _code(value: g.Practice | g.Option | str | None) -> str | None:
    """A practice or an option as its code: the API publishes codes."""
    return value.code if isinstance(value, g.Practice | g.Option) else value


# --- Frameworks -------------------------------------------------------------------------------


class FrameworkOut(Schema):
    # Reads a Framework annotated with its published_versions and default_version.
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


class VersionRef(Schema):
    id: int
    framework: str = Field(validation_alias=AliasPath("framework", "code"))
    code: str


class VersionOut(VersionRef):
    framework: str = Field(validation_alias=AliasPath("framework", "code"), description="Code du référentiel.")
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
    # Reads a published FrameworkVersion, whose grid is cached.
    framework_name: str = Field(validation_alias=AliasPath("framework", "name"))
    dimensions: list[DimensionOut]
    axes: list[AxisOut]

    @staticmethod
    def resolve_dimensions(version: FrameworkVersion) -> list[g.Dimension]:
        dimensions = get_grid(version).dimensions
        return [dimensions[role] for role in ("level", "wish", "carrying") if role in dimensions]

    @staticmethod
    def resolve_axes(version: FrameworkVersion) -> tuple[g.Axis, ...]:
        return get_grid(version).axes


# --- Positionings -----------------------------------------------------------------------------


class PositioningOut(Schema):
    # Reads an Assessment annotated with `answered`.
    id: UUID = Field(validation_alias="uuid")
    version: VersionRef
    status: Literal["draft", "submitted"]
    started_at: datetime = Field(validation_alias="created_at")
    updated_at: datetime
    submitted_at: datetime | None
    answers_until: datetime | None = Field(description="Date au-delà de laquelle les réponses ne sont plus acceptées.")
    answered: int = Field(description="Nombre de pratiques dont le niveau est renseigné.")


class PositioningPage(PageMeta):
    items: list[PositioningOut]


class AnswerOut(Schema):
    # Reads a PracticeScore of the profile.
    practice: str = Field(description="Code de la pratique, par exemple « 1.1 ».")
    level: str | None = Field(description="Code de l'option choisie pour le niveau de pratique.")
    wish: str | None = Field(description="Code de l'option choisie pour le souhait de développement.")
    carrying: str | None = Field(description="Code de l'option choisie pour le portage.")
    comment: str

    @field_validator("practice", "level", "wish", "carrying", mode="before")
    @classmethod
    def _codes(cls, value: g.Practice | g.Option | str | None) -> str | None:
        return _code(value)


class PositioningDetailOut(PositioningOut):
    practices: int = Field(description="Nombre de pratiques de la grille.")
    answers: list[AnswerOut] = Field(description="Toutes les pratiques de la grille, dans son ordre ; null : pas de réponse.")

    @staticmethod
    def resolve_practices(assessment: Assessment) -> int:
        return len(get_grid(assessment.version_id).practices)

    @staticmethod
    def resolve_answers(assessment: Assessment) -> tuple[PracticeScore, ...]:
        return get_profile(assessment).practices


class AnswerIn(BaseModel):
    """La réponse entière à une pratique : un champ absent ou vide efface cette partie de la réponse."""

    # A plain pydantic model, strict about its shape: a misspelt key or a body that is not an
    # object must be refused, not read as an empty answer that would clear the saved one.
    model_config = ConfigDict(extra="forbid")

    level: str | None = Field(None, max_length=100, description="Code d'une option du niveau de pratique.")
    wish: str | None = Field(None, max_length=100, description="Code d'une option du souhait de développement.")
    carrying: str | None = Field(None, max_length=100, description="Code d'une option du portage.")
    comment: str | None = Field(None, description="Commentaire libre, 2000 caractères au plus.")
    edited_at: int | None = Field(
        None, ge=0, le=10**15,
        description=(
            "Quand la modification a été faite, en millisecondes depuis le 1er janvier 1970 (UTC), "
            "comme l'enregistrement automatique du questionnaire ; sans elle, l'heure du serveur. "
            "Une réponse enregistrée par une modification plus récente est conservée (409)."
        ),
    )


class AnswerSavedOut(AnswerOut):
    answered: int = Field(description="Nombre de pratiques dont le niveau est renseigné, après l'enregistrement.")


class ProfileOut(PositioningExport):
    # The positioning's JSON export (« grille-positionnement/1 »), the same document as the
    # download on the profile page, under its name in the API.
    pass


# --- Organisations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Team:
    """What the team endpoint publishes: a structure and its team map."""

    organisation: Organisation
    map: TeamMap


class OrganisationRef(Schema):
    id: UUID = Field(validation_alias="uuid")
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
    # Reads a Team. Practices, situations and members need the whole map (its grid, its matrix).
    organisation: OrganisationRef
    version: VersionRef = Field(validation_alias=AliasPath("organisation", "version"))
    contributions: int = Field(
        validation_alias=AliasPath("map", "contribution_count"),
        description="Positionnements comptés dans les chiffres de l'équipe.",
    )
    named: int = Field(validation_alias=AliasPath("map", "named_count"))
    anonymous: int = Field(
        validation_alias=AliasPath("map", "anonymous_count"),
        description="Partages anonymes comptés (approché : perturbé ; 0 tant que l'ensemble anonyme n'est pas publié).",
    )
    anonymous_pending: int = Field(
        validation_alias=AliasPath("map", "anonymous_pending"),
        description="Partages anonymes pas encore comptés : l'ensemble anonyme n'est montré qu'à partir de "
        "anonymous_min personnes, change par lots d'au moins 3 nouveaux partages, et n'est plus montré après "
        "un retrait ou un départ jusqu'au lot suivant.",
    )
    anonymous_min: int
    approximate: bool = Field(
        default=False,
        validation_alias=AliasPath("map", "approximate"),
        description="Des chiffres comptent les partages anonymes, perturbés.",
    )
    practices: list[TeamPracticeOut]
    situations: list[TeamSituationOut]
    members: list[TeamMemberOut] = Field(description="Seulement les membres qui partagent avec leur nom.")

    @staticmethod
    def resolve_anonymous_min(team: Team) -> int:
        return ANONYMOUS_MIN

    @staticmethod
    def resolve_practices(team: Team) -> list[TeamPracticeOut]:
        return [
            TeamPracticeOut(
                practice=stats.practice.code, label=stats.practice.label, situation=stats.practice.situation_code,
                answered=stats.answered, scored=stats.scored, mean=stats.mean, spread=stats.spread,
                regular=stats.regular, wish=stats.wish, partnership=stats.partnership,
                levels=[LevelCount(level=option.code, count=n) for option, n in team.map.distribution(stats)],
                approximate=stats.approximate,
            )
            for stats in team.map.practices
        ]

    @staticmethod
    def resolve_situations(team: Team) -> list[TeamSituationOut]:
        return [
            TeamSituationOut(
                code=s.code, label=s.label, mean=team.map.situation_means.get(s.code), approximate=team.map.approximate,
            )
            for s in team.map.grid.situations
        ]

    @staticmethod
    def resolve_members(team: Team) -> list[TeamMemberOut]:
        grid, matrix = team.map.grid, team.map.matrix
        return [
            TeamMemberOut(
                name=contributor.name,
                situations={
                    s.code: team.map.member_situation_means.get(contributor.assessment_id, {}).get(s.code)
                    for s in grid.situations
                },
                answers=[
                    MemberAnswerOut(
                        practice=practice.code, level=_code(cell.get("level")), wish=_code(cell.get("wish")),
                        carrying=_code(cell.get("carrying")),
                    )
                    for practice in grid.practices
                    for cell in [matrix.get((contributor.assessment_id, practice.id), {})]
                ],
            )
            for contributor in team.map.contributors
        ]


# --- Studies ----------------------------------------------------------------------------------


class CellOut(Schema):
    # Reads a Cell of the disclosure layer, whose value is None when it is suppressed.
    value: int | None = Field(description="Effectif ; null quand il est masqué.")
    suppressed: bool
    approximate: bool = Field(False, description="Effectif perturbé (méthode de la clé de cellule) : à ±2 près.")


class MeanOut(Schema):
    # Reads a MeanCell of the disclosure layer.
    n: int | None
    mean: float | None
    low: float | None = Field(description="Borne basse de l'intervalle de confiance à 95 %.")
    high: float | None = Field(description="Borne haute de l'intervalle de confiance à 95 %.")
    suppressed: bool
    approximate: bool = Field(False, description="Calculée à partir d'effectifs perturbés.")

    @model_validator(mode="after")
    def _nothing_when_suppressed(self) -> Self:
        # A hidden mean publishes none of its figures, whatever the cell was given.
        if self.suppressed:
            self.n = self.mean = self.low = self.high = None
            self.approximate = False
        return self


class CampaignRef(Schema):
    id: UUID = Field(validation_alias="uuid")
    name: str
    wave_year: int
    synthetic: bool = Field(description="Données fictives, générées pour essayer.")


class SegmentOut(Schema):
    # Reads a Segment of the dashboard.
    code: str
    label: str
    size: int | None = Field(description="Nombre de répondants (perturbé) ; null quand il est masqué.")
    suppressed: bool
    reason: str = Field("", description="Pourquoi le segment est masqué : too-few, neighbour, remainder.")

    @staticmethod
    def resolve_size(segment: Segment) -> int | None:
        return None if segment.suppressed else segment.size


class StudyGroupOut(Schema):
    code: str
    label: str
    mean: MeanOut
    segments: dict[str, MeanOut] = Field(description="Moyenne par code de segment de la comparaison.")


class LevelCellOut(CellOut):
    level: str

    @classmethod
    def of(cls, option: g.Option, cell: Cell) -> Self:
        return cls.model_validate({**asdict(cell), "level": option.code})


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
    # Reads a Dashboard. Its figures are already protected (perturbed, suppressed); the schema
    # publishes no more of them than the page.
    campaign: CampaignRef
    threshold: int = Field(validation_alias="k", description="Seuil de diffusion k : aucun chiffre sur moins de k répondants.")
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

    @staticmethod
    def resolve_compare(board: Dashboard) -> str | None:
        return board.compare.code if board.compare else None

    @staticmethod
    def resolve_respondents(board: Dashboard) -> int | None:
        return None if board.population_suppressed else board.respondents

    @staticmethod
    def resolve_situations(board: Dashboard) -> list[StudyGroupOut]:
        return [
            StudyGroupOut(
                code=situation.code, label=situation.label, mean=MeanOut.model_validate(cell),
                segments=_segment_means(board, board.segment_situations, situation.code),
            )
            for situation, cell in board.situations
        ]

    @staticmethod
    def resolve_axes(board: Dashboard) -> list[StudyGroupOut]:
        return [
            StudyGroupOut(code=axis.code, label=axis.label, mean=MeanOut.model_validate(cell), segments={})
            for axis, cell in board.axes
        ]

    @staticmethod
    def resolve_practices(board: Dashboard) -> list[StudyPracticeOut]:
        return [
            StudyPracticeOut(
                practice=row.practice.code,
                label=row.practice.label,
                levels=[LevelCellOut.of(option, cell) for option, cell in row.levels],
                total=CellOut.model_validate(row.answered),
                mean=MeanOut.model_validate(row.mean),
                wish=CellOut.model_validate(row.wish),
                partnership=CellOut.model_validate(row.partnership),
                segments=_segment_means(board, board.segment_practices, row.practice.code),
            )
            for row in board.practices
        ]


def _segment_means(board: Dashboard, cells_by_segment: dict[str, dict[str, MeanCell]], code: str) -> dict[str, MeanOut]:
    # As on the page: a hidden segment, or one with no figure for this row, shows « s ».
    hidden = MeanCell.hidden()
    return {
        segment.code: MeanOut.model_validate(hidden if segment.suppressed else cells_by_segment.get(segment.code, {}).get(code, hidden))
        for segment in board.segments
    }
