"""Issue 15, part 6: counts on the study pages agree with their number (1 is singular)."""

from __future__ import annotations

import html

from django.test import Client
from django.urls import reverse

from grille.studies import services

from .conftest import make_respondent


def page(user, name: str, campaign) -> str:
    client = Client()
    client.force_login(user)
    return html.unescape(client.get(reverse(f"studies:{name}", args=[campaign.uuid])).content.decode())


def test_one_response_is_counted_in_the_singular(campaign, analyst):
    make_respondent(campaign, profile={"structure": ["association"], "territoire": ["rural"]}, levels={"1.1": "2"})
    services.import_invitees(campaign=campaign, raw=b"une@exemple.fr\n")

    tracking = page(analyst, "tracking", campaign)
    home = page(analyst, "home", campaign)
    invitees = page(analyst, "invitees", campaign)

    assert "1 questionnaire complet, 1 commencé," in tracking
    assert "questionnaires complets" not in tracking
    assert "questionnaire complet, sur 1 commencé</p>" in home
    assert "1 personne · 1 pas encore invitée ·" in invitees


def test_two_responses_are_counted_in_the_plural(campaign, analyst):
    for _ in range(2):
        make_respondent(campaign, profile={"structure": ["association"], "territoire": ["rural"]}, levels={"1.1": "2"})
    services.import_invitees(campaign=campaign, raw=b"une@exemple.fr\ndeux@exemple.fr\n")

    assert "2 questionnaires complets, 2 commencés," in page(analyst, "tracking", campaign)
    assert "questionnaires complets, sur 2 commencés</p>" in page(analyst, "home", campaign)
    assert "2 personnes · 2 pas encore invitées ·" in page(analyst, "invitees", campaign)
