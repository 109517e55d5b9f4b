"""Every PDF is tagged for assistive technologies (PDF/UA-1) with its language and title; emoji
print in colour and no character prints as an empty box; the organisation report's columns are
wide enough for every word they hold."""

from __future__ import annotations

import io
import logging
import re

import pytest
from django.test import RequestFactory
from django.utils import timezone, translation
from pypdf import PdfReader

from grille.core.pdf import MISSING_GLYPH, _write_pdf, render_pdf_bytes
from grille.organisations.enums import DecisionMode, PartnerType
from grille.organisations.models import Membership
from grille.organisations.reports import report_context
from grille.organisations.selectors import actions_of, decisions_of
from grille.organisations.services import create_action, create_organisation, set_decision
from grille.organisations.team import build_team_map
from tests.organisations.test_exports import join, person, share

EMOJI_NAME = "Les Colibris du Val 🌿🐝"
TANGUT = "\U00017000"  # a character no font installed here (nor on most machines) can draw
LONG_NAME = "Marie-Amélie Delacroix-Beauregard"
PARTNERS = "Communauté d'agglomération, intercommunalités voisines, établissements d'enseignement supérieur"
NOTE = "Contractualisation interdépartementale envisagée avec l'observatoire régional des coopérations"
ACTION = "Organiser l'atelier de co-construction intercommunautaire avec les partenaires"


def facilitator_of(name: str) -> Membership:
    user = person("alice@exemple.fr", LONG_NAME)
    organisation = create_organisation(user=user, name=name, structure_type="epci", territory="Val d'Essai")
    return Membership.objects.select_related("organisation", "user").get(organisation=organisation, user=user)


def report_pdf(facilitator: Membership) -> bytes:
    context = report_context(
        facilitator.organisation, build_team_map(facilitator.organisation), decisions_of(facilitator),
        list(actions_of(facilitator)),
    )
    return render_pdf_bytes(RequestFactory().get("/"), "organisations/report_pdf.html", context)


@pytest.fixture
def busy_organisation(version) -> Membership:
    """An organisation whose decisions and plan fill every column with long words."""
    facilitator = facilitator_of(EMOJI_NAME)
    share(facilitator, {"1.1": "3", "1.2": "2", "2.1": "0"}, wish="oui", carrying="interne")
    member = join(facilitator, person("bob@exemple.fr", "Jean-Baptiste Vandenberghe-Castelnau"))
    share(member, {"1.1": "1", "1.2": "nc", "2.1": "0"}, wish="priorite", carrying="partenariat")
    set_decision(
        membership=facilitator, practice_code="1.1", mode=DecisionMode.PARTNERSHIP,
        partner_types=list(PartnerType.values), partners=PARTNERS, note=NOTE,
    )
    set_decision(membership=facilitator, practice_code="2.1", mode=DecisionMode.NOT_PRIORITY, partner_types=[])
    set_decision(membership=facilitator, practice_code="5.2", mode=DecisionMode.BOTH, partner_types=["academique"])
    create_action(
        membership=facilitator, title=ACTION, practice_codes=["1.1", "1.2", "2.1", "3.3", "4.2", "5.1"],
        owner_id=member.pk, due_date=timezone.localdate() - timezone.timedelta(days=3),
    )
    return facilitator


def catalog(content: bytes) -> dict:
    return PdfReader(io.BytesIO(content)).trailer["/Root"]


def line_pieces(content: bytes) -> list[str]:
    """The text as WeasyPrint laid it out: one piece per line of each box (a word cut at the end
    of a line shows as two pieces)."""
    pieces: list[str] = []

    def visit(text: str, *_args: object) -> None:
        if text.strip():
            pieces.append(text)

    for page in PdfReader(io.BytesIO(content)).pages:
        page.extract_text(visitor_text=visit)
    return pieces


def font_names(content: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(content)).pages:
        for font in page["/Resources"].get("/Font", {}).values():
            names.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    return names


def empty_boxes(records: list[logging.LogRecord]) -> list[str]:
    return [r.getMessage() for r in records if r.name == "weasyprint" and ".notdef" in str(r.msg)]


