"""Rate limits on sign-in links, invitation and resume links, and API tokens.

Time is moved by replacing the limiter's clock, never by sleeping.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grille.accounts.services import create_api_token, send_login_link
from grille.assessments.services import start_assessment
from grille.core.models import RateLimitCounter
from grille.core.ratelimit import (
    BAD_API_TOKENS,
    BAD_INVITATION_LINKS,
    BAD_LOGIN_LINKS,
    BAD_RESUME_LINKS,
    BAD_STUDY_LINKS,
    LOGIN_LINKS_PER_EMAIL,
    LOGIN_LINKS_PER_IP,
    RateLimit,
    RateLimited,
    clear_expired,
)
from grille.organisations.services import create_invitation, create_organisation
from tests.organisations.conftest import make_person

from .test_access_matrix import check_headers

ATTACKER = "192.0.2.66"
NEIGHBOUR = "198.51.100.7"


def from_ip(ip: str) -> Client:
    return Client(REMOTE_ADDR=ip)


def assert_refused_in_french(response, *, wait_at_most: timedelta) -> None:
    page = html.unescape(response.content.decode())
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= wait_at_most.total_seconds()
    assert "Trop de tentatives" in page
    assert "Vous pourrez réessayer dans" in page
    assert check_headers(response, private=True, signed_in=False) == []


# --- The limiter ----------------------------------------------------------------------------------


def test_limit_refuses_exactly_the_attempt_after_the_limit(db, clock):
    limit = RateLimit("essai", 3, timedelta(minutes=10))

    allowed = []
    for _attempt in range(3):
        limit.check("203.0.113.1")
        limit.hit("203.0.113.1")
        allowed.append(True)
    with pytest.raises(RateLimited) as refused:
        limit.check("203.0.113.1")

    assert allowed == [True, True, True]
    assert refused.value.retry_after == 600
    assert refused.value.minutes == 10


def test_window_counts_from_the_first_attempt_and_then_resets(db, clock):
    limit = RateLimit("essai", 2, timedelta(minutes=10))
    limit.hit("a")
    clock.advance(timedelta(minutes=4))
    limit.hit("a")

    clock.advance(timedelta(minutes=5))
    still = limit.retry_after("a")
    clock.advance(timedelta(minutes=1))
    after = limit.retry_after("a")
    limit.hit("a")

    assert still == 60
    assert after == 0
    assert RateLimitCounter.objects.get().count == 1


def test_each_identifier_and_each_limit_counts_apart(db, clock):
    one = RateLimit("un", 1, timedelta(minutes=10))
    other = RateLimit("autre", 1, timedelta(minutes=10))
    one.hit("a")

    assert one.retry_after("a") == 600
    assert one.retry_after("b") == 0
    assert other.retry_after("a") == 0


def test_counters_keep_no_address_or_email_in_clear(db, clock):
    LOGIN_LINKS_PER_EMAIL.hit("Camille@Exemple.fr")
    LOGIN_LINKS_PER_IP.hit("203.0.113.9")

    keys = list(RateLimitCounter.objects.values_list("key", flat=True))
    assert len(keys) == 2
    assert not any("exemple" in key.lower() or "203.0.113" in key for key in keys)
    # The same address however it is written.
    assert LOGIN_LINKS_PER_EMAIL.key("camille@exemple.fr ") == LOGIN_LINKS_PER_EMAIL.key("Camille@Exemple.fr")


def test_expired_counters_are_deleted(db, clock):
    limit = RateLimit("essai", 5, timedelta(minutes=10))
    limit.hit("ancien")
    clock.advance(timedelta(minutes=11))

    limit.hit("nouveau")  # a new counter sweeps the closed ones away

    assert list(RateLimitCounter.objects.values_list("count", flat=True)) == [1]
    limit.hit("nouveau")
    clock.advance(timedelta(minutes=11))
    assert clear_expired() == 1
    assert RateLimitCounter.objects.count() == 0


# --- Sign-in links ------------------------------------------------------------------------------


def ask_link(client: Client, email: str):
    return client.post(reverse("accounts:login"), {"email": email})


def test_sign_in_links_are_limited_per_email_address(db, clock, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(LOGIN_LINKS_PER_EMAIL.limit):
            assert ask_link(from_ip(f"203.0.113.{n}"), "camille@exemple.fr").status_code == 200

        refused = ask_link(from_ip(NEIGHBOUR), "Camille@exemple.fr")
        other_address = ask_link(from_ip(NEIGHBOUR), "dominique@exemple.fr")

    assert_refused_in_french(refused, wait_at_most=LOGIN_LINKS_PER_EMAIL.window)
    assert other_address.status_code == 200
    # Sent e-mails: the links within the limit and the other address's, never the refused one.
    assert [m.to[0] for m in mail.outbox] == ["camille@exemple.fr"] * LOGIN_LINKS_PER_EMAIL.limit + ["dominique@exemple.fr"]
    clock.advance(LOGIN_LINKS_PER_EMAIL.window)
    assert ask_link(from_ip(NEIGHBOUR), "camille@exemple.fr").status_code == 200


def test_sign_in_links_are_limited_per_client_address(db, clock):
    attacker = from_ip(ATTACKER)
    for n in range(LOGIN_LINKS_PER_IP.limit):
        assert ask_link(attacker, f"personne{n}@exemple.fr").status_code == 200

    refused = ask_link(attacker, "encore@exemple.fr")
    neighbour = ask_link(from_ip(NEIGHBOUR), "encore@exemple.fr")

    assert_refused_in_french(refused, wait_at_most=LOGIN_LINKS_PER_IP.window)
    assert neighbour.status_code == 200
    clock.advance(LOGIN_LINKS_PER_IP.window)
    assert ask_link(attacker, "encore@exemple.fr").status_code == 200


def test_the_refusal_says_nothing_about_whether_an_account_exists(db, clock):
    make_person("inscrite@exemple.fr")
    pages = {}
    for email in ("inscrite@exemple.fr", "inconnue@exemple.fr"):
        for _attempt in range(LOGIN_LINKS_PER_EMAIL.limit):
            ask_link(from_ip(NEIGHBOUR), email)
        pages[email] = ask_link(from_ip(NEIGHBOUR), email)

    known, unknown = pages.values()
    assert (known.status_code, unknown.status_code) == (429, 429)
    assert panel(known) == panel(unknown)
    assert "Trop de tentatives" in panel(known)
    assert known["Retry-After"] == unknown["Retry-After"]


def test_the_proxy_forwarded_address_is_the_one_limited(db, clock, settings):
    settings.GRILLE_TRUSTED_PROXIES = 1
    proxy = Client(REMOTE_ADDR="127.0.0.1")
    for n in range(LOGIN_LINKS_PER_IP.limit):
        proxy.post(reverse("accounts:login"), {"email": f"p{n}@exemple.fr"}, HTTP_X_FORWARDED_FOR=ATTACKER)

    attacker = proxy.post(reverse("accounts:login"), {"email": "x@exemple.fr"}, HTTP_X_FORWARDED_FOR=ATTACKER)
    other = proxy.post(reverse("accounts:login"), {"email": "x@exemple.fr"}, HTTP_X_FORWARDED_FOR=NEIGHBOUR)

    assert (attacker.status_code, other.status_code) == (429, 200)


def panel(response) -> str:
    """The page's message, without what changes on every answer (the forms' CSRF tokens)."""
    page = response.content.decode()
    return page[page.index('<div class="panel">'):page.index("</main>") if "</main>" in page else None]


# --- Links tried at random ---------------------------------------------------------------------


def mailed_login_link(capture_on_commit) -> str:
    """Ask for a sign-in link and return the local path of the one the e-mail carries."""
    with capture_on_commit(execute=True):
        send_login_link(email="camille@exemple.fr")
    return urlsplit(re.search(r"https?://\S+/connexion/lien/\S+/", mail.outbox[-1].body).group(0)).path


@pytest.fixture
def login_link(db, django_capture_on_commit_callbacks) -> str:
    return mailed_login_link(django_capture_on_commit_callbacks)


@pytest.fixture
def invitation_link(version) -> str:
    user = make_person("alice@exemple.fr")
    organisation = create_organisation(user=user, name="Val", structure_type="epci")
    _invitation, raw = create_invitation(membership=organisation.memberships.get())
    return reverse("organisations:join", args=[raw])


@pytest.fixture
def resume_link(version) -> str:
    _assessment, raw = start_assessment(version=version)
    return reverse("assessments:resume", args=[raw])


@pytest.fixture
def study_open_link(version) -> str:
    from grille.studies import services as study_services

    analyst = make_person("ana@exemple.fr")
    analyst.user_permissions.add(Permission.objects.get(codename="run_studies"))
    now = timezone.now()
    campaign = study_services.create_campaign(
        user=analyst, name="Étude", wave_year=2024, version=version,
        opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=30),
        consent_text="J'accepte.", threshold=5,
    )
    return reverse("studies:open", args=[study_services.create_open_link(campaign=campaign)])


LINKS = [
    ("accounts:login_confirm", "login_link", BAD_LOGIN_LINKS, 200),
    ("organisations:join", "invitation_link", BAD_INVITATION_LINKS, 200),
    ("assessments:resume", "resume_link", BAD_RESUME_LINKS, 302),
    ("studies:open", "study_open_link", BAD_STUDY_LINKS, 200),
]


def test_unknown_invitations_to_a_study_are_limited_too(db, clock):
    attacker = from_ip(ATTACKER)
    misses = [attacker.get(reverse("studies:invited", args=[f"mauvais-{n}"])).status_code for n in range(BAD_STUDY_LINKS.limit)]

    refused = attacker.get(reverse("studies:invited", args=["mauvais-encore"]))

    assert misses == [404] * BAD_STUDY_LINKS.limit
    assert_refused_in_french(refused, wait_at_most=BAD_STUDY_LINKS.window)


@pytest.mark.parametrize(("name", "fixture", "limit", "good_status"), LINKS, ids=[link[0] for link in LINKS])
def test_unknown_links_are_limited_per_client_address(request, clock, name, fixture, limit, good_status):
    good = request.getfixturevalue(fixture)
    attacker = from_ip(ATTACKER)
    misses = [attacker.get(reverse(name, args=[f"mauvais-{n}"])).status_code for n in range(limit.limit)]

    refused = attacker.get(reverse(name, args=["mauvais-encore"]))
    good_from_attacker = attacker.get(good)
    good_from_elsewhere = from_ip(NEIGHBOUR).get(good)
    clock.advance(limit.window)
    good_later = attacker.get(good)

    assert misses == [404] * limit.limit
    assert_refused_in_french(refused, wait_at_most=limit.window)
    assert "Trop de liens invalides" in html.unescape(refused.content.decode())
    # Only failures are refused (issue 13): the valid link still works from the locked-out address.
    assert good_from_attacker.status_code == good_status
    assert good_from_elsewhere.status_code == good_status
    assert good_later.status_code == good_status


@pytest.mark.parametrize(("name", "fixture", "limit", "good_status"), LINKS, ids=[link[0] for link in LINKS])
def test_valid_links_do_not_count_as_failures(request, clock, name, fixture, limit, good_status):
    good = request.getfixturevalue(fixture)
    client = from_ip(NEIGHBOUR)

    statuses = {client.get(good).status_code for _attempt in range(limit.limit + 1)}

    assert statuses == {good_status}


def test_a_used_login_link_is_not_counted_as_a_guess(db, clock, django_capture_on_commit_callbacks):
    url = mailed_login_link(django_capture_on_commit_callbacks)
    client = from_ip(NEIGHBOUR)
    assert client.post(url).status_code == 302

    statuses = {from_ip(NEIGHBOUR).get(url).status_code for _attempt in range(BAD_LOGIN_LINKS.limit + 1)}

    assert statuses == {410}


# --- API tokens -----------------------------------------------------------------------------------


def test_api_token_failures_reset_after_the_window(db, clock):
    user = make_person("camille@exemple.fr")
    _token, raw = create_api_token(user=user, name="Script")
    api = from_ip(ATTACKER)
    for _attempt in range(BAD_API_TOKENS.limit):
        assert api.get("/api/v1/positionnements", HTTP_AUTHORIZATION="Bearer mauvais").status_code == 401

    refused = api.get("/api/v1/positionnements", HTTP_AUTHORIZATION="Bearer mauvais")
    valid_meanwhile = api.get("/api/v1/positionnements", HTTP_AUTHORIZATION=f"Bearer {raw}")
    clock.advance(timedelta(minutes=9, seconds=30))
    almost = api.get("/api/v1/positionnements", HTTP_AUTHORIZATION="Bearer mauvais")
    clock.advance(timedelta(seconds=30))
    later = api.get("/api/v1/positionnements", HTTP_AUTHORIZATION="Bearer mauvais")

    assert refused.status_code == 429
    assert refused["Retry-After"] == "600"
    assert valid_meanwhile.status_code == 200
    assert (almost.status_code, almost["Retry-After"]) == (429, "30")
    assert later.status_code == 401
