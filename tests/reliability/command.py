"""Run a management command in its own process, with the fault named by GRILLE_FAULT.

python -m tests.reliability.command <command> [arguments...]
"""

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
django.setup()

from django.core.management import call_command  # noqa: E402

from tests.reliability import faults  # noqa: E402

faults.install()
faults.current = os.environ.get("GRILLE_FAULT", "")
call_command(*sys.argv[1:])
