"""Issue 14, the way in: the home page presents the team use, a submitted positioning offers
« Partager avec <organisation> », removing a member asks first, and the practices of an action
are picked with checkboxes grouped by situation."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from grille.assessments.services import start_assessment
from grille.frameworks.selectors import get_grid
from grille.organisations import services
from grille.organisations.enums import ShareMode
from grille.organisations.models import ActionItem, Membership, Share

from .conftest import make_person


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# Home page


def test_the_home_page_presents_the_team_use_and_leads_to_organisations(db):
    html = Client().get(reverse("pages:home")).content.decode()

    assert "En équipe : dialoguer au sein de votre structure" in html
    assert f'href="{reverse("organisations:list")}"' in html
    assert "Créer ou retrouver l'espace de ma structure" in html
    assert "à partir de 5 personnes" in html


def test_the_home_page_offers_a_signed_in_person_their_organisations_and_a_new_one(facilitator):
    html = client_for(facilitator.user).get(reverse("pages:home")).content.decode()

    assert f'<a class="button" href="{reverse("organisations:list")}">Mes structures</a>' in html
    assert f'href="{reverse("organisations:create")}"' in html


# « Partager avec <organisation> » after submitting


def submit_through_the_site(client: Client, version, user) -> str:
    assessment, _raw = start_assessment(version=version, owner=user)
    grid = get_grid(version)
    from grille.assessments.models import Answer

    Answer.objects.bulk_create([
        Answer(assessment=assessment, practice_id=p.id, level_id=grid.level.options[1].id) for p in grid.practices
    ])
    response = client.post(reverse("assessments:submit", args=[assessment.uuid]), follow=True)
    assert response.status_code == 200
    return response.content.decode()


def test_after_submitting_a_member_is_offered_to_share_with_each_of_their_organisations(version, member, outsider):
    services.accept_invitation(raw=services.create_invitation(membership=outsider)[1], user=member.user)
    client = client_for(member.user)

    html = submit_through_the_site(client, version, member.user)

    assert "Votre positionnement est envoyé." in html
    assessment = member.user.assessments.get()
    for organisation in (member.organisation, outsider.organisation):
        link = f'{reverse("organisations:share", args=[organisation.uuid])}?positionnement={assessment.uuid}'
        assert f'href="{link}"' in html
        assert f"Partager avec « {organisation.name} »" in html


def test_the_share_page_preselects_the_positioning_of_the_offer(member, positioning):
    older = positioning(member.user, {"1.1": "1"})
    newer = positioning(member.user, {"1.1": "2"})
    client = client_for(member.user)
    url = reverse("organisations:share", args=[member.organisation.uuid])

    html = client.get(f"{url}?positionnement={older.uuid}").content.decode()
    checked = re.findall(r'name="assessment" value="([^"]+)" checked', html)
    assert checked == [str(older.uuid)]
    # Without it, or with a positioning that is not the member's, the latest one is chosen.
    assert re.findall(r'name="assessment" value="([^"]+)" checked', client.get(url).content.decode()) == [str(newer.uuid)]
    stranger = positioning(make_person("zoe@exemple.fr"), {"1.1": "1"})
    html = client.get(f"{url}?positionnement={stranger.uuid}").content.decode()
    assert re.findall(r'name="assessment" value="([^"]+)" checked', html) == [str(newer.uuid)]


def test_once_shared_the_profile_says_so_and_another_positioning_would_replace_it(member, positioning):
    first = positioning(member.user, {"1.1": "1"})
    second = positioning(member.user, {"1.1": "2"})
    services.share_assessment(membership=member, assessment=first, mode=ShareMode.ANONYMOUS)
    client = client_for(member.user)

    html = client.get(reverse("assessments:profile", args=[first.uuid])).content.decode()
    assert "Partagé avec « Communauté de communes du Val »" in html
    assert "?positionnement=" not in html

    html = client.get(reverse("assessments:profile", args=[second.uuid])).content.decode()
    assert "Partager avec « Communauté de communes du Val »" in html
    assert "remplacera le positionnement que vous y partagez" in html


def test_offers_follow_only_the_viewers_own_memberships_and_shares(member, other_member, outsider, positioning, version):
    """What another member shares, a share withdrawn, an organisation on another grid, and one
    the viewer left never show on the viewer's profile; names are escaped and in order."""
    from grille.frameworks.models import FrameworkVersion
    from grille.organisations.models import Organisation

    mine = positioning(member.user, {"1.1": "1"})
    # Chloé shares in the same organisation: not the viewer's share.
    services.share_assessment(
        membership=other_member, assessment=positioning(other_member.user, {"1.1": "2"}), mode=ShareMode.NAMED
    )
    # The viewer shared an older positioning there, then withdrew it.
    services.share_assessment(membership=member, assessment=positioning(member.user, {"1.1": "3"}), mode=ShareMode.NAMED)
    services.withdraw_share(membership=member)
    # A second organisation, whose name needs escaping and sorts first.
    services.accept_invitation(raw=services.create_invitation(membership=outsider)[1], user=member.user)
    Organisation.objects.filter(pk=outsider.organisation_id).update(name="<b>Agglo</b> & co")
    # A third on another grid version, and a fourth the viewer left.
    other_version = FrameworkVersion.objects.get(pk=version.pk)
    other_version.pk, other_version.code = None, "autre"
    other_version.save()
    elsewhere = make_person("eve@ailleurs.fr")
    services.create_organisation(user=elsewhere, name="Grille ailleurs", structure_type="association")
    Organisation.objects.filter(name="Grille ailleurs").update(version=other_version)
    left = services.create_organisation(user=make_person("leo@ailleurs.fr"), name="Quittée", structure_type="association")
    services.accept_invitation(
        raw=services.create_invitation(membership=Membership.objects.get(organisation=left))[1], user=member.user
    )
    Membership.objects.filter(organisation=left, user=member.user).delete()
    Membership.objects.create(organisation=Organisation.objects.get(name="Grille ailleurs"), user=member.user)

    html = client_for(member.user).get(reverse("assessments:profile", args=[mine.uuid])).content.decode()

    offers = re.findall(r"Partag\S+ avec « ([^»]*) »", html)
    assert offers == ["&lt;b&gt;Agglo&lt;/b&gt; &amp; co", "Communauté de communes du Val"]
    assert "remplacera le positionnement" not in html
    assert "Grille ailleurs" not in html and "Quittée" not in html


