"""Absolute links in e-mails come from the site's address (SITE_URL), never from a request."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from grille.accounts.services import send_login_link
from grille.core.links import absolute_url

ROOT = Path(__file__).resolve().parents[2]


def site_url_of(env: dict[str, str]) -> str:
    """SITE_URL as grille.settings computes it in a process with only these variables."""
    base = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}
    result = subprocess.run(
        [sys.executable, "-c", "import grille.settings as s; print(s.SITE_URL)"],
        cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60, check=True,
    )
    return result.stdout.strip()


def test_absolute_url_puts_the_path_after_the_site_address(settings):
    settings.SITE_URL = "https://grille.exemple.fr/"

    assert absolute_url("/connexion/lien/abc/") == "https://grille.exemple.fr/connexion/lien/abc/"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"GRILLE_DEV": "1"}, "http://127.0.0.1:8000"),
        ({"GRILLE_DEV": "1", "PORT": "8080"}, "http://127.0.0.1:8080"),
        ({"SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": ".exemple.fr,grille.exemple.org"}, "https://exemple.fr"),
        ({"SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "*", "SITE_URL": "https://grille.exemple.fr/"}, "https://grille.exemple.fr"),
    ],
)
def test_site_url_defaults_to_the_served_address(env, expected):
    assert site_url_of(env) == expected


def test_sign_in_link_is_on_the_site_address(db, settings, mailoutbox, django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://grille.exemple.fr"

    with django_capture_on_commit_callbacks(execute=True):
        send_login_link(email="camille@exemple.fr")

    assert re.search(r"https://grille\.exemple\.fr/connexion/lien/[\w-]+/\n", mailoutbox[0].body)

