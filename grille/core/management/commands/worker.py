"""The task worker: `manage.py worker` runs the queued tasks (e-mails, generated files).

It is django-tasks-db's `db_worker` on every queue, started by `make run` beside the web server
and run as a second process in production (README). On start it first recovers from a worker
that was killed: e-mails it had claimed go back to the queue, its running tasks are marked failed,
and a delivery task is queued if any e-mail is waiting.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils.crypto import get_random_string

from grille.core.models import OutgoingEmail
from grille.core.tasks import (
    recover_lost_tasks,
    recover_stalled_mail,
    schedule_delivery,
    worker_identity,
)


class Command(BaseCommand):
    help = "Exécute les tâches en attente (e-mails, fichiers générés) ; Ctrl+C pour arrêter."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--batch", action="store_true", help="Exécute les tâches en attente, puis s'arrête.")
        parser.add_argument("--interval", type=float, default=1.0, help="Secondes entre deux recherches de tâches.")

    def handle(self, *args: Any, **options: Any) -> None:
        recover_lost_tasks()
        recover_stalled_mail(at_startup=True)
        if OutgoingEmail.objects.filter(status=OutgoingEmail.Status.QUEUED).exists():
            schedule_delivery()
        call_command(
            "db_worker", queue_name="*", batch=options["batch"], interval=options["interval"],
            startup_delay=False, reload=False, verbosity=options["verbosity"],
            # host:pid first, so that the next worker can tell that this one is gone.
            worker_id=f"{worker_identity()}:{get_random_string(8)}",
        )