def test_no_offer_without_an_organisation_nor_on_a_draft(version, positioning, db):
    loner = make_person("solo@exemple.fr")
    done = positioning(loner, {"1.1": "1"})
    html = client_for(loner).get(reverse("assessments:profile", args=[done.uuid])).content.decode()
    assert "share-offers-title" not in html


def test_no_offer_on_a_draft(version, member):
    draft, _raw = start_assessment(version=version, owner=member.user)
    html = client_for(member.user).get(reverse("assessments:profile", args=[draft.uuid])).content.decode()
    assert "share-offers-title" not in html


# Removing a member asks first


def test_removing_a_member_asks_for_confirmation_first(facilitator, member):
    client = client_for(facilitator.user)
    url = reverse("organisations:remove_member", args=[facilitator.organisation.uuid, member.pk])

    members_html = client.get(reverse("organisations:members", args=[facilitator.organisation.uuid])).content.decode()
    assert f'href="{url}"' in members_html  # a link to the confirmation, not a one-click form
    assert f'<form method="post" action="{url}"' not in members_html

    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Retirer Bruno Membre" in html and "de la structure ?" in html
    assert '<form method="post">' in html and "csrfmiddlewaretoken" in html
    assert Membership.objects.filter(pk=member.pk).exists()

    response = client.post(url)
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=member.pk).exists()


def test_the_confirmation_does_not_tell_whether_the_member_shares(facilitator, member, share):
    share(member, {"1.1": "2"}, mode=ShareMode.ANONYMOUS)
    with_share = client_for(facilitator.user).get(
        reverse("organisations:remove_member", args=[facilitator.organisation.uuid, member.pk])
    ).content.decode()
    Share.objects.all().delete()
    without = client_for(facilitator.user).get(
        reverse("organisations:remove_member", args=[facilitator.organisation.uuid, member.pk])
    ).content.decode()
    strip = lambda html: re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)  # noqa: E731
    assert strip(with_share) == strip(without)


