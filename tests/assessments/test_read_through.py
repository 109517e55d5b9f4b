"""A positioning read through a correspondence table, on its own page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from grille.assessments.services import start_assessment, submit_assessment
from grille.frameworks.crosswalks import load_crosswalk_file
from grille.frameworks.services import load_framework_file
from tests.factories import answer, assessment_url, load_small_framework, make_user

SMALL_FILE = Path(__file__).parents[1] / "frameworks" / "data" / "petite-grille.yaml"
# Source: the factory's small grid (A.1 A.2 | B.1 | C.1 C.2, levels 0–2 and « nc »);
# target: petite-grille.yaml (P.1 P.2 | Q.1 | R.1 R.2).
TABLE = "source;cible;poids\nA.1;P.1;1\nA.2;P.1;3\nB.1;Q.1;\nB.1;R.1;0,5\nC.1;R.1;0.5\nC.2;;\n"


def squeeze(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def setup(db, tmp_path):
    source = load_small_framework()
    target = load_framework_file(path=SMALL_FILE).version
    path = tmp_path / "table.csv"
    path.write_text(TABLE, encoding="utf-8")
    crosswalk = load_crosswalk_file(path=path, source=source, target=target, name="Petite → illustrative")
    owner = make_user()
    assessment, _raw = start_assessment(version=source, owner=owner)
    for code, level in (("A.1", "souvent"), ("A.2", "parfois"), ("B.1", "jamais"), ("C.1", "nc")):
        answer(assessment, code, level=level)
    submit_assessment(assessment=assessment)
    client = Client()
    client.force_login(owner)
    return client, assessment, crosswalk


def test_profile_offers_the_tables_from_its_version(setup):
    client, assessment, crosswalk = setup

    page = client.get(assessment_url("profile", assessment)).content.decode()

    assert "Lire ce profil selon une autre version" in page
    assert assessment_url("read_through", assessment, crosswalk.pk) in page


def test_read_through_page_shows_weighted_means_and_their_sources(setup):
    client, assessment, crosswalk = setup

    response = client.get(assessment_url("read_through", assessment, crosswalk.pk))

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    text = squeeze(response.content.decode())
    # P.1 = (2 × 1 + 1 × 3) / 4 = 1.25; Q.1 = B.1 = 0; R.1 = B.1 only (C.1 is « Non concerné·e »).
    assert re.search(r"P\.1 .*? 1,3 .*?A\.1 .*?: 2 × 1 .*?A\.2 .*?: 1 × 3", text)
    assert re.search(r"R\.1 .*? 0,0 .*?B\.1 .*?: 0 × 0,5 .*?C\.1 .*?: non compté × 0,5", text)
    assert re.search(r"P\.2 .*? — aucune pratique correspondante", text)
    assert "sans équivalent" in text and "C.2" in text
    assert '<svg' in response.content.decode()  # the target has three situations: a radar


def test_read_through_is_private_and_limited_to_tables_from_its_version(setup, tmp_path):
    client, assessment, crosswalk = setup
    stranger = Client()
    stranger.force_login(make_user("autre@exemple.fr"))

    assert stranger.get(assessment_url("read_through", assessment, crosswalk.pk)).status_code == 404
    assert Client().get(assessment_url("read_through", assessment, crosswalk.pk)).status_code == 404
    # The reverse table (target → source) does not read this positioning.
    reverse_path = tmp_path / "reverse.csv"
    reverse_path.write_text("source;cible\nP.1;A.1\n", encoding="utf-8")
    reverse = load_crosswalk_file(path=reverse_path, source=crosswalk.target, target=crosswalk.source, name="Retour")
    assert client.get(assessment_url("read_through", assessment, reverse.pk)).status_code == 404
    assert client.get(assessment_url("read_through", assessment, 999999)).status_code == 404