# --- Tagging, language, title -----------------------------------------------------------------


def test_the_organisation_report_is_tagged_with_its_language_and_title(busy_organisation):
    content = report_pdf(busy_organisation)

    root = catalog(content)
    reader = PdfReader(io.BytesIO(content))
    assert bool(root["/MarkInfo"]["/Marked"])
    assert root["/StructTreeRoot"]["/K"][0].get_object()["/S"] == "/Document"
    assert root["/Lang"] == "fr"
    assert reader.metadata.title == f"Rapport de la structure — {EMOJI_NAME}"
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    assert b"pdfuaid:part" in root["/Metadata"].get_object().get_data()


def test_a_pdf_takes_the_language_active_when_it_is_made(busy_organisation):
    with translation.override("en"):
        content = report_pdf(busy_organisation)

    assert catalog(content)["/Lang"] == "en"


def structure_tags(content: bytes) -> list[str]:
    tags: list[str] = []

    def walk(element: object) -> None:
        element = element.get_object() if hasattr(element, "get_object") else element
        if isinstance(element, dict) and "/S" in element:
            tags.append(str(element["/S"]))
            kids = element.get("/K", [])
            for kid in kids if isinstance(kids, list) else [kids]:
                walk(kid)

    for kid in catalog(content)["/StructTreeRoot"]["/K"]:
        walk(kid)
    return tags


def test_the_tags_follow_the_headings_lists_and_tables(busy_organisation):
    tags = structure_tags(report_pdf(busy_organisation))

    for tag in ("/H1", "/H2", "/L", "/LI", "/Table", "/TR", "/TH", "/TD", "/Figure"):
        assert tag in tags, tag


# --- Characters -------------------------------------------------------------------------------


def test_emoji_print_with_the_colour_emoji_font_and_no_empty_box(busy_organisation, caplog):
    caplog.set_level(logging.WARNING, logger="weasyprint")

    content = report_pdf(busy_organisation)

    assert "Noto-Color-Emoji" in {name.split("-Bold")[0] for name in font_names(content)}
    assert empty_boxes(caplog.records) == []
    assert EMOJI_NAME in "".join(line_pieces(content))


def test_the_empty_box_detector_sees_a_character_no_font_has():
    html = f'<html lang="fr"><head><title>T</title></head><body><p>A{TANGUT}B 🌿</p></body></html>'

    _pdf, missing = _write_pdf(html)

    assert missing == {ord(TANGUT)}


def test_a_character_no_font_has_prints_as_a_replacement_mark_not_an_empty_box(version, caplog):
    facilitator = facilitator_of(f"Atelier {TANGUT} du Val")
    caplog.set_level(logging.WARNING, logger="weasyprint")

    content = report_pdf(facilitator)

    text = "".join(line_pieces(content))
    assert f"Atelier {MISSING_GLYPH} du Val" in text
    assert TANGUT not in text
    # The first printing reported the box; the second, the one kept, has none.
    assert len({r.getMessage() for r in caplog.records if ".notdef" in str(r.msg)}) == 1
    _pdf, missing = _write_pdf(f'<html lang="fr"><head><title>T</title></head><body>{MISSING_GLYPH}</body></html>')
    assert missing == set()


# --- Organisation report columns --------------------------------------------------------------


def test_no_word_of_the_organisation_report_is_cut_across_two_lines(busy_organisation):
    pieces = line_pieces(report_pdf(busy_organisation))

    words = set()
    for text in (PARTNERS, NOTE, ACTION, LONG_NAME, "Jean-Baptiste Vandenberghe-Castelnau", EMOJI_NAME,
                 *PartnerType.labels, *DecisionMode.labels, "Contributions", "Partenariat", "Réguliers",
                 "Responsable", "Échéance", "Arbitrage", "Partenaires", "Modifié"):
        words.update(re.findall(r"[\w'’]{4,}", str(text)))  # a line may end after a hyphen
    cut = sorted(w for w in words if not any(re.search(rf"(?<![\w'’]){re.escape(w)}(?![\w'’])", p) for p in pieces))
    assert cut == []
