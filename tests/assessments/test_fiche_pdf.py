"""The PDF fiche: page one alone says who the person is and shows the radar, the périmètre
d'actions, the strengths and the practices to develop; the details follow as an annex that never
ends on a lonely row; the document is tagged, with its language, title and author."""

from __future__ import annotations

import io
import re

import pytest
from django.test import Client
from pypdf import PdfReader

from grille.accounts.models import User
from grille.assessments import services
from grille.assessments.fiche import further_reading, group_by_option, person_card
from grille.assessments.models import Assessment
from grille.assessments.selectors import get_profile
from grille.frameworks.resources import resources_by_practice
from tests.factories import answer, assessment_url, start_positioning

NAME = "Camille Dupont-Lefèvre"
JOB = "Chargée de mission ingénierie territoriale"
STRUCTURE = "Communauté de communes du Pays de Fayence 🌿"
LEVELS = ["3", "2", "1", "0", "nc", "3"]
WISHES = ["priorite", "oui", "non"]
CARRYING = ["interne", "partenariat", "les-deux", "a-definir"]


def squeeze(value: str) -> str:
    # PDF text extraction breaks lines anywhere, even inside words.
    return re.sub(r"\s+", "", value)


@pytest.fixture
def camille(db) -> User:
    return User.objects.create_user("camille@exemple.fr", display_name=NAME, job_title=JOB, affiliation=STRUCTURE)


@pytest.fixture
def signed_in(client: Client, camille: User) -> Client:
    client.force_login(camille)
    return client


def fill(assessment: Assessment, grid, *, levels=LEVELS, wishes=WISHES, comment: str = "") -> None:
    for i, practice in enumerate(grid.practices):
        answer(
            assessment, practice.code, level=levels[i % len(levels)], wish=wishes[i % len(wishes)],
            carrying=CARRYING[i % len(CARRYING)], comment=comment,
        )


def fiche(client: Client, assessment: Assessment, **headers: str) -> PdfReader:
    response = client.get(assessment_url("profile_pdf", assessment), **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    return PdfReader(io.BytesIO(response.content))


def page_texts(reader: PdfReader) -> list[str]:
    return [squeeze(page.extract_text()) for page in reader.pages]


def rows_on(text: str, grid) -> int:
    """How many practices of the detail table a page's text holds (a row: « 1.1 Financer les projets »)."""
    return sum(1 for p in grid.practices if squeeze(f"{p.code} {p.label}") in text)


def figures_by_page(reader: PdfReader) -> list[tuple[int, str]]:
    """(page number, alternative text) of every Figure in the structure tree."""
    pages = {page.indirect_reference.idnum: n for n, page in enumerate(reader.pages, start=1)}
    found: list[tuple[int, str]] = []

    def walk(node: object) -> None:
        node = node.get_object() if hasattr(node, "get_object") else node
        if not isinstance(node, dict) or "/S" not in node:
            return
        if node["/S"] == "/Figure":
            found.append((pages[node.raw_get("/Pg").idnum], str(node.get("/Alt", ""))))
        kids = node.get("/K", [])
        for kid in kids if isinstance(kids, list) else [kids]:
            walk(kid)

    for kid in reader.trailer["/Root"]["/StructTreeRoot"]["/K"]:
        walk(kid)
    return found


# --- Page one ----------------------------------------------------------------------------------


def test_page_one_alone_says_who_and_shows_the_essentials(signed_in, grid):
    positioning = start_positioning(signed_in)
    fill(positioning, grid)
    services.submit_assessment(assessment=positioning)
    profile = get_profile(positioning)

    reader = fiche(signed_in, positioning)

    first = page_texts(reader)[0]
    for expected in (NAME, JOB, STRUCTURE, "Profil par situation professionnelle", "Mon périmètre d'actions",
                     *profile.scope_text, "Mes points forts", "Pratiques à développer"):
        assert squeeze(expected) in first, expected
    assert profile.strengths and profile.to_develop
    for score in (*profile.strengths, *profile.to_develop):
        assert squeeze(f"{score.practice.code} {score.practice.label}") in first, score.practice.code
    assert (1, "Profil par situation professionnelle") in figures_by_page(reader)  # the radar, named
    assert squeeze("Détail de mes réponses") not in first
    assert rows_on(first, grid) < len(grid.practices)  # the detail table is not on page one


def test_every_practice_strong_and_to_develop_still_fits_on_page_one(signed_in, grid):
    positioning = start_positioning(signed_in)
    fill(positioning, grid, levels=["3"], wishes=["priorite"])

    first = page_texts(fiche(signed_in, positioning))[0]

    for practice in grid.practices:
        assert first.count(squeeze(f"{practice.code} {practice.label}")) == 2, practice.code  # both lists
    assert squeeze("Détail de mes réponses") not in first


def test_a_positioning_without_an_account_is_a_fiche_without_a_name(client, grid):
    positioning = start_positioning(client)
    answer(positioning, "1.1", level="3", wish="oui")

    reader = fiche(client, positioning)

    first = page_texts(reader)[0]
    assert reader.metadata.title == "Fiche de positionnement"
    assert "/Author" not in reader.metadata
    assert squeeze("Fiche de positionnement") in first  # the title (the line above it is in capitals)
    assert squeeze("Aperçu d'un positionnement en cours") in first


# --- Annex -------------------------------------------------------------------------------------


def test_a_full_positioning_takes_three_pages_at_most(signed_in, grid):
    positioning = start_positioning(signed_in)
    fill(positioning, grid)
    for practice in grid.practices[::2]:  # a comment on every other practice
        answer(positioning, practice.code, level="2", wish="oui", comment="Un commentaire de deux lignes environ, pour dire ce que recouvre la pratique.")
    services.submit_assessment(assessment=positioning)

    texts = page_texts(fiche(signed_in, positioning))

    assert len(texts) <= 3
    assert sum(rows_on(text, grid) for text in texts[1:]) >= len(grid.practices)  # every row, in the annex


@pytest.mark.parametrize("comment_length", [0, 90, 200, 320, 450, 700, 1000])
def test_the_annex_never_ends_on_a_lonely_row(signed_in, grid, comment_length):
    # No practice to develop: the annex ends with the detail table. Comments of growing length
    # move the page breaks through every part of the table.
    positioning = start_positioning(signed_in)
    comment = ("Pratique exercée avec les partenaires du territoire, " * 20)[:comment_length]
    fill(positioning, grid, wishes=["non"], comment=comment)

    texts = page_texts(fiche(signed_in, positioning))

    assert len(texts) >= 2
    assert rows_on(texts[-1], grid) >= 2, (comment_length, len(texts))
    assert squeeze(grid.practices[-1].label) in texts[-1]


def test_each_reading_suggestion_is_printed_once_with_the_practices_it_serves(signed_in, grid):
    positioning = start_positioning(signed_in)
    for practice in grid.practices:
        answer(positioning, practice.code, level="0", wish="oui")
    by_practice = resources_by_practice(grid)
    resources = {r for rs in by_practice.values() for r in rs}

    reader = fiche(signed_in, positioning)

    text = squeeze("".join(page_texts(reader)))
    assert len(resources) >= 5
    assert text.count(squeeze("Pour aller plus loin")) == 1
    assert text.count(squeeze("Pour la pratique")) + text.count(squeeze("Pour les pratiques")) == len(resources)
    for resource in resources:
        codes = [p.code for p in grid.practices if resource in by_practice[p.code]]
        label = "Pour la pratique" if len(codes) == 1 else "Pour les pratiques"
        assert squeeze(f"{resource.title} — {resource.publisher}" if resource.publisher else resource.title) in text
        assert squeeze(f"{label} {', '.join(codes)}") in text, resource.title
    links = {a.get_object()["/A"]["/URI"] for page in reader.pages for a in page.get("/Annots", [])}
    assert links == {r.url for r in resources if r.url}
    for url in links:
        assert url in text  # printed too: paper cannot be clicked


# --- Tagging -----------------------------------------------------------------------------------


def test_the_fiche_is_tagged_with_its_language_title_and_author(signed_in, grid):
    positioning = start_positioning(signed_in)
    answer(positioning, "1.1", level="2")

    reader = fiche(signed_in, positioning)

    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == "fr"
    assert reader.metadata.title == f"Fiche de positionnement — {NAME}"
    assert reader.metadata.author == NAME
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])


