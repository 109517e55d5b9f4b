"""The JSON export of a positioning: the person's answers and their profile."""

from __future__ import annotations

from typing import Any

from grille.frameworks import grid as g

from .models import Assessment
from .profile import Profile


def _option(option: g.Option | None) -> dict[str, Any] | None:
    if option is None:
        return None
    return {"code": option.code, "libelle": option.label, "valeur": option.value}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def assessment_to_dict(assessment: Assessment, profile: Profile) -> dict[str, Any]:
    grid = profile.grid
    return {
        "format": "grille-positionnement/1",
        "referentiel": {"nom": grid.framework_name, "version": grid.version_code, "titre": grid.title},
        "positionnement": {
            "id": str(assessment.uuid),
            "statut": assessment.status,
            "commence_le": assessment.created_at.isoformat(),
            "envoye_le": assessment.submitted_at.isoformat() if assessment.submitted_at else None,
        },
        "reponses": [
            {
                "pratique": s.practice.code,
                "libelle": s.practice.label,
                "situation": s.practice.situation_code,
                grid.level.code: _option(s.level),
                grid.wish.code: _option(s.wish),
                grid.carrying.code: _option(s.carrying),
                "commentaire": s.comment,
            }
            for s in profile.practices
        ],
        "profil": {
            "pratiques_renseignees": profile.answered,
            "pratiques_total": profile.total,
            "moyenne": _round(profile.overall.mean),
            "situations": [
                {"code": s.code, "libelle": s.label, "moyenne": _round(s.mean), "renseignees": s.answered, "comptees": s.scored, "total": s.total}
                for s in profile.situations
            ],
            "axes": [
                {"code": a.code, "libelle": a.label, "moyenne": _round(a.mean), "renseignees": a.answered, "comptees": a.scored, "total": a.total}
                for a in profile.axes
            ],
            "forces": [s.practice.code for s in profile.strengths],
            "a_developper": [s.practice.code for s in profile.to_develop],
            "portage": {o.code: n for o, n in profile.carrying_summary},
            "perimetre_d_actions": " ".join(profile.scope_text),
        },
    }
