"""The microdata download log names the lead; only the lead reads the address (issue 14)."""

from __future__ import annotations

import html

from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from grille.accounts.models import User
from grille.studies.models import MicrodataDownload


def page_for(user: User, campaign) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("studies:exports", args=[campaign.uuid]))
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_the_download_log_names_the_lead_and_shows_the_address_to_the_lead_only(campaign, analyst):
    colleague = User.objects.create_user(email="second@exemple.fr")
    colleague.user_permissions.add(Permission.objects.get(codename="run_studies"))
    campaign.analysts.add(colleague)
    MicrodataDownload.objects.create(campaign=campaign, user=analyst, user_email=analyst.email, fmt="csv", via="web", rows=12)
    MicrodataDownload.objects.create(campaign=campaign, user=None, user_email="efface@exemple.fr", fmt="xlsx", via="web", rows=3)

    lead_page, colleague_page = page_for(analyst, campaign), page_for(colleague, campaign)

    assert "Ana Lyste (ana@exemple.fr)" in lead_page and "efface@exemple.fr" in lead_page
    assert "Ana Lyste" in colleague_page and "compte effacé" in colleague_page
    assert "ana@exemple.fr" not in colleague_page and "efface@exemple.fr" not in colleague_page
