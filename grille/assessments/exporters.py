"""The JSON export of a positioning (« grille-positionnement/1 »): the person's answers and their
profile, described once by these models. The profile page's download, the personal-data export
and the API's profile endpoint all publish this one document.

The models carry no docstrings on purpose: the API's OpenAPI schema shows them, and its
descriptions are the `Field` ones.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field

from grille.frameworks import grid as g

from .models import Assessment
from .profile import GroupScore, Profile

FORMAT = "grille-positionnement/1"


class ExportFramework(BaseModel):
    nom: str
    version: str
    titre: str


class ExportPositioning(BaseModel):
    id: str
    statut: str
    commence_le: str
    envoye_le: str | None


class ExportOption(BaseModel):
    code: str
    libelle: str
    valeur: int | None


class ExportAnswer(BaseModel):
    # Besides these keys, one per dimension of the grid, named by its code (e.g. « niveau »),
    # with an ExportOption or null: the codes are the grid's data, not fixed fields.
    model_config = ConfigDict(extra="allow")

    pratique: str
    libelle: str
    situation: str
    commentaire: str


class ExportGroup(BaseModel):
    code: str
    libelle: str
    moyenne: float | None
    renseignees: int
    comptees: int
    total: int


class ExportProfile(BaseModel):
    pratiques_renseignees: int
    pratiques_total: int
    moyenne: float | None
    situations: list[ExportGroup]
    axes: list[ExportGroup]
    forces: list[str]
    a_developper: list[str]
    portage: dict[str, int]
    perimetre_d_actions: str


class PositioningExport(BaseModel):
    format: str
    referentiel: ExportFramework
    positionnement: ExportPositioning
    reponses: list[ExportAnswer] = Field(
        description="Une entrée par pratique ; chaque dimension de la grille y figure sous son code "
        "(par exemple « niveau ») avec {code, libelle, valeur}, ou null."
    )
    profil: ExportProfile

    @classmethod
    def of(cls, assessment: Assessment, profile: Profile) -> Self:
        """The export of one positioning, from its profile."""
        grid = profile.grid
        return cls(
            format=FORMAT,
            referentiel=ExportFramework(nom=grid.framework_name, version=grid.version_code, titre=grid.title),
            positionnement=ExportPositioning(
                id=str(assessment.uuid),
                statut=assessment.status,
                commence_le=assessment.created_at.isoformat(),
                envoye_le=assessment.submitted_at.isoformat() if assessment.submitted_at else None,
            ),
            reponses=[
                ExportAnswer(
                    pratique=s.practice.code,
                    libelle=s.practice.label,
                    situation=s.practice.situation_code,
                    commentaire=s.comment,
                    **{grid.level.code: _option(s.level), grid.wish.code: _option(s.wish), grid.carrying.code: _option(s.carrying)},
                )
                for s in profile.practices
            ],
            profil=ExportProfile(
                pratiques_renseignees=profile.answered,
                pratiques_total=profile.total,
                moyenne=_round(profile.overall.mean),
                situations=[_group(s) for s in profile.situations],
                axes=[_group(a) for a in profile.axes],
                forces=[s.practice.code for s in profile.strengths],
                a_developper=[s.practice.code for s in profile.to_develop],
                portage={o.code: n for o, n in profile.carrying_summary},
                perimetre_d_actions=" ".join(profile.scope_text),
            ),
        )


def _option(option: g.Option | None) -> ExportOption | None:
    return None if option is None else ExportOption(code=option.code, libelle=option.label, valeur=option.value)


def _group(score: GroupScore) -> ExportGroup:
    return ExportGroup(
        code=score.code, libelle=score.label, moyenne=_round(score.mean),
        renseignees=score.answered, comptees=score.scored, total=score.total,
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def assessment_to_dict(assessment: Assessment, profile: Profile) -> dict[str, Any]:
    """The export as JSON-ready data."""
    return PositioningExport.of(assessment, profile).model_dump()
