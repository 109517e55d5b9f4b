"""Run a management command in its own process, with the fault named by GRILLE_FAULT.

python -m tests.reliability.command <command> [arguments...]
"""

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from tests.reliability import faults  # noqa: E402

faults.install()
faults.current = os.environ.get("GRILLE_FAULT", "")
# A worker started by a test: the database queue, and the test's directory for generated files.
if os.environ.get("GRILLE_WORKER_TASKS"):
    override_settings(TASKS=settings.WORKER_TASKS).enable()
if media_root := os.environ.get("GRILLE_MEDIA_ROOT"):
    override_settings(MEDIA_ROOT=media_root).enable()
call_command(*sys.argv[1:])
