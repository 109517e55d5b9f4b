"""Test settings: the real settings, with a dev key and fast password hashing."""

import os
import tempfile

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

# Tasks run at once, inside the request, unless a test asks for the real path: the e-mail and
# generated-file tests override TASKS with the database backend (WORKER_TASKS) and run the
# worker (`manage.py worker --batch`, or a real worker process that they kill).
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default", "mail", "files"]}}
WORKER_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "mail", "files"]}}

# Generated files (grille/files) go to a directory of this test run, never to var/media.
MEDIA_ROOT = tempfile.mkdtemp(prefix="grille-test-media-")
