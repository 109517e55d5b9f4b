"""The printable workshop kit: a PDF built from the guided workshop's data, read back with pypdf."""

from __future__ import annotations

import io
import re

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from grille.organisations import guided, services
from grille.organisations.enums import ShareMode
from grille.organisations.team import build_team_map


def pdf_text(content: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), re.sub(r"\s+", " ", text)


def kit(membership, session) -> tuple[int, str]:
    client = Client()
    client.force_login(membership.user)
    response = client.get(reverse("organisations:guided_kit_pdf", args=[membership.organisation.uuid, session.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="kit-atelier-')
    return pdf_text(response.content)


@pytest.fixture
def session(facilitator, member, share):
    share(facilitator, {"1.1": "1", "1.2": "3"})
    share(member, {"1.1": "0", "1.2": "0"})
    services.add_comment(membership=member, practice_code="1.2", body="Nous manquons de temps pour la veille.")
    return guided.start_workshop_session(
        membership=facilitator, team=build_team_map(facilitator.organisation), ordering="debate",
        practice_codes=["1.1", "1.2"], minutes_per_item=7,
    )


def test_kit_holds_agenda_cards_template_guide_and_an_empty_summary(member, session, grid):
    pages, text = kit(member, session)

    first, second = grid.practice("1.2"), grid.practice("1.1")
    assert "Kit d'atelier" in text
    assert "2 pratiques à débattre, environ 14 minutes." in text
    assert text.index("Ordre du jour") < text.index(f"1.2 {first.label}") < text.index(f"1.1 {second.label}")
    assert "FICHE 1 SUR 2" in text.upper() and "FICHE 2 SUR 2" in text.upper()
    assert "Répartition de l'équipe" in text
    assert "Nous manquons de temps pour la veille." in text
    assert "Partages nominatifs : Alice Animatrice" in text
    assert "Fiche d'arbitrage" in text and "☐ En partenariat" in text and "☐ Fondation" in text
    assert "Guide de l'animateur·rice" in text and "flèches gauche et droite" in text
    assert "Rien n'est encore enregistré pour cet atelier." in text
    assert pages >= 5  # agenda, cards, template, guide and summary each start a page


def test_kit_after_the_session_holds_the_team_summary(facilitator, member, session):
    services.set_decision(
        membership=facilitator, practice_code="1.2", mode="partnership", partner_types=["academique"],
        partners="Université du Val", note="Co-encadrer un stage",
    )
    services.create_action(membership=facilitator, title="Écrire à l'université", practice_codes=["1.2"], owner_id=member.pk)
    guided.end_workshop_session(membership=facilitator, session=session)

    _pages, text = kit(member, session)

    summary = text[text.index("Synthèse de l'équipe"):]
    assert "Atelier terminé le" in summary
    assert "En partenariat" in summary and "Acteur académique ou de recherche" in summary
    assert "Université du Val" in summary and "Co-encadrer un stage" in summary
    assert "Écrire à l'université" in summary and "Bruno Membre" in summary
    assert "Rien n'est encore enregistré" not in text


def test_kit_never_shows_anonymous_answers_the_team_map_hides(facilitator, add_member, share, grid):
    share(facilitator, {"1.1": "3"})
    for i in range(4):
        share(add_member(f"anonyme{i}@exemple.fr"), {"1.1": "0"}, mode=ShareMode.ANONYMOUS)
    team = build_team_map(facilitator.organisation)
    session = guided.start_workshop_session(membership=facilitator, team=team, ordering="grid", practice_codes=["1.1"])

    _pages, text = kit(facilitator, session)

    assert "1 positionnement partagé avec la structure." in text
    assert "≈" not in text
    counts = [n for _option, n in team.distribution(team.stats("1.1"))]
    assert sum(counts) == 1
    card = text[text.index("Répartition de l'équipe"):text.index("Commentaires partagés")]
    assert " ".join(str(n) for n in counts) in card


def test_kit_is_404_for_outsiders(outsider, session):
    client = Client()
    client.force_login(outsider.user)

    response = client.get(reverse("organisations:guided_kit_pdf", args=[session.organisation.uuid, session.pk]))

    assert response.status_code == 404
