"""Test settings: the real settings, with a dev key and fast password hashing."""

import os

os.environ.setdefault("GRILLE_DEV", "1")

from grille.settings import *  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# A file, not memory, for SQLite: threads and the live server then use their
# own connections with real locking, as `make run` does.
# Named after the process, so that two test runs on one machine never share a database.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / f"test-grille-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_grille_{os.getpid()}"}

# The host of Django's test client, so that a link read from an e-mail opens with the client;
# the browser journeys point it at their live server.
SITE_URL = "http://testserver"
