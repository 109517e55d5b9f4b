"""Who may do what with studies (studies/permissions.py), and the menu that offers it."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grille.accounts.models import User
from grille.studies import permissions, services


def test_enabled_analysts_and_administrators_run_studies(analyst):
    admin = User.objects.create_superuser("root@exemple.fr", "mot-de-passe-du-test")
    plain = User.objects.create_user("bruno@exemple.fr")

    allowed = [permissions.can_run_studies(u) for u in (analyst, admin, plain, AnonymousUser())]

    assert allowed == [True, True, False, False]


def test_only_the_study_lead_downloads_the_microdata(campaign, analyst):
    second = User.objects.create_user("second@exemple.fr")
    campaign.analysts.add(second)

    allowed = [permissions.can_download_microdata(u, campaign) for u in (analyst, second, AnonymousUser())]

    assert allowed == [True, False, False]


def test_nobody_downloads_the_microdata_of_a_campaign_without_a_lead(version):
    now = timezone.now()
    campaign = services.create_campaign(
        user=None, name="Démonstration", wave_year=2024, version=version,
        opens_at=now - timedelta(days=2), closes_at=now + timedelta(days=30), consent_text="J'accepte.",
    )

    # An anonymous visitor has no primary key either: that must not make them the lead.
    assert (campaign.lead_id, permissions.can_download_microdata(AnonymousUser(), campaign)) == (None, False)


def test_the_menu_offers_studies_to_those_who_run_them(analyst):
    plain = User.objects.create_user("bruno@exemple.fr")
    link = f'href="{reverse("studies:list")}"'
    pages = []
    for user in (analyst, plain):
        client = Client()
        client.force_login(user)
        pages.append(client.get(reverse("organisations:list")).content.decode())

    assert [link in page for page in pages] == [True, False]
