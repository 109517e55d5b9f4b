"""People with names (issue 14): « Mon compte », the first-sign-in prompt, and a person shown by
their name everywhere, their e-mail address only to facilitators in the member list."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta

import openpyxl
import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from grille.accounts.models import LoginLink, User
from grille.accounts.services import create_api_token, erase_person, export_person, save_profile
from grille.core.people import distinct_labels, person_intro, person_label, person_with_email
from grille.core.tokens import hash_token
from grille.organisations.enums import ShareMode
from grille.organisations.models import Membership
from grille.organisations.services import (
    accept_invitation,
    add_comment,
    create_action,
    create_invitation,
    create_organisation,
    set_decision,
    share_assessment,
)
from tests.organisations.conftest import submitted_positioning

ACCOUNT = reverse("accounts:account")
WELCOME = reverse("accounts:welcome")


def text(response) -> str:
    return html.unescape(response.content.decode())


def person(email: str, name: str = "", **fields: str) -> User:
    return User.objects.create_user(email, display_name=name, **fields)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- Naming rule ---------------------------------------------------------------------------


def test_a_person_is_shown_by_name_and_never_by_address_unless_revealed(db):
    named = User(email="camille@exemple.fr", display_name="  Camille Martin ")
    nameless = User(email="sans.nom@exemple.fr")

    assert person_label(named) == "Camille Martin"
    assert person_label(nameless) == "Membre sans nom affiché"
    assert person_label(nameless, reveal_email=True) == "sans.nom@exemple.fr"
    assert person_label(None) == "personne retirée"
    assert person_with_email(named) == "Camille Martin (camille@exemple.fr)"
    assert person_with_email(nameless) == "sans.nom@exemple.fr"
    # str() still falls back to the address: that is why templates use |person.
    assert str(nameless) == "sans.nom@exemple.fr"


def test_alike_labels_are_numbered_so_columns_can_be_told_apart(db):
    users = [
        User(email="a@exemple.fr", display_name="Marie Martin"),
        User(email="b@exemple.fr"),
        User(email="c@exemple.fr", display_name="Paul"),
        User(email="d@exemple.fr", display_name="Marie Martin"),
        User(email="e@exemple.fr"),
    ]

    assert distinct_labels(users) == [
        "Marie Martin 1", "Membre sans nom affiché 1", "Paul", "Marie Martin 2", "Membre sans nom affiché 2",
    ]


def test_an_introduction_names_the_person_and_their_structure(db):
    assert person_intro(User(display_name="Camille Martin", affiliation="Région Centre")) == "Camille Martin (Région Centre)"
    assert person_intro(User(display_name="Camille Martin")) == "Camille Martin"
    assert person_intro(User(email="x@exemple.fr", affiliation="Région Centre")) == ""


# --- « Mon compte » --------------------------------------------------------------------------


def test_the_header_links_to_my_account_once_signed_in(db):
    user = person("camille@exemple.fr")

    assert "Mon compte" not in text(Client().get(reverse("pages:home")))
    page = text(signed_in(user).get(reverse("pages:home")))
    assert f'href="{ACCOUNT}"' in page and "Mon compte" in page


def test_my_account_sets_name_job_title_and_structure(db):
    user = person("camille@exemple.fr")
    client = signed_in(user)

    page = client.get(ACCOUNT)
    assert page.status_code == 200
    assert "camille@exemple.fr" in text(page)  # one's own address
    assert f'href="{reverse("accounts:api_tokens")}"' in text(page)

    response = client.post(ACCOUNT, {
        "display_name": "  Camille Martin ", "job_title": "Cheffe de projet", "affiliation": "Région Centre-Val de Loire",
    })

    assert response.status_code == 302 and response.url == ACCOUNT
    user.refresh_from_db()
    assert (user.display_name, user.job_title, user.affiliation) == ("Camille Martin", "Cheffe de projet", "Région Centre-Val de Loire")
    assert user.profile_prompted_at is not None
    after = text(client.get(ACCOUNT))
    assert "Vos informations sont enregistrées." in after
    assert "Camille Martin</strong> — Cheffe de projet, Région Centre-Val de Loire" in after


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("display_name", "Camille\nBcc: x@y.fr", "écrivez-le sur une seule ligne"),
        ("display_name", "Camille https://piege.example", "Ce nom ne peut pas contenir d'adresse web"),
        ("display_name", "www.piege.example", "Ce nom ne peut pas contenir d'adresse web"),
        ("display_name", "direction@banque.fr", "Votre nom ne peut pas contenir d'adresse e-mail"),
        ("display_name", "C" * 151, "Ce texte est trop long : 150 caractères au plus."),
        ("job_title", "Cheffe\u202eede projet", "écrivez-le sur une seule ligne"),
        ("affiliation", "Voir http://piege.example", "Ce nom ne peut pas contenir d'adresse web"),
        ("affiliation", "A" * 201, "Ce texte est trop long : 200 caractères au plus."),
    ],
)
def test_a_refused_value_says_why_in_french_and_keeps_what_was_saved(db, field, value, message):
    user = person("camille@exemple.fr", "Camille Martin", job_title="Cheffe de projet", affiliation="Région")
    data = {"display_name": "Autre nom", "job_title": "Autre fonction", "affiliation": "Autre structure", field: value}

    response = signed_in(user).post(ACCOUNT, data)

    assert response.status_code == 400
    assert message in text(response)
    assert 'aria-invalid="true"' in text(response)
    user.refresh_from_db()
    assert (user.display_name, user.job_title, user.affiliation) == ("Camille Martin", "Cheffe de projet", "Région")
    assert user.profile_prompted_at is None


def test_the_service_validates_too_and_saves_nothing_when_one_field_is_refused(db):
    user = person("camille@exemple.fr", "Camille Martin")

    with pytest.raises(ValidationError) as caught:
        save_profile(user=user, display_name="Nouveau nom", affiliation="Voir www.piege.example")

    assert list(caught.value.message_dict) == ["affiliation"]
    user.refresh_from_db()
    assert (user.display_name, user.affiliation) == ("Camille Martin", "")


def test_my_account_needs_signing_in_and_the_csrf_token(db):
    response = Client().get(ACCOUNT)
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(person("camille@exemple.fr"))
    assert strict.post(ACCOUNT, {"display_name": "Camille"}).status_code == 403
    assert User.objects.get().display_name == ""


def test_an_empty_name_is_allowed_the_person_is_then_shown_without_their_address(db):
    user = person("camille@exemple.fr", "Camille Martin")

    assert signed_in(user).post(ACCOUNT, {"display_name": "", "job_title": "", "affiliation": ""}).status_code == 302
    user.refresh_from_db()
    assert user.display_name == "" and person_label(user) == "Membre sans nom affiché"


# --- First sign-in -----------------------------------------------------------------------------


def login_link(email: str, next_path: str = "") -> str:
    """A sign-in link as send_login_link stores it (its raw token in the path)."""
    raw = f"jeton-de-test-{LoginLink.objects.count()}"
    LoginLink.objects.create(
        email=email, token_hash=hash_token(raw), next_path=next_path, expires_at=timezone.now() + timedelta(minutes=30),
    )
    return reverse("accounts:login_confirm", args=[raw])


def test_the_first_sign_in_asks_how_to_present_oneself_then_goes_where_the_link_was_going(db):
    client = Client()
    destination = "/organisations/"

    response = client.post(login_link("camille@exemple.fr", destination))

    assert response.status_code == 302
    assert response.url == f"{WELCOME}?next=%2Forganisations%2F"
    page = client.get(response.url)
    assert page.status_code == 200
    assert "Comment vous présenter ?" in text(page)
    assert '<input type="hidden" name="next" value="/organisations/">' in text(page)

    saved = client.post(WELCOME, {"next": destination, "display_name": "Camille Martin", "job_title": "", "affiliation": "Région"})

    assert saved.status_code == 302 and saved.url == destination
    user = User.objects.get()
    assert (user.display_name, user.affiliation) == ("Camille Martin", "Région")
    assert user.profile_prompted_at is not None


def test_the_prompt_can_be_skipped_and_is_asked_only_once(db):
    client = Client()
    client.post(login_link("camille@exemple.fr"))

    skipped = client.post(WELCOME, {"skip": "1", "display_name": "ignoré\n"})

    assert skipped.status_code == 302 and skipped.url == reverse("assessments:list")
    user = User.objects.get()
    assert user.display_name == "" and user.profile_prompted_at is not None
    # Back on the prompt, or signing in again: not asked again.
    assert client.get(WELCOME + "?next=/organisations/").url == "/organisations/"
    client.post(reverse("accounts:logout"))
    again = Client().post(login_link("camille@exemple.fr", "/organisations/"))
    assert again.url == "/organisations/"


def test_a_refused_answer_to_the_prompt_is_shown_again_with_the_reason(db):
    client = Client()
    client.post(login_link("camille@exemple.fr"))

    response = client.post(WELCOME, {"display_name": "camille@exemple.fr", "next": "/organisations/"})

    assert response.status_code == 400
    assert "Votre nom ne peut pas contenir d'adresse e-mail" in text(response)
    assert User.objects.get().profile_prompted_at is None


def test_the_prompt_never_sends_to_another_site(db):
    client = Client()
    client.post(login_link("camille@exemple.fr"))

    response = client.post(WELCOME, {"skip": "1", "next": "https://piege.example/"})

    assert response.url == reverse("assessments:list")


# --- Shown by name everywhere, the address only to facilitators ------------------------------

CAMILLE = "camille.animatrice@exemple.fr"
BRUNO = "bruno.membre@exemple.fr"
NADIA = "nadia.sans.nom@exemple.fr"
DORA = "dora.discrete@exemple.fr"


@pytest.fixture
def team(version):
    """A facilitator and three members: Bruno (named), Nadia (no name), Dora (named, anonymous share)."""
    camille = person(CAMILLE, "Camille Animatrice", job_title="Cheffe de projet", affiliation="Pays du Val")
    organisation = create_organisation(user=camille, name="Pays du Val", structure_type="epci")
    facilitator = Membership.objects.select_related("organisation", "user").get(organisation=organisation, user=camille)
    members = {}
    for email, name in [(BRUNO, "Bruno Membre"), (NADIA, ""), (DORA, "Dora Discrète")]:
        _invitation, raw = create_invitation(membership=facilitator)
        members[email] = accept_invitation(raw=raw, user=person(email, name))
    for email, mode in [(BRUNO, ShareMode.NAMED), (NADIA, ShareMode.NAMED), (DORA, ShareMode.ANONYMOUS)]:
        membership = members[email]
        assessment = submitted_positioning(membership.user, version, {"1.1": "2", "1.3": ("3", "oui", "partenariat")})
        share_assessment(membership=membership, assessment=assessment, mode=mode)
    share_assessment(membership=facilitator, assessment=submitted_positioning(camille, version, {"1.1": "1"}), mode=ShareMode.NAMED)
    set_decision(membership=facilitator, practice_code="1.3", mode="partnership", partner_types=["association"], note="Avec les associations")
    add_comment(membership=members[NADIA], practice_code="1.3", body="Je peux m'en charger")
    add_comment(membership=members[BRUNO], practice_code="1.3", body="D'accord")
    create_action(membership=facilitator, title="Rencontrer les associations", practice_codes=["1.3"], owner_id=members[NADIA].pk)
    create_action(membership=facilitator, title="Préparer le budget", practice_codes=["1.1"], owner_id=members[BRUNO].pk)
    return facilitator, members


def everything_a_member_reads(client: Client, uuid) -> dict[str, str]:
    """Each page, file and API answer about the team, as text."""
    pages = {
        name: text(client.get(reverse(f"organisations:{name}", args=args)))
        for name, args in [
            ("home", [uuid]), ("members", [uuid]), ("decisions", [uuid]), ("decision", [uuid, "1.3"]),
            ("actions", [uuid]), ("workshop", [uuid]), ("share", [uuid]),
        ]
    }
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(reverse("organisations:team_xlsx", args=[uuid])).content))
    pages["xlsx"] = "\n".join(str(c) for ws in workbook.worksheets for row in ws.iter_rows(values_only=True) for c in row if c is not None)
    pdf = client.get(reverse("organisations:report_pdf", args=[uuid])).content
    pages["pdf"] = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return pages


def test_a_member_never_reads_another_members_address_anywhere(team):
    facilitator, members = team
    bruno = members[BRUNO].user
    reads = everything_a_member_reads(signed_in(bruno), facilitator.organisation.uuid)
    _token, raw = create_api_token(user=bruno, name="Tableur")
    api = Client().get(f"/api/v1/structures/{facilitator.organisation.uuid}/equipe", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.status_code == 200
    reads["api"] = api.content.decode()

    for where, content in reads.items():
        for email in (CAMILLE, NADIA, DORA):
            assert email not in content, (where, email)
        # No address at all, but possibly Bruno's own.
        assert set(re.findall(r"[\w.+-]+@[\w-]+\.[\w.-]+", content)) <= {BRUNO}, where
    # Named by the names they chose, in the team map, the files and the API alike.
    for where in ("home", "xlsx", "api"):
        assert "Camille Animatrice" in reads[where] and "Bruno Membre" in reads[where], where
        assert "Membre sans nom affiché" in reads[where], where
    assert "Dora Discrète" not in reads["home"] + reads["xlsx"] + reads["api"]  # anonymous share
    assert "Membre sans nom affiché — " in reads["decision"] and "Bruno Membre — " in reads["decision"]
    assert "Camille Animatrice : " in reads["decision"]  # decision history
    assert "Membre sans nom affiché" in reads["actions"] and "Membre sans nom affiché" in reads["pdf"]
    assert "Camille Animatrice" in reads["members"] and "Cheffe de projet, Pays du Val" in reads["members"]


def test_the_team_map_headers_are_names_not_addresses(team, version):
    facilitator, _members = team
    page = text(signed_in(facilitator.user).get(reverse("organisations:home", args=[facilitator.organisation.uuid])))

    headers = re.findall(r'<th scope="col" class="member-col">([^<]*)</th>', page)
    assert headers == ["Bruno Membre", "Camille Animatrice", "Membre sans nom affiché"]


def test_a_facilitator_sees_the_addresses_in_the_member_list_only(team):
    facilitator, members = team
    client = signed_in(facilitator.user)
    uuid = facilitator.organisation.uuid

    member_list = text(client.get(reverse("organisations:members", args=[uuid])))

    assert "Bruno Membre (bruno.membre@exemple.fr)" in member_list
    assert NADIA in member_list  # no name: the address tells who it is
    assert "Dora Discrète (dora.discrete@exemple.fr)" in member_list
    # The action form (facilitators only) tells apart people without a name by their address.
    assert f'>{NADIA}</option>' in text(client.get(reverse("organisations:actions", args=[uuid])))
    # The team map is the same for everyone: no address there either.
    assert NADIA not in text(client.get(reverse("organisations:home", args=[uuid])))


def test_the_share_page_says_under_which_name_one_is_shown(team):
    _facilitator, members = team
    uuid = members[NADIA].organisation.uuid

    nadia = text(signed_in(members[NADIA].user).get(reverse("organisations:share", args=[uuid])))
    bruno = text(signed_in(members[BRUNO].user).get(reverse("organisations:share", args=[uuid])))

    assert "Vous n'avez pas encore de nom affiché : l'équipe vous verrait comme « Membre sans nom affiché »." in nadia
    assert "Votre nom affiché : « Bruno Membre »." in bruno
    assert f'href="{ACCOUNT}"' in nadia


# --- Invitations name the inviter and their structure ------------------------------------------


def test_the_invitation_names_the_inviter_and_their_structure(version, mailoutbox, django_capture_on_commit_callbacks):
    camille = person(CAMILLE, "Camille Martin", job_title="Cheffe de projet", affiliation="Région Centre")
    organisation = create_organisation(user=camille, name="Pays du Val", structure_type="epci")
    facilitator = Membership.objects.select_related("organisation", "user").get(organisation=organisation, user=camille)

    with django_capture_on_commit_callbacks(execute=True):
        create_invitation(membership=facilitator, email="denise@exemple.fr")

    (message,) = mailoutbox
    assert message.subject == "Invitation à rejoindre « Pays du Val » sur Grille, de la part de Camille Martin (Région Centre)"
    assert "Camille Martin (Région Centre) vous invite à rejoindre « Pays du Val » sur Grille" in message.body
    assert "Sa fonction : Cheffe de projet." in message.body
    assert f"{CAMILLE} vous invite" not in message.body
    # The foot still says who, with the address Grille checked.
    assert f"de la part de Camille Martin ({CAMILLE}), qui a saisi votre adresse" in message.body


def test_an_inviter_without_a_name_is_named_by_their_address(version, mailoutbox, django_capture_on_commit_callbacks):
    camille = person(CAMILLE)
    organisation = create_organisation(user=camille, name="Pays du Val", structure_type="epci")
    facilitator = Membership.objects.select_related("organisation", "user").get(organisation=organisation, user=camille)

    with django_capture_on_commit_callbacks(execute=True):
        create_invitation(membership=facilitator, email="denise@exemple.fr")

    assert mail.outbox[0].subject == "Invitation à rejoindre « Pays du Val » sur Grille"
    assert f"{CAMILLE} vous invite à rejoindre « Pays du Val »" in mail.outbox[0].body


# --- Personal data ---------------------------------------------------------------------------------


def test_the_personal_data_export_includes_the_presentation_and_erasure_removes_it(db):
    user = person("camille@exemple.fr", "Camille Martin", job_title="Cheffe de projet", affiliation="Région")
    save_profile(user=user, display_name="Camille Martin", job_title="Cheffe de projet", affiliation="Région")

    account = export_person(user=user)["compte"]

    assert (account["nom_affiche"], account["fonction"], account["structure"]) == ("Camille Martin", "Cheffe de projet", "Région")
    assert account["presentation_proposee_le"] is not None
    erase_person(user=user)
    assert not User.objects.filter(display_name="Camille Martin").exists()
    assert not User.objects.filter(job_title="Cheffe de projet").exists()
