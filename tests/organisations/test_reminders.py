"""Issue 14: reminders go to the members who have not shared yet, once a day at most."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from grille.core.mail import MailKind
from grille.core.models import OutgoingEmail
from grille.organisations import services
from grille.organisations.enums import ShareMode
from grille.organisations.models import Membership


def reminded() -> list[str]:
    return sorted(OutgoingEmail.objects.filter(kind=MailKind.ORGANISATION_REMINDER).values_list("recipient", flat=True))


@pytest.fixture
def team(facilitator, add_member, share):
    """Bruno shares with his name, Chloé anonymously, Denis and Emma have not shared."""
    bruno = add_member("bruno@exemple.fr", "Bruno")
    chloe = add_member("chloe@exemple.fr", "Chloé")
    denis = add_member("denis@exemple.fr", "Denis")
    emma = add_member("emma@exemple.fr", "Emma")
    share(bruno, {"1.1": "2"})
    share(chloe, {"1.1": "3"}, mode=ShareMode.ANONYMOUS)
    return {"bruno": bruno, "chloe": chloe, "denis": denis, "emma": emma}


def test_only_members_without_a_share_are_reminded_not_the_sender(facilitator, team):
    assert services.remind_members(membership=facilitator) == 2

    assert reminded() == ["denis@exemple.fr", "emma@exemple.fr"]
    mail = OutgoingEmail.objects.get(recipient="denis@exemple.fr")
    assert mail.subject == "Rappel : partagez votre positionnement avec « Communauté de communes du Val »"
    assert "Alice Animatrice (alice@exemple.fr) vous rappelle" in mail.body
    assert f"/organisations/{facilitator.organisation.uuid}/partage/" in mail.body
    assert "Partager reste votre choix" in mail.body
    assert mail.topic == f"membership:{team['denis'].pk}"


def test_nobody_is_reminded_twice_within_a_day(facilitator, team):
    services.remind_members(membership=facilitator)
    assert services.remind_members(membership=facilitator) == 0
    assert len(reminded()) == 2

    # A day later, they may be reminded again.
    Membership.objects.filter(pk=team["denis"].pk).update(reminded_at=team["denis"].joined_at - timedelta(days=2))
    assert services.remind_members(membership=facilitator) == 1
    assert reminded() == ["denis@exemple.fr", "denis@exemple.fr", "emma@exemple.fr"]


def test_a_second_facilitator_does_not_remind_the_same_people_again(facilitator, team):
    services.set_role(by=facilitator, target=team["bruno"], role="facilitator")
    bruno = Membership.objects.select_related("organisation", "user").get(pk=team["bruno"].pk)
    services.remind_members(membership=facilitator)

    # Only Alice, who sent the first reminders and has not shared either.
    assert services.remind_members(membership=bruno) == 1
    assert reminded() == ["alice@exemple.fr", "denis@exemple.fr", "emma@exemple.fr"]


def test_a_member_who_withdrew_their_share_is_reminded(facilitator, team):
    services.withdraw_share(membership=team["bruno"])

    services.remind_members(membership=facilitator)

    assert reminded() == ["bruno@exemple.fr", "denis@exemple.fr", "emma@exemple.fr"]


def test_a_member_cannot_send_reminders(team):
    with pytest.raises(services.NotAllowed):
        services.remind_members(membership=team["denis"])
    assert reminded() == []


def test_the_page_sends_reminders_without_telling_who_or_how_many(facilitator, team):
    client = Client()
    client.force_login(facilitator.user)
    members_url = reverse("organisations:members", args=[facilitator.organisation.uuid])
    assert "Envoyer un rappel" in client.get(members_url).content.decode()

    response = client.post(reverse("organisations:remind", args=[facilitator.organisation.uuid]), follow=True)

    html = response.content.decode()
    assert "Un rappel part par e-mail vers chaque membre qui n&#x27;a pas encore partagé" in html
    assert "2 " not in html.split("Un rappel part")[1].split("</")[0]
    assert reminded() == ["denis@exemple.fr", "emma@exemple.fr"]


def test_a_member_gets_a_403_from_the_reminder_page(team, facilitator):
    client = Client()
    client.force_login(team["denis"].user)
    response = client.post(reverse("organisations:remind", args=[facilitator.organisation.uuid]))

    assert response.status_code == 403
    assert reminded() == []


def test_reminders_need_the_csrf_token(facilitator, team):
    client = Client(enforce_csrf_checks=True)
    client.force_login(facilitator.user)

    assert client.post(reverse("organisations:remind", args=[facilitator.organisation.uuid])).status_code == 403
    assert reminded() == []
