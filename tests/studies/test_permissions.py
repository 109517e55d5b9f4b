"""Who may do what with studies (studies/permissions.py), and the menu that offers it."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grille.accounts.models import User
from grille.studies import permissions, services


def test_enabled_analysts_and_administrators_run_studies(analyst):
    admin = User.objects.create_superuser("root@exemple.fr", "mot-de-passe-du-test")
    plain = User.objects.create_user("bruno@exemple.fr")
    team = Group.objects.create(name="Analystes")
    team.permissions.add(Permission.objects.get(codename="run_studies"))
    by_group = User.objects.create_user("groupe@exemple.fr")
    by_group.groups.add(team)
    other_group = User.objects.create_user("autre-groupe@exemple.fr")
    other_group.groups.add(Group.objects.create(name="Autres"))
    other_permission = User.objects.create_user("autre-droit@exemple.fr")
    other_permission.user_permissions.add(Permission.objects.exclude(codename="run_studies").first())
    inactive = [User.objects.create_user(f"parti{i}@exemple.fr", is_active=False) for i in range(3)]
    inactive[0].user_permissions.add(Permission.objects.get(codename="run_studies"))
    inactive[1].groups.add(team)
    inactive[2].is_superuser = True
    inactive[2].save()
    people = [analyst, admin, by_group, plain, other_group, other_permission, *inactive, AnonymousUser()]

    allowed = [permissions.can_run_studies(u) for u in people]

    assert allowed == [True, True, True, False, False, False, False, False, False, False]
    # The same answers as Django's own check, whose statements the menu no longer pays for.
    assert allowed == [u.has_perm(permissions.RUN_STUDIES) for u in people]


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
