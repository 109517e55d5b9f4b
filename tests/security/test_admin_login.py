"""Passwords of the admin cannot be guessed without end: failed sign-ins are throttled per account
and per client address, and the admin's address is configurable.

Time is moved by replacing the limiter's clock, never by sleeping.
"""

from __future__ import annotations

import html
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from grille.accounts.models import User
from grille.core.ratelimit import ADMIN_SIGN_IN_FAILURES_PER_ACCOUNT, ADMIN_SIGN_IN_FAILURES_PER_IP

from .test_access_matrix import check_headers

ROOT = Path(__file__).resolve().parent.parent.parent
ATTACKER = "192.0.2.66"
PASSWORD = "un-mot-de-passe-solide-42"


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_superuser("admin@exemple.fr", PASSWORD)


def sign_in(client: Client, email: str, password: str):
    return client.post(reverse("admin:login"), {"username": email, "password": password, "next": reverse("admin:index")})


def assert_refused_in_french(response) -> None:
    page = html.unescape(response.content.decode())
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    assert "Trop de tentatives" in page
    assert "Vous pourrez réessayer dans" in page
    assert check_headers(response, private=True, signed_in=False) == []


def test_guessing_an_admin_password_is_stopped_even_with_the_right_one(staff, clock):
    attacker = Client(REMOTE_ADDR=ATTACKER)
    wrong = [sign_in(attacker, staff.email, f"essai-{n}").status_code for n in range(25)]
    right = sign_in(attacker, staff.email, PASSWORD)

    # The first failures get the form again; past the limit, every attempt is refused.
    limit = ADMIN_SIGN_IN_FAILURES_PER_ACCOUNT.limit
    assert wrong[:limit] == [200] * limit
    assert set(wrong[limit:]) == {429}
    assert_refused_in_french(right)
    assert "_auth_user_id" not in attacker.session
    assert attacker.get(reverse("admin:index")).status_code == 302


def test_the_account_lock_holds_from_another_address_and_lifts_after_the_window(staff, clock):
    for n in range(ADMIN_SIGN_IN_FAILURES_PER_ACCOUNT.limit):
        sign_in(Client(REMOTE_ADDR=f"203.0.113.{n + 1}"), staff.email, f"essai-{n}")
    elsewhere = Client(REMOTE_ADDR="198.51.100.7")

    assert_refused_in_french(sign_in(elsewhere, staff.email, PASSWORD))
    clock.advance(ADMIN_SIGN_IN_FAILURES_PER_ACCOUNT.window + timedelta(seconds=1))
    response = sign_in(elsewhere, staff.email, PASSWORD)
    assert response.status_code == 302
    assert elsewhere.get(reverse("admin:index")).status_code == 200


def test_one_address_trying_many_accounts_is_stopped(staff, clock):
    attacker = Client(REMOTE_ADDR=ATTACKER)
    statuses = [
        sign_in(attacker, f"personne{n}@exemple.fr", "essai").status_code
        for n in range(ADMIN_SIGN_IN_FAILURES_PER_IP.limit + 1)
    ]

    assert statuses == [200] * ADMIN_SIGN_IN_FAILURES_PER_IP.limit + [429]
    assert_refused_in_french(sign_in(attacker, staff.email, PASSWORD))
    # Someone else's address is not locked out.
    assert sign_in(Client(REMOTE_ADDR="198.51.100.7"), staff.email, PASSWORD).status_code == 302


def test_only_failures_count(staff, clock):
    client = Client(REMOTE_ADDR=ATTACKER)
    for _attempt in range(ADMIN_SIGN_IN_FAILURES_PER_ACCOUNT.limit + 2):
        assert sign_in(client, staff.email, PASSWORD).status_code == 302
        client.logout()

    assert client.get(reverse("admin:login")).status_code == 200


def admin_index_with(env: dict[str, str]) -> str:
    script = "import django; django.setup(); from django.urls import reverse; print(reverse('admin:index'))"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "grille.settings", "GRILLE_DEV": "1", **env},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_admin_address_is_configurable():
    assert admin_index_with({}) == "/admin/"
    assert admin_index_with({"GRILLE_ADMIN_PATH": "gestion-7f3a"}) == "/gestion-7f3a/"
    assert admin_index_with({"GRILLE_ADMIN_PATH": "/interne/gestion/"}) == "/interne/gestion/"
