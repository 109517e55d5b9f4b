"""Issue 13, finding 1: a sign-in link is bound to the browser that asked for it.

The attack: someone asks for a sign-in link to their own address, then gets a victim to open it
and confirm. The victim's browser holds anonymous positionings; they must not end up in the
attacker's account unless the victim ticks, for each one, a choice that names it.
"""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from grille.accounts.models import User
from grille.accounts.services import create_api_token, send_login_link
from grille.assessments.models import Assessment
from tests.factories import answer, start_positioning

ATTACKER = "attaquant@exemple.fr"


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def request_link(mailoutbox, django_capture_on_commit_callbacks):
    def request(browser: Client, email: str = ATTACKER) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            assert browser.post(reverse("accounts:login"), {"email": email}).status_code == 200
        return re.search(r"http://testserver(/connexion/lien/[^/\s]+/)", mailoutbox[-1].body).group(1)

    return request


def attacker_reads_through_the_api() -> str:
    _token, raw = create_api_token(user=User.objects.get(email=ATTACKER), name="Lecture")
    response = Client().get("/api/v1/positionnements", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    return response.content.decode()


def test_a_link_opened_in_another_browser_does_not_hand_over_its_positionings(version, request_link):
    attacker, victim = Client(), Client()
    link = request_link(attacker)
    secret = start_positioning(victim)
    answer(secret, "1.1", level="3", comment="Notre budget confidentiel")

    shown = text(victim.get(link))
    response = victim.post(link)

    assert response.status_code == 302
    assert Assessment.objects.get(pk=secret.pk).owner is None
    assert str(secret.uuid) not in attacker_reads_through_the_api()
    # The confirmation page said whose account this is, and that the link came from elsewhere.
    assert ATTACKER in shown
    assert "Ce lien a été demandé depuis un autre navigateur" in shown


def test_the_other_browser_page_names_each_positioning_unticked(version, request_link):
    attacker, victim = Client(), Client()
    link = request_link(attacker)
    first, second = start_positioning(victim), start_positioning(victim)

    page = text(victim.get(link))

    for assessment in (first, second):
        box = re.search(rf'<input[^>]*value="{assessment.uuid}"[^>]*>', page)
        assert box, page
        assert "checked" not in box.group(0)
    assert first.version.framework.name in page


def test_ticking_a_named_positioning_attaches_only_that_one(version, request_link):
    phone, laptop = Client(), Client()
    link = request_link(phone, "camille@exemple.fr")
    wanted, other = start_positioning(laptop), start_positioning(laptop)

    laptop.post(link, {"claim": [str(wanted.uuid)]})

    user = User.objects.get(email="camille@exemple.fr")
    assert dict(Assessment.objects.values_list("pk", "owner")) == {wanted.pk: user.pk, other.pk: None}


def test_ticking_a_positioning_this_browser_does_not_hold_attaches_nothing(version, request_link):
    attacker, victim, bystander = Client(), Client(), Client()
    link = request_link(attacker)
    start_positioning(victim)
    elsewhere = start_positioning(bystander)

    victim.post(link, {"claim": [str(elsewhere.uuid)]})

    assert Assessment.objects.get(pk=elsewhere.pk).owner is None


def test_the_browser_that_asked_keeps_its_positionings_attached_as_before(version, request_link):
    browser = Client()
    mine = start_positioning(browser)
    link = request_link(browser, "camille@exemple.fr")

    page = text(browser.get(link))
    browser.post(link)

    assert "Ce lien a été demandé depuis un autre navigateur" not in page
    assert Assessment.objects.get(pk=mine.pk).owner == User.objects.get(email="camille@exemple.fr")


def test_a_link_sent_without_a_browser_counts_as_another_browser(version, mailoutbox, django_capture_on_commit_callbacks):
    victim = Client()
    secret = start_positioning(victim)
    with django_capture_on_commit_callbacks(execute=True):
        send_login_link(email=ATTACKER)
    link = re.search(r"http://testserver(/connexion/lien/[^/\s]+/)", mailoutbox[-1].body).group(1)

    victim.post(link)

    assert Assessment.objects.get(pk=secret.pk).owner is None
