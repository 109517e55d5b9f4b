"""Development settings never meet a production environment: the settings refuse to load.

Development settings are GRILLE_DEV or DEBUG on (which bring the public development key and turn
HTTPS off), or that public key itself. A production environment is a host name other than a local
one in ALLOWED_HOSTS (or « * »), or a database on another machine. Each case runs
`import grille.settings` in a fresh process with only the variables given.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
DEV_KEY = "dev-only-insecure-key-not-for-production-0123456789abcdefghijklmnop"
PRODUCTION_DB = "postgres://grille:motdepasse@db.exemple.fr:5432/grille"
PRINT = "import grille.settings as s; print(s.SECRET_KEY == s.DEV_SECRET_KEY, s.__dict__.get('SECURE_SSL_REDIRECT'))"


def load_settings(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}
    base["DATABASE_URL"] = f"sqlite:///{tmp_path / 'guard.sqlite3'}"
    return subprocess.run(
        [sys.executable, "-c", PRINT], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60,
    )


@pytest.mark.parametrize(
    "env",
    [
        # The probe's case: a production server started with GRILLE_DEV=1.
        {"GRILLE_DEV": "1", "ALLOWED_HOSTS": "grille.exemple.fr"},
        {"GRILLE_DEV": "1", "ALLOWED_HOSTS": "grille.exemple.fr", "SECRET_KEY": secrets.token_urlsafe(50)},
        {"GRILLE_DEV": "1", "ALLOWED_HOSTS": "*", "SITE_URL": "https://grille.exemple.fr"},
        {"DEBUG": "1", "ALLOWED_HOSTS": "localhost,grille.exemple.fr"},
        {"GRILLE_DEV": "1", "DATABASE_URL": PRODUCTION_DB},
        {"GRILLE_DEV": "1", "DEBUG": "0", "DATABASE_URL": PRODUCTION_DB},
        # The public key, copied into a production configuration.
        {"SECRET_KEY": DEV_KEY, "ALLOWED_HOSTS": "grille.exemple.fr", "DEBUG": "0"},
        {"SECRET_KEY": secrets.token_urlsafe(50), "SECRET_KEY_FALLBACKS": DEV_KEY, "ALLOWED_HOSTS": "grille.exemple.fr"},
    ],
)
def test_development_settings_in_production_refuse_to_start(tmp_path, env):
    result = load_settings(tmp_path, **env)

    assert result.returncode != 0, result.stdout
    assert "ImproperlyConfigured" in result.stderr
    assert "développement" in result.stderr


@pytest.mark.parametrize(
    "env",
    [
        {"GRILLE_DEV": "1"},  # make run
        {"DEBUG": "1", "ALLOWED_HOSTS": "localhost,127.0.0.1,[::1],.localhost"},
        # CI, tests/reliability (gunicorn) and the benchmarks: a local PostgreSQL, DEBUG off.
        {"GRILLE_DEV": "1", "DEBUG": "0", "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test"},
        {"GRILLE_DEV": "1", "DATABASE_URL": "postgres://postgres@localhost/test"},
        {"GRILLE_DEV": "1", "DATABASE_URL": "postgres://postgres@%2Fvar%2Frun%2Fpostgresql/test"},
    ],
)
def test_development_settings_start_on_a_development_machine(tmp_path, env):
    result = load_settings(tmp_path, **env)

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.split() == ["True", "None"]


def test_production_settings_start_with_https_on(tmp_path):
    result = load_settings(tmp_path, SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="grille.exemple.fr")

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.split() == ["False", "True"]