def test_leaving_asks_too_and_mentions_ones_own_share(facilitator, member, share):
    share(member, {"1.1": "2"})
    client = client_for(member.user)
    url = reverse("organisations:remove_member", args=[member.organisation.uuid, member.pk])

    html = client.get(url).content.decode()
    assert "Quitter « Communauté de communes du Val » ?" in html
    assert "Votre partage sera retiré" in html

    assert client.post(url).status_code == 302
    assert not Membership.objects.filter(pk=member.pk).exists()


def test_removing_without_the_csrf_token_is_refused(facilitator, member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(facilitator.user)

    response = client.post(reverse("organisations:remove_member", args=[facilitator.organisation.uuid, member.pk]))

    assert response.status_code == 403
    assert Membership.objects.filter(pk=member.pk).exists()


def test_a_member_cannot_open_the_confirmation_for_someone_else(facilitator, member, other_member):
    response = client_for(member.user).get(
        reverse("organisations:remove_member", args=[facilitator.organisation.uuid, other_member.pk])
    )
    assert response.status_code == 403


# The practice picker


def test_the_action_form_groups_the_practices_by_situation_in_checkboxes(facilitator):
    html = client_for(facilitator.user).get(reverse("organisations:actions", args=[facilitator.organisation.uuid])).content.decode()
    grid = get_grid(facilitator.organisation.version_id)

    picker = html.split('name="title"')[1].split('<label for="id_owner"')[0]
    assert "<select" not in picker and "multiple" not in picker  # no Ctrl-click list
    assert html.count('<details class="picker-group"') == len(grid.situations)
    assert html.count('type="checkbox" id="action-practice-') == len(grid.practices)
    situation = grid.situations[0]
    assert f"<summary>{situation.label}</summary>" in html
    first = situation.practices[0]
    assert f'<label for="action-practice-{first.code}">{first.code} {first.label}</label>' in html


def test_checked_practices_are_saved_and_their_situations_open_again(facilitator):
    client = client_for(facilitator.user)
    grid = get_grid(facilitator.organisation.version_id)
    codes = [grid.situations[0].practices[0].code, grid.situations[2].practices[1].code]

    response = client.post(
        reverse("organisations:actions", args=[facilitator.organisation.uuid]),
        {"title": "Réunir les financeurs", "practices": codes, "status": "todo"},
    )

    assert response.status_code == 302
    action = ActionItem.objects.get()
    assert sorted(p.code for p in action.practices.all()) == sorted(codes)
    html = client.get(reverse("organisations:action_edit", args=[facilitator.organisation.uuid, action.pk])).content.decode()
    assert html.count('<details class="picker-group" open>') == 2
    assert html.count(" checked>") == 2
    assert "1 pratique cochée" in html


def test_an_unknown_practice_is_refused_and_the_choice_kept(facilitator):
    grid = get_grid(facilitator.organisation.version_id)
    code = grid.practices[0].code
    response = client_for(facilitator.user).post(
        reverse("organisations:actions", args=[facilitator.organisation.uuid]),
        {"title": "Action", "practices": [code, "99.9"], "status": "todo"},
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="practices-error"' in html
    assert f'id="action-practice-{code}" name="practices" value="{code}" checked>' in html
    assert ActionItem.objects.count() == 0


@pytest.mark.parametrize("preselected", [1])
def test_the_plan_link_from_a_decision_preselects_its_practice(facilitator, preselected):
    grid = get_grid(facilitator.organisation.version_id)
    code = grid.practices[preselected].code
    html = client_for(facilitator.user).get(
        reverse("organisations:actions", args=[facilitator.organisation.uuid]) + f"?pratique={code}"
    ).content.decode()
    assert f'value="{code}" checked>' in html
    assert html.count('<details class="picker-group" open>') == 1
