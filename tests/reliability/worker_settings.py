"""Settings of a real worker process started by a test: the test database (DATABASE_URL), the
database task backend, and the test's SMTP server (GRILLE_TEST_SMTP_PORT)."""

import os

from tests.settings import *  # noqa: F403

TASKS = WORKER_TASKS  # noqa: F405
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ["GRILLE_TEST_SMTP_PORT"])
EMAIL_USE_TLS = False
EMAIL_TIMEOUT = 10
