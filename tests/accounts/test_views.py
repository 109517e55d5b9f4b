"""Sign-in by e-mail link, claiming the positionings of the browser, and the language switch."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grille.accounts.models import LoginLink, User
from grille.assessments import services
from grille.assessments.models import Assessment
from tests.factories import answer, make_user, start_positioning

LOGIN = reverse("accounts:login")


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def request_link(mailoutbox, django_capture_on_commit_callbacks):
    """Ask for a sign-in link as a person does; returns the link read from the e-mail."""

    def request(browser: Client, email: str = "camille@exemple.fr") -> str:
        with django_capture_on_commit_callbacks(execute=True):
            response = browser.post(LOGIN, {"email": email})
        assert response.status_code == 200
        match = re.search(r"http://testserver(/connexion/lien/[^/\s]+/)", mailoutbox[-1].body)
        assert match, mailoutbox[-1].body
        return match.group(1)

    return request


def sign_in(browser: Client, link: str):
    return browser.post(link)


def test_login_page_asks_for_an_email(client, db):
    response = client.get(LOGIN)

    assert response.status_code == 200
    assert "Recevoir mon lien de connexion" in text(response)


def test_requesting_a_link_sends_one_mail_with_a_single_use_link(client, db, mailoutbox,
                                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(LOGIN, {"email": "Camille@Exemple.fr"})

    assert response.status_code == 200
    assert "Consultez votre messagerie" in text(response)
    assert [(m.to, m.subject) for m in mailoutbox] == [(["Camille@Exemple.fr"], "Votre lien de connexion à Grille")]
    raw = re.search(r"http://testserver/connexion/lien/([^/\s]+)/", mailoutbox[0].body).group(1)
    link = LoginLink.objects.get()
    assert (link.email, link.token_hash, link.used_at) == (
        "camille@exemple.fr", hashlib.sha256(raw.encode()).hexdigest(), None,
    )
    assert timedelta(minutes=29) < link.expires_at - timezone.now() <= timedelta(minutes=30)
    assert "valable 30 minutes" in mailoutbox[0].body
    assert User.objects.count() == 0


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("camille", "Saisissez une adresse e-mail valide, par exemple prenom.nom@exemple.fr."),
        ("", "Saisissez votre adresse e-mail."),
    ],
)
def test_requesting_a_link_with_a_bad_address_says_so_and_sends_nothing(
    client, db, mailoutbox, django_capture_on_commit_callbacks, email, message
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(LOGIN, {"email": email})

    assert response.status_code == 400
    assert message in text(response)
    assert (mailoutbox, LoginLink.objects.count()) == ([], 0)


def test_opening_the_link_shows_a_button_and_does_not_use_it(client, db, request_link):
    link = request_link(client)

    response = client.get(link)

    assert response.status_code == 200
    assert "Me connecter" in text(response)
    assert '<form method="post">' in text(response)
    assert LoginLink.objects.get().used_at is None
    assert "_auth_user_id" not in client.session
    assert client.post(link).status_code == 302


def test_confirming_the_link_signs_in_and_creates_the_account(client, db, request_link):
    link = request_link(client, "Camille@Exemple.fr")

    response = sign_in(client, link)

    user = User.objects.get()
    assert response.status_code == 302
    # A first sign-in asks how to present oneself (tests/accounts/test_people.py).
    assert response.url == reverse("accounts:welcome")
    assert user.email == "camille@exemple.fr"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert LoginLink.objects.get().used_at is not None


def test_confirming_the_link_of_an_existing_person_signs_them_in(client, db, request_link):
    user = make_user("camille@exemple.fr")

    sign_in(client, request_link(client, "CAMILLE@exemple.fr"))

    assert User.objects.count() == 1
    assert client.session["_auth_user_id"] == str(user.pk)


def test_signing_in_claims_the_anonymous_positionings_of_this_browser(client, version, request_link):
    first, second = start_positioning(client), start_positioning(client)
    someone_elses = start_positioning(Client())

    sign_in(client, request_link(client))

    user = User.objects.get()
    assert dict(Assessment.objects.values_list("pk", "owner")) == {
        first.pk: user.pk, second.pk: user.pk, someone_elses.pk: None,
    }


def test_signing_in_does_not_take_a_positioning_owned_by_someone_else(client, version, request_link):
    owner = make_user("owner@exemple.fr")
    owned, raw = services.start_assessment(version=version, owner=owner)
    client.get(reverse("assessments:resume", args=[raw]))

    sign_in(client, request_link(client, "autre@exemple.fr"))

    assert Assessment.objects.get(pk=owned.pk).owner == owner


def test_used_link_gets_a_clear_410_page(client, db, request_link):
    link = request_link(client)
    sign_in(client, link)
    again = Client()

    response = again.post(link)
    shown = again.get(link)

    assert (response.status_code, shown.status_code) == (410, 410)
    assert "Il a déjà servi : chaque lien ne fonctionne qu'une fois." in text(response)
    assert "_auth_user_id" not in again.session


def test_expired_link_gets_a_clear_410_page(client, db, request_link):
    link = request_link(client)
    LoginLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client.post(link)

    assert response.status_code == 410
    assert "Il a expiré : les liens de connexion sont valables 30 minutes." in text(response)
    assert "_auth_user_id" not in client.session
    assert (User.objects.count(), LoginLink.objects.get().used_at) == (0, None)


@pytest.mark.parametrize("method", ["get", "post"])
def test_unknown_link_gets_a_clear_404_page(client, db, method):
    response = getattr(client, method)(reverse("accounts:login_confirm", args=["jeton-invente"]))

    assert response.status_code == 404
    assert "Ce lien est inconnu. Vérifiez qu'il a été copié en entier." in text(response)
    assert "_auth_user_id" not in client.session


def test_my_positionings_lists_the_owned_ones(client, version, request_link):
    mine = start_positioning(client)
    answer(mine, "1.1", level="2")
    sign_in(client, request_link(client))
    later = start_positioning(client)
    others = start_positioning(Client())

    page = text(client.get(reverse("assessments:list")))

    assert reverse("assessments:profile", args=[mine.uuid]) in page
    assert reverse("assessments:profile", args=[later.uuid]) in page
    assert reverse("assessments:profile", args=[others.uuid]) not in page
    assert "Connectez-vous (sans mot de passe)" not in page


def test_signed_in_person_finds_their_positionings_from_another_browser(client, version, request_link):
    mine = start_positioning(client)
    answer(mine, "3.2", level="3", comment="Sur le téléphone")
    sign_in(client, request_link(client))
    laptop = Client()

    before = laptop.get(reverse("assessments:profile", args=[mine.uuid]))
    sign_in(laptop, request_link(laptop))
    listing = text(laptop.get(reverse("assessments:list")))
    profile = laptop.get(reverse("assessments:profile", args=[mine.uuid]))

    assert before.status_code == 404
    assert reverse("assessments:profile", args=[mine.uuid]) in listing
    assert profile.status_code == 200
    assert "Sur le téléphone" in text(profile)


def test_signing_out_forgets_the_positionings_on_this_browser(client, version, request_link):
    mine = start_positioning(client)
    sign_in(client, request_link(client))

    response = client.post(reverse("accounts:logout"))

    assert response.url == reverse("pages:home")
    assert client.get(reverse("assessments:profile", args=[mine.uuid])).status_code == 404


def test_sign_out_refuses_get(client, db):
    assert client.get(reverse("accounts:logout")).status_code == 405


def test_language_switch_to_english(client, db):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    assert response.status_code == 302
    assert response.url == "/"
    assert client.cookies["django_language"].value == "en"
    assert '<html lang="en">' in client.get("/").content.decode()


def test_language_switch_to_an_unknown_language_keeps_french(client, db):
    response = client.post("/i18n/setlang/", {"language": "xx", "next": "/"})

    assert response.status_code == 302
    assert '<html lang="fr">' in client.get("/").content.decode()
