"""Grille as a relay for unwanted mail: e-mails that someone has Grille send to an address that
did not ask for them, and text of the sender's choosing written into them.

The attacks come first (as an anonymous visitor, as any signed-in person); each counts what
actually left through django.core.mail.outbox. Time is moved by replacing the limiter's clock.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grille.core import ratelimit
from grille.core.models import OutgoingEmail
from grille.core.ratelimit import INVITATION_MAILS, RESUME_LINK_MAILS
from grille.core.validators import SUBJECT_TEXT_MAX, single_line, validate_mailed_name
from grille.organisations import services as org_services
from grille.organisations.models import Invitation, Membership, Organisation
from grille.studies import services as study_services
from grille.studies.models import Campaign
from tests.organisations.conftest import make_person

ATTACKER = "192.0.2.66"
OTHER_ATTACKER = "203.0.113.9"
VICTIM = "victime@exemple.fr"

# What a sender could slip into a name to write the message themselves.
CONTROL_CHARACTERS = {
    "newline": "Val\nBcc: tout@exemple.fr",
    "carriage return": "Val\rSubject: urgent",
    "tab": "Val\tde Loire",
    "null": "Val\x00",
    "escape": "Val\x1b[31m",
    "delete": "Val\x7f",
    "C1 next line": "Val\x85suite",
    "line separator": "Val\u2028suite",
    "paragraph separator": "Val\u2029suite",
    "right-to-left override": "Val \u202eexe.fdp",
    "left-to-right embedding": "Val \u202a",
    "right-to-left isolate": "Val \u2067",
    "pop directional isolate": "Val \u2069",
}
WEB_ADDRESSES = ["Val — https://exemple.com/connexion", "Val (voir www.exemple.com)", "ftp://exemple.com"]
PHISHING = (
    "Service des impôts : votre compte sera suspendu sous 24 heures. Pour éviter une pénalité, "
    "appelez sans attendre le 01 23 45 67 89, votre carte bancaire en main"
)


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    """Run each request's on-commit work (the outbox's delivery) as a committed request would."""

    def run(action, *args):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args)

    return run


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def assert_refused_in_french(response, *, wait_at_most: timedelta = timedelta(hours=1)) -> None:
    text = page_text(response)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= wait_at_most.total_seconds()
    assert "Trop de tentatives" in text
    assert "Pour éviter les envois abusifs, Grille limite leur nombre par heure" in text
    assert "Vous pourrez réessayer dans" in text


def sent_to() -> list[str]:
    return [address for message in mail.outbox for address in message.to]


# --- Resume links, by anyone, to any address -------------------------------------------------------


def start_as_visitor(ip: str) -> tuple[Client, str, str]:
    """A visitor starts a positioning: their client, the send-link URL and the raw resume token."""
    client = Client(REMOTE_ADDR=ip)
    page = client.post(reverse("assessments:start"), follow=True)
    token = re.search(r"http://testserver/reprendre/([A-Za-z0-9_-]+)/", page_text(page)).group(1)
    uuid = re.search(r"/positionnements/([0-9a-f-]{36})/", page.redirect_chain[-1][0]).group(1)
    return client, reverse("assessments:send_link", args=[uuid]), token


def test_a_visitor_cannot_flood_one_address_with_resume_links(version, clock, capture):
    client, url, token = start_as_visitor(ATTACKER)

    statuses = [capture(lambda: client.post(url, {"token": token, "email": VICTIM})).status_code for _ in range(12)]

    assert statuses == [302] * 5 + [429] * 7
    assert sent_to() == [VICTIM] * 5
    assert OutgoingEmail.objects.count() == 5
    assert_refused_in_french(client.post(url, {"token": token, "email": VICTIM}))


def test_a_visitor_cannot_mail_resume_links_to_many_addresses(version, clock, capture):
    client, url, token = start_as_visitor(ATTACKER)
    addresses = [f"cible{n}@exemple.fr" for n in range(12)]

    statuses = [capture(lambda a=a: client.post(url, {"token": token, "email": a})).status_code for a in addresses]

    assert statuses == [302] * 10 + [429] * 2
    assert sent_to() == addresses[:10]


def test_the_limit_per_recipient_holds_whoever_sends(version, clock, capture):
    sent = []
    for ip in (ATTACKER, OTHER_ATTACKER):
        client, url, token = start_as_visitor(ip)
        data = {"token": token, "email": VICTIM}
        sent += [capture(client.post, url, data).status_code for _ in range(4)]

    assert sent == [302] * 5 + [429] * 3
    assert len(mail.outbox) == 5


def test_resume_links_may_be_sent_again_an_hour_later(version, clock, capture):
    client, url, token = start_as_visitor(ATTACKER)
    for _attempt in range(5):
        capture(lambda: client.post(url, {"token": token, "email": VICTIM}))
    refused = client.post(url, {"token": token, "email": VICTIM})

    clock.advance(timedelta(hours=1))
    again = capture(lambda: client.post(url, {"token": token, "email": VICTIM}))

    assert refused.status_code == 429
    assert again.status_code == 302
    assert len(mail.outbox) == 6


def test_a_signed_in_sender_is_counted_as_a_person_whatever_their_address(version, clock, capture):
    person = make_person("camille@exemple.fr", "Camille")
    statuses = []
    for n in range(11):
        client = Client(REMOTE_ADDR=f"192.0.2.{n + 1}")
        client.force_login(person)
        page = client.post(reverse("assessments:start"), follow=True)
        token = re.search(r"/reprendre/([A-Za-z0-9_-]+)/", page_text(page)).group(1)
        url = reverse("assessments:send_link", args=[page.redirect_chain[-1][0].split("/")[2]])
        statuses.append(capture(client.post, url, {"token": token, "email": f"c{n}@exemple.fr"}).status_code)

    assert statuses == [302] * 10 + [429]
    assert "camille@exemple.fr" in mail.outbox[0].body


def test_the_resume_link_mail_says_who_asked_and_what_to_do(version, clock, capture):
    client, url, token = start_as_visitor(ATTACKER)

    capture(lambda: client.post(url, {"token": token, "email": VICTIM}))

    (message,) = mail.outbox
    assert message.subject == "Votre lien pour reprendre votre positionnement"
    assert "votre adresse a été saisie sur la page d'un positionnement, par une personne non connectée" in message.body
    assert "Si vous n'avez rien demandé, ignorez ce message" in message.body


# --- Organisations: names chosen by the sender, invitations to anyone ------------------------------


@pytest.fixture
def signed_in(db) -> Client:
    client = Client(REMOTE_ADDR=ATTACKER)
    client.force_login(make_person("marie@exemple.fr", "Marie Dupont"))
    return client


def create_organisation(client: Client, name: str):
    return client.post(reverse("organisations:create"), {"name": name, "structure_type": "epci"})


@pytest.mark.parametrize("name", CONTROL_CHARACTERS.values(), ids=CONTROL_CHARACTERS.keys())
def test_an_organisation_name_with_a_control_character_is_refused(version, signed_in, name):
    response = create_organisation(signed_in, name)

    assert response.status_code == 400
    assert "écrivez-le sur une seule ligne, sans caractère spécial" in page_text(response)
    assert Organisation.objects.count() == 0


@pytest.mark.parametrize("name", WEB_ADDRESSES)
def test_an_organisation_name_with_a_web_address_is_refused(version, signed_in, name):
    response = create_organisation(signed_in, name)

    assert response.status_code == 400
    assert "Ce nom ne peut pas contenir d'adresse web" in page_text(response)
    assert Organisation.objects.count() == 0


@pytest.mark.parametrize("name", [*CONTROL_CHARACTERS.values(), *WEB_ADDRESSES])
def test_the_service_refuses_the_same_names(version, name):
    with pytest.raises(org_services.OrganisationError, match="« Nom » "):
        org_services.create_organisation(user=make_person("marie@exemple.fr"), name=name, structure_type="epci")

    assert Organisation.objects.count() == 0


def test_an_ordinary_name_with_accents_and_punctuation_is_accepted(version, signed_in):
    response = create_organisation(signed_in, "Communauté d'agglomération « Val-de-Loire » (37) — pôle ingénierie")

    assert response.status_code == 302
    assert Organisation.objects.get().name == "Communauté d'agglomération « Val-de-Loire » (37) — pôle ingénierie"


def facilitator_of(name: str, email: str = "marie@exemple.fr", display_name: str = "Marie Dupont") -> Membership:
    user = make_person(email, display_name)
    org = org_services.create_organisation(user=user, name=name, structure_type="epci")
    return Membership.objects.select_related("organisation", "user").get(organisation=org, user=user)


def invite(client: Client, membership: Membership, email: str):
    return client.post(reverse("organisations:invite", args=[membership.organisation.uuid]), {"email": email, "days": "7"})


def client_of(membership: Membership, ip: str = ATTACKER) -> Client:
    client = Client(REMOTE_ADDR=ip)
    client.force_login(membership.user)
    return client


def test_the_invitation_quotes_the_chosen_name_and_names_the_sender(version, capture):
    facilitator = facilitator_of(PHISHING)

    response = capture(lambda: invite(client_of(facilitator), facilitator, VICTIM))

    (message,) = mail.outbox
    assert response.status_code == 302
    assert message.subject == f"Invitation à rejoindre « {PHISHING[:SUBJECT_TEXT_MAX - 1].rstrip()}… » sur Grille, de la part de Marie Dupont"
    assert f"Marie Dupont vous invite à rejoindre « {PHISHING} » sur Grille" in message.body
    assert "Grille vous envoie ce message de la part de Marie Dupont (marie@exemple.fr), qui a saisi votre adresse" in message.body
    assert "Si vous ne la connaissez pas ou n'attendiez pas cette invitation, ignorez ce message" in message.body


def test_an_inviter_without_a_display_name_is_named_by_their_address(version, capture):
    facilitator = facilitator_of("Pays du Val", display_name="")

    capture(lambda: invite(client_of(facilitator), facilitator, VICTIM))

    assert "marie@exemple.fr vous invite à rejoindre « Pays du Val » sur Grille" in mail.outbox[0].body


def test_a_newline_saved_in_a_name_before_the_check_neither_fails_nor_forges_the_invitation(version, capture):
    # A name saved before names were checked (or by hand in the database).
    facilitator = facilitator_of("Pays du Val")
    Organisation.objects.filter(pk=facilitator.organisation_id).update(name="Pays\ndu Val\r\nBcc: tout@exemple.fr")
    facilitator.organisation.refresh_from_db()

    response = capture(lambda: invite(client_of(facilitator), facilitator, VICTIM))

    (message,) = mail.outbox
    assert response.status_code == 302
    assert message.subject == "Invitation à rejoindre « Pays du Val Bcc: tout@exemple.fr » sur Grille, de la part de Marie Dupont"
    assert message.to == [VICTIM]
    assert message.bcc == []
    assert "« Pays du Val Bcc: tout@exemple.fr »" in message.body
    assert Invitation.objects.filter(email=VICTIM).count() == 1


def test_a_signed_in_person_cannot_invite_more_than_50_addresses_an_hour(version, clock, capture):
    facilitator = facilitator_of("Pays du Val")
    client = client_of(facilitator)
    addresses = [f"cible{n}@exemple.fr" for n in range(55)]

    statuses = [capture(lambda a=a: invite(client, facilitator, a)).status_code for a in addresses]

    assert statuses == [302] * 50 + [429] * 5
    assert sent_to() == addresses[:50]
    assert OutgoingEmail.objects.count() == 50
    # Nothing saved past the limit: no invitation row that no e-mail announced.
    assert Invitation.objects.exclude(email="").count() == 50
    assert_refused_in_french(invite(client, facilitator, "encore@exemple.fr"))


def test_the_limit_per_sender_spans_all_their_organisations(version, clock, capture):
    first = facilitator_of("Pays du Val")
    second_org = org_services.create_organisation(user=first.user, name="Pays voisin", structure_type="epci")
    second = Membership.objects.select_related("organisation", "user").get(organisation=second_org, user=first.user)
    client = client_of(first)

    statuses = [capture(lambda n=n: invite(client, first, f"a{n}@exemple.fr")).status_code for n in range(30)]
    statuses += [capture(lambda n=n: invite(client, second, f"b{n}@exemple.fr")).status_code for n in range(30)]

    assert statuses == [302] * 50 + [429] * 10
    assert len(mail.outbox) == 50


def test_nobody_receives_more_than_3_invitations_an_hour(version, clock, capture):
    senders = [facilitator_of(f"Structure {n}", email=f"animation{n}@exemple.fr") for n in range(5)]

    statuses = [capture(lambda m=m: invite(client_of(m), m, VICTIM)).status_code for m in senders]

    assert statuses == [302] * 3 + [429] * 2
    assert sent_to() == [VICTIM] * 3
    assert Invitation.objects.filter(email=VICTIM).count() == 3


def test_the_invitation_limit_holds_in_the_service_too(version, clock):
    facilitator = facilitator_of("Pays du Val")
    for _attempt in range(3):
        org_services.create_invitation(membership=facilitator, email=VICTIM)

    with pytest.raises(ratelimit.RateLimited):
        org_services.create_invitation(membership=facilitator, email=VICTIM)

    assert Invitation.objects.filter(email=VICTIM).count() == 3


def test_an_invitation_without_an_address_sends_nothing_and_counts_nothing(version, clock, capture):
    facilitator = facilitator_of("Pays du Val")
    client = client_of(facilitator)

    statuses = [capture(lambda: invite(client, facilitator, "")).status_code for _ in range(60)]

    assert statuses == [302] * 60
    assert mail.outbox == []


# --- Sign-in links: asked for by their recipient, limited all the same -----------------------------


def test_sign_in_links_to_a_third_party_are_limited_per_address(db, capture):
    client = Client(REMOTE_ADDR=ATTACKER)

    statuses = [
        capture(lambda: client.post(reverse("accounts:login"), {"email": VICTIM})).status_code for _ in range(12)
    ]

    assert statuses == [200] * 5 + [429] * 7
    assert sent_to() == [VICTIM] * 5


# --- Studies: names mailed to every invitee ------------------------------------------------------------


@pytest.fixture
def analyst(db) -> Client:
    person = make_person("ana@exemple.fr", "Ana Lyste")
    person.user_permissions.add(Permission.objects.get(codename="run_studies"))
    client = Client()
    client.force_login(person)
    return client


def campaign_data(version, name: str) -> dict[str, str]:
    now = timezone.localtime()
    return {
        "name": name, "wave_year": "2026", "version": str(version.pk),
        "opens_at": now.strftime("%Y-%m-%dT%H:%M"), "closes_at": (now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"),
        "consent_text": "J'accepte.", "threshold": "5",
    }


@pytest.mark.parametrize(("name", "message"), [
    ("Étude\n2026", "écrivez-le sur une seule ligne"),
    ("Étude \u202e6202", "écrivez-le sur une seule ligne"),
    ("Étude www.exemple.com", "Ce nom ne peut pas contenir d'adresse web"),
])
def test_a_campaign_name_that_could_write_the_mailing_is_refused(version, analyst, name, message):
    response = analyst.post(reverse("studies:create"), campaign_data(version, name))

    assert response.status_code == 400
    assert message in page_text(response)
    assert Campaign.objects.count() == 0


def test_an_ordinary_campaign_name_is_accepted(version, analyst):
    response = analyst.post(reverse("studies:create"), campaign_data(version, "Étude « catalyseurs » 2026"))

    assert response.status_code == 302
    assert Campaign.objects.get().name == "Étude « catalyseurs » 2026"


def test_the_campaign_service_refuses_a_line_break(version):
    now = timezone.now()
    with pytest.raises(study_services.StudyError, match="Nom de la campagne : "):
        study_services.create_campaign(
            user=None, name="Étude\nBcc: x@exemple.fr", wave_year=2026, version=version,
            opens_at=now, closes_at=now + timedelta(days=30), consent_text="J'accepte.",
        )

    assert Campaign.objects.count() == 0


# --- The pieces -----------------------------------------------------------------------------------------


def test_single_line_keeps_a_subject_on_one_short_line():
    assert single_line("Pays\ndu\t Val\u2028\u202e") == "Pays du Val"
    assert single_line("abcdefghij", max_length=5) == "abcd…"
    assert single_line("abc", max_length=5) == "abc"


def test_the_mailed_name_validator_accepts_ordinary_french_names():
    for name in ("Pays de l'Aube", "CC « Cœur de Savoie »", "Syndicat mixte — SCoT 2030 (n° 4)", "Lac-Saint-Jean"):
        validate_mailed_name(name)
    with pytest.raises(ValidationError):
        validate_mailed_name("Pays\u2066de l'Aube")


def test_the_models_check_the_names_too_for_the_admin(version):
    facilitator = facilitator_of("Pays du Val")
    facilitator.organisation.name = "Pays\ndu Val"
    facilitator.user.display_name = "Marie\u202eDupont"

    with pytest.raises(ValidationError) as organisation_refused:
        facilitator.organisation.full_clean()
    with pytest.raises(ValidationError) as person_refused:
        facilitator.user.full_clean()

    assert list(organisation_refused.value.message_dict) == ["name"]
    assert list(person_refused.value.message_dict) == ["display_name"]


def test_the_limits_are_those_the_readme_states():
    hour = timedelta(hours=1)
    readme = Path(__file__).resolve().parents[2].joinpath("README.md").read_text(encoding="utf-8")

    assert (RESUME_LINK_MAILS.per_sender.limit, RESUME_LINK_MAILS.per_recipient.limit) == (10, 5)
    assert (INVITATION_MAILS.per_sender.limit, INVITATION_MAILS.per_recipient.limit) == (50, 3)
    assert {RESUME_LINK_MAILS.per_sender.window, RESUME_LINK_MAILS.per_recipient.window} == {hour}
    assert {INVITATION_MAILS.per_sender.window, INVITATION_MAILS.per_recipient.window} == {hour}
    assert "10 liens de reprise par expéditeur et 5 par adresse destinataire" in readme
    assert "50 invitations à une structure par personne et 3 par adresse destinataire" in readme


# Every place that has Grille send an e-mail, and why it may: a new one must be classed here.
MAIL_SENDERS = {
    "grille/accounts/services.py": "sign-in link, asked for by its recipient; limited per address and per client",
    "grille/assessments/views.py": "resume link to any address; RESUME_LINK_MAILS",
    "grille/organisations/services.py": "organisation invitation; INVITATION_MAILS",
    "grille/studies/services.py": "study mailing, by analysts the administration enabled only",
}


def test_every_path_that_sends_mail_is_classed():
    root = Path(__file__).resolve().parents[2]
    pattern = re.compile(r"\b(send_templated_mail|queue_mails|send_mail|send_mass_mail|EmailMessage|EmailMultiAlternatives)\(")
    found = {
        str(path.relative_to(root))
        for path in (root / "grille").rglob("*.py")
        if "/core/" not in str(path) and pattern.search(path.read_text(encoding="utf-8"))
    }

    assert found <= set(MAIL_SENDERS), found - set(MAIL_SENDERS)


def test_a_study_invitation_names_the_study_lead(version, capture):
    now = timezone.now()
    lead = make_person("lea@exemple.fr", "Léa Chercheuse")
    lead.user_permissions.add(Permission.objects.get(codename="run_studies"))
    campaign = study_services.create_campaign(
        user=lead, name="Étude des catalyseurs", wave_year=2026, version=version,
        opens_at=now, closes_at=now + timedelta(days=30), consent_text="J'accepte.",
    )
    study_services.import_invitees(campaign=campaign, raw=VICTIM.encode())

    capture(lambda: study_services.send_invitations(campaign=campaign))

    (message,) = mail.outbox
    assert message.subject == "Étude « Étude des catalyseurs » : votre participation"
    assert "de la part de Léa Chercheuse (lea@exemple.fr), qui mène cette étude" in message.body
    assert "Si vous n'attendiez pas ce message, ignorez-le" in message.body
