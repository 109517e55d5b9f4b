"""Test settings: the real settings, with a dev key and fast password hashing."""

import os

os.environ.setdefault("GRILLE_DEV", "1")

from grille.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