def test_the_fiche_follows_the_readers_language(signed_in, grid):
    positioning = start_positioning(signed_in)

    reader = fiche(signed_in, positioning, HTTP_ACCEPT_LANGUAGE="en")

    assert reader.trailer["/Root"]["/Lang"] == "en"


# --- The parts of the fiche, as pure functions -------------------------------------------------


def test_the_lists_of_page_one_are_grouped_by_option_in_order(grid):
    from grille.assessments.profile import AnswerData, compute_profile

    level = {o.code: o.id for o in grid.level.options}
    wish = {o.code: o.id for o in grid.wish.options}
    profile = compute_profile(grid, {
        "1.1": AnswerData(level["2"], wish["oui"]), "1.2": AnswerData(level["3"], wish["priorite"]),
        "2.1": AnswerData(level["3"], wish["non"]), "3.1": AnswerData(level["1"], wish["oui"]),
    })

    strengths = [(g.option.code, [s.practice.code for s in g.scores]) for g in group_by_option(profile.strengths, "level")]
    develop = [(g.option.code, [s.practice.code for s in g.scores]) for g in group_by_option(profile.to_develop, "wish")]
    assert strengths == [("3", ["1.2", "2.1"]), ("2", ["1.1"])]
    assert develop == [("priorite", ["1.2"]), ("oui", ["1.1", "3.1"])]


def test_a_resource_shared_by_several_practices_is_suggested_once(grid):
    from grille.assessments.profile import AnswerData, compute_profile

    wish = {o.code: o.id for o in grid.wish.options}
    profile = compute_profile(grid, {code: AnswerData(wish_id=wish["oui"]) for code in ("5.2", "7.1", "7.2")})
    shared, alone = object(), object()
    resources = {"5.2": [shared], "7.1": [shared, alone], "7.2": []}

    items = further_reading(profile, resources)  # type: ignore[arg-type]

    assert [(i.resource, i.practice_codes) for i in items] == [(shared, ("5.2", "7.1")), (alone, ("7.1",))]


def test_the_person_card_is_empty_without_an_account(camille):
    assert not person_card(None)
    assert person_card(camille) == person_card(camille)
    assert (person_card(camille).name, person_card(camille).affiliation) == (NAME, STRUCTURE)
