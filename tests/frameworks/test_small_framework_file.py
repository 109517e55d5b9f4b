"""The whole « se situer » journey on the small illustrative framework file: nothing assumes 3 / 8 / 24.

tests/frameworks/data/petite-grille.yaml has 2 axes, 3 situations (2 + 1), 5 practices (2 + 1 + 2),
a level scale from 0 to 4, a wish scale of two options and a carrying scale of three.
"""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from pypdf import PdfReader

from grille.assessments.enums import AssessmentStatus
from tests.factories import assessment_url, start_positioning, step_data, stored_answers

SMALL_FILE = Path(__file__).parent / "data" / "petite-grille.yaml"


def text(response) -> str:
    return html.unescape(response.content.decode())


def squeeze(value: str) -> str:
    return re.sub(r"\s+", "", value)


@pytest.fixture
def small_version(db):
    out = io.StringIO()
    call_command("load_framework", str(SMALL_FILE), stdout=out)
    assert out.getvalue() == "Petite grille illustrative — 2025 : chargée.\n"


def test_questionnaire_profile_and_pdf_follow_the_small_framework(client, small_version):
    positioning = start_positioning(client)

    first = client.get(assessment_url("step", positioning, 1))
    saved = client.post(
        assessment_url("step", positioning, 1),
        step_data(
            ["P.1", "P.2"], go="2",
            pP_1={"frequence": "toujours", "envie": "oui", "qui": "collectif"},
            pP_2={"frequence": "sans-objet"},
        ),
    )
    second = client.get(assessment_url("step", positioning, 2))
    autosaved = client.post(assessment_url("autosave", positioning, "Q.1"), {"Q.1-frequence": "parfois", "Q.1-qui": "moi"})
    refused = client.post(assessment_url("autosave", positioning, "R.1"), {"R.1-frequence": "3"})
    client.post(assessment_url("autosave", positioning, "R.2"), {"R.2-frequence": "souvent", "R.2-envie": "oui"})
    last = client.get(assessment_url("step", positioning, 3))
    beyond = client.get(assessment_url("step", positioning, 4))
    recap = client.get(assessment_url("recap", positioning))
    submitted = client.post(assessment_url("submit", positioning))
    profile = client.get(assessment_url("profile", positioning))
    pdf = client.get(assessment_url("profile_pdf", positioning))

    assert first.status_code == 200
    assert "Étape 1 sur 3" in text(first)
    assert 'P. Comprendre le territoire <span class="situation-desc">(Données, acteurs, besoins)</span>' in text(first)
    assert '<progress id="progress" max="5" value="0">' in text(first)
    assert [label in text(first) for label in ("Jamais", "Toujours", "Sans objet", "Un collectif d'acteurs")] == [True] * 4
    assert saved.status_code == 302 and saved.url == assessment_url("step", positioning, 2)
    assert ">2 pratiques renseignées sur 5.</p>" in text(second)
    assert autosaved.json() == {"ok": True, "message": "Enregistré", "answered": 3, "total": 5}
    assert refused.status_code == 400
    assert "Étape 3 sur 3" in text(last) and "Vérifier et envoyer" in text(last)
    assert beyond.status_code == 404
    assert "R.1" in text(recap)
    assert stored_answers(positioning) == {
        "P.1": ("toujours", "oui", "collectif", ""),
        "P.2": ("sans-objet", None, None, ""),
        "Q.1": ("parfois", None, "moi", ""),
        "R.2": ("souvent", "oui", None, ""),
    }
    positioning.refresh_from_db()
    assert (submitted.status_code, positioning.status) == (302, AssessmentStatus.SUBMITTED)

    page = text(profile)
    assert profile.status_code == 200
    assert "4 pratiques renseignées sur 5." in page
    # P: only P.1 counts (P.2 « Sans objet »), 4 of 4; Q: 2; R: 3 (R.1 unanswered).
    assert '<th scope="row">P. Comprendre le territoire</th><td class="num">4,0</td><td class="num">1/2</td>' in page
    assert '<th scope="row">Q. Chercher des moyens</th><td class="num">2,0</td><td class="num">1/1</td>' in page
    assert '<th scope="row">R. Animer un collectif</th><td class="num">3,0</td><td class="num">1/2</td>' in page
    assert "Moyenne des niveaux par situation (de 0 à 4)" in page
    assert "sur une échelle de 0 à 4" in page  # the radar's description: three situations, so a radar
    assert "(moyenne 3,0 sur 4)" in page  # axis « Préparer »: P.1 = 4 and Q.1 = 2
    assert "dans 2 situations professionnelles sur 3." in page  # strengths P.1 (4) and R.2 (3)

    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    pdf_text = squeeze("".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages))
    for expected in ("R. Animer un collectif", "P.1 Réunir les données", "4 pratiques renseignées sur 5."):
        assert squeeze(expected) in pdf_text


def test_json_export_of_the_small_framework_names_its_dimensions(client, small_version):
    positioning = start_positioning(client)
    client.post(assessment_url("autosave", positioning, "P.1"), {"P.1-frequence": "jamais", "P.1-envie": "non"})

    data = json.loads(client.get(assessment_url("export_json", positioning)).content)

    assert data["referentiel"] == {"nom": "Petite grille illustrative", "version": "2025", "titre": "Petite grille illustrative des pratiques de coopération"}
    assert [r["pratique"] for r in data["reponses"]] == ["P.1", "P.2", "Q.1", "R.1", "R.2"]
    assert data["reponses"][0]["frequence"] == {"code": "jamais", "libelle": "Jamais", "valeur": 0}
    assert [s["code"] for s in data["profil"]["situations"]] == ["P", "Q", "R"]
