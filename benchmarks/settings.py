"""Production settings for `make bench`: grille.settings as deployed (DEBUG off, manifest static
files, secure cookies' other settings unchanged), served by gunicorn on plain HTTP over loopback.

Only what loopback without TLS requires differs from production; everything else is imported.
"""

import os
from pathlib import Path

# grille.settings refuses to start without a secret outside development, as in production.
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-never-used-elsewhere-5f1c0d9e8a7b6c5d4e3f2a1b")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/grille_bench")
os.environ["DEBUG"] = "0"
os.environ.pop("GRILLE_DEV", None)

from grille.settings import *  # noqa: E402, F403
from grille.settings import DATABASES  # noqa: E402

DEBUG = False
SECRET_KEY = os.environ["SECRET_KEY"]
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = "benchmarks.urls"

if not DATABASES["default"]["NAME"] or DATABASES["default"]["NAME"].startswith("test"):
    raise RuntimeError("benchmarks.settings: the benchmark never runs on a test database")

# Plain HTTP on loopback: no redirect to HTTPS, and cookies a client sends back over HTTP
# (a Secure cookie would never come back, so no session and no CSRF token).
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

# collectstatic for the manifest storage goes here, not into var/static that `make run` may use.
STATIC_ROOT = Path(__file__).resolve().parent.parent / "var" / "bench-static"

# 4xx warnings of django.request are expected noise under load; errors still show.
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
