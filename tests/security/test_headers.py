"""Security headers on every kind of answer, error pages included, and HTTPS in production.

tests/security/test_access_matrix.py checks the same headers on every page of the site for each
role; here are the answers that no URL of the matrix gives: errors, refusals, the API docs, and
the production settings (HSTS, `check --deploy`).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from grille.accounts.services import consume_login_link
from grille.core.middleware import CONTENT_SECURITY_POLICY

from .test_access_matrix import check_headers

ROOT = Path(__file__).resolve().parents[2]


def test_policy_forbids_inline_script_and_framing():
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))

    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_error_pages_carry_the_security_headers(world):
    facilitator_refused = world.clients["member"].post(reverse("organisations:invite", args=[world.org.uuid]), {"email": "", "days": "7"})
    used_link = reverse("accounts:login_confirm", args=[world.login_raw])
    consume_login_link(raw=world.login_raw)
    csrf_checked = Client(enforce_csrf_checks=True)
    answers = {
        404: Client().get("/nulle-part/"),
        403: facilitator_refused,
        410: Client().get(used_link),
        "403 csrf": csrf_checked.post(reverse("accounts:login"), {"email": "a@exemple.fr"}),
        "404 api": Client().get("/api/v1/nulle-part"),
        "405": Client().get(reverse("accounts:logout")),
    }

    problems = {
        label: (response.status_code, check_headers(response, private=False, signed_in=False))
        for label, response in answers.items()
    }

    assert problems == {
        404: (404, []), 403: (403, []), 410: (410, []), "403 csrf": (403, []), "404 api": (404, []), "405": (405, []),
    }


@pytest.mark.urls("tests.security.urls_failing")
def test_the_500_page_carries_the_security_headers(db):
    response = Client(raise_request_exception=False).get("/panne/")

    assert response.status_code == 500
    assert "Une erreur est survenue" in response.content.decode()
    assert check_headers(response, private=False, signed_in=False) == []


def test_api_docs_page_keeps_the_strict_policy(db):
    response = Client().get("/api/v1/docs")

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert check_headers(response, private=False, signed_in=False) == []


def test_static_files_carry_the_policy_and_nosniff(db):
    response = Client().get("/static/grille/autosave.js")
    response.close()  # a file answer: its file is closed once read

    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


# --- Production settings -------------------------------------------------------------------------


def production_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a production server: no GRILLE_DEV, a long random key, a host name."""
    # Only what a server has: the tests' own variables (GRILLE_DEV, DJANGO_ALLOW_ASYNC_UNSAFE) stay out.
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}
    env.update({
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "grille.exemple.fr",
        "DEBUG": "0",
        "DJANGO_SETTINGS_MODULE": "grille.settings",
        # Nothing here reaches a database; a file of its own keeps the real one out of reach.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'production.sqlite3'}",
    })
    return env


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=production_env(tmp_path), capture_output=True, text=True, timeout=120,
    )

    assert (result.returncode, result.stderr) == (0, "")
    assert "System check identified no issues" in result.stdout


PRODUCTION_REQUESTS = """
import django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="grille.exemple.fr")
# An answer that needs neither a database nor collected static files.
secure = client.get("/api/v1/openapi.json", secure=True)
plain = client.get("/api/v1/openapi.json")
print(secure.status_code, secure.get("Strict-Transport-Security"))
print(plain.status_code, plain.get("Location"), plain.get("Strict-Transport-Security"))
"""


def test_production_sends_hsts_over_https_and_redirects_plain_http(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_REQUESTS],
        cwd=ROOT, env=production_env(tmp_path), capture_output=True, text=True, timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "200 max-age=31536000; includeSubDomains; preload",
        "301 https://grille.exemple.fr/api/v1/openapi.json None",
    ]
