"""Plain helpers that build test data through the same services and views as production."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import yaml
from django.test import Client
from django.urls import reverse

from grille.accounts.models import User
from grille.assessments import services
from grille.assessments.models import Answer, Assessment
from grille.frameworks.models import FrameworkVersion
from grille.frameworks.services import load_framework_version, validate_framework_data

# A small illustrative framework: 2 axes, 3 situations, 5 practices, a 0–2 scale.
# Nothing in the product may assume the 2024 grid's 3 / 8 / 24.
SMALL_FRAMEWORK: dict[str, Any] = {
    "format": 1,
    "framework": {"code": "petite-grille", "name": "Petite grille d'essai", "publisher": "Équipe Grille"},
    "version": {
        "code": "v1",
        "title": "Petite grille d'essai",
        "source": "Jeu de données de test",
        "source_date": "2025-01-15",
        "status": "published",
    },
    "dimensions": [
        {
            "code": "niveau",
            "role": "level",
            "label": "Niveau",
            "options": [
                {"code": "jamais", "label": "Jamais", "value": 0},
                {"code": "parfois", "label": "Parfois", "value": 1},
                {"code": "souvent", "label": "Souvent", "value": 2},
                {"code": "nc", "label": "Sans objet", "value": None},
            ],
        },
        {
            "code": "envie",
            "role": "wish",
            "label": "Envie de progresser",
            "options": [
                {"code": "non", "label": "Non", "value": 0},
                {"code": "oui", "label": "Oui", "value": 1},
            ],
        },
        {
            "code": "porteur",
            "role": "carrying",
            "label": "Qui porte",
            "options": [
                {"code": "moi", "label": "Moi-même"},
                {"code": "autres", "label": "D'autres"},
            ],
        },
    ],
    "axes": [
        {
            "code": "faire",
            "label": "Faire",
            "situations": [
                {
                    "code": "A",
                    "label": "Préparer",
                    "description": "Avant l'action",
                    "practices": [
                        {"code": "A.1", "label": "Lister les besoins"},
                        {"code": "A.2", "label": "Chiffrer les besoins"},
                    ],
                },
                {
                    "code": "B",
                    "label": "Agir",
                    "practices": [{"code": "B.1", "label": "Conduire l'action"}],
                },
            ],
        },
        {
            "code": "dire",
            "label": "Dire",
            "situations": [
                {
                    "code": "C",
                    "label": "Rendre compte",
                    "practices": [
                        {"code": "C.1", "label": "Écrire le bilan"},
                        {"code": "C.2", "label": "Présenter le bilan"},
                    ],
                },
            ],
        },
    ],
}


def small_framework_data() -> dict[str, Any]:
    """A fresh deep copy of the small framework, safe to modify in a test."""
    return copy.deepcopy(SMALL_FRAMEWORK)


def write_framework_file(path: Path, data: Any) -> Path:
    """Write framework data as YAML, as an editor of the grid would."""
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def load_small_framework() -> FrameworkVersion:
    return load_framework_version(data=validate_framework_data(small_framework_data())).version


def make_user(email: str = "camille@exemple.fr") -> User:
    return User.objects.create_user(email)


def start_positioning(client: Client) -> Assessment:
    """Start a positioning as a visitor does (POST on « Commencer »): the client's session holds it."""
    response = client.post(reverse("assessments:start"))
    assert response.status_code == 302, response.status_code
    return Assessment.objects.get(uuid=response.url.split("/")[-3])


def assessment_url(name: str, assessment: Assessment, *args) -> str:
    return reverse(f"assessments:{name}", args=[assessment.uuid, *args])


def stored_answers(assessment: Assessment) -> dict[str, tuple]:
    """What is saved, by option codes: {practice: (level, wish, carrying, comment)}."""
    rows = Answer.objects.filter(assessment=assessment).values_list(
        "practice__code", "level__code", "wish__code", "carrying__code", "comment"
    )
    return {code: (level, wish, carrying, comment) for code, level, wish, carrying, comment in rows}


def answer(assessment: Assessment, code: str, level: str = "", wish: str = "", carrying: str = "",
           comment: str = "") -> None:
    services.save_answers(
        assessment=assessment,
        items=[services.AnswerInput(practice_code=code, level=level, wish=wish, carrying=carrying, comment=comment)],
    )


def answer_all(assessment: Assessment, codes: list[str], level: str = "2", wish: str = "",
               carrying: str = "") -> None:
    services.save_answers(
        assessment=assessment,
        items=[services.AnswerInput(practice_code=c, level=level, wish=wish, carrying=carrying) for c in codes],
    )


def step_data(practice_codes: list[str], go: str = "", **answers: dict[str, str]) -> dict[str, str]:
    """The POST body of a questionnaire step: blank fields for every practice, then the given ones.

    ``answers`` maps a practice code with dots replaced by underscores (``p1_1``) to its
    fields by dimension code, e.g. ``p1_1={"niveau": "2", "commentaire": "…"}``.
    """
    # A browser leaves unchecked radio buttons out and always sends the textarea.
    data = {f"{code}-commentaire": "" for code in practice_codes}
    for key, fields in answers.items():
        code = key.removeprefix("p").replace("_", ".")
        for field, value in fields.items():
            data[f"{code}-{field}"] = value
    if go:
        data["aller"] = go
    return data


def now_ms() -> int:
    """Now, as autosave.js stamps an edit (ms since the epoch)."""
    return int(time.time() * 1000)


def autosave_post(browser: Client, positioning: Assessment, code: str, *, stamp: int | None = None, **fields: str):
    """One practice saved as autosave.js sends it: the fields by dimension code, an edit stamp."""
    data = {f"{code}-{name}": value for name, value in fields.items()}
    data["edited_at"] = str(stamp if stamp is not None else now_ms())
    return browser.post(assessment_url("autosave", positioning, code), data)


def signed_in_positioning(email: str) -> tuple[Client, User, Assessment]:
    """A browser signed in as a new person, and the positioning it started (theirs)."""
    user = make_user(email)
    browser = Client()
    browser.force_login(user)
    return browser, user, start_positioning(browser)
