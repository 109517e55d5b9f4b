"""A worker killed with SIGKILL in the middle of a study mailing, then started again: every
invitee gets exactly one invitation.

The worker is a real `manage.py worker` process on the test database, sending to a real SMTP
server in this process. The server kills the worker while it is sending message KILL_AT (before
accepting it, as a server whose client vanished does not deliver), so the kill always lands
mid-mailing: messages before it are sent, the one being sent and the rest of the claimed batch
are left "sending", the others queued. The window between the server's acceptance of a message
and the worker's write that it was sent cannot be closed from our side: a kill exactly there
would send that one message twice, with the same Message-ID (see grille/core/tasks.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission
from django.test import override_settings
from django.utils import timezone

from grille.core.models import OutgoingEmail
from grille.studies import services
from grille.studies.models import Invitee
from tests.factories import make_user
from tests.smtp_sink import SmtpSink

from .server import BASE_DIR, process_env

INVITEES = 300
KILL_AT = 120


def start_worker(sink: SmtpSink, log) -> subprocess.Popen:
    env = process_env(
        DJANGO_SETTINGS_MODULE="tests.reliability.worker_settings", GRILLE_TEST_SMTP_PORT=str(sink.port),
        GRILLE_MAIL_PER_MINUTE="1000000",
    )
    return subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--interval", "0.1"], cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
    )


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def campaign(transactional_db, version):
    analyst = make_user("ana@exemple.fr")
    analyst.user_permissions.add(Permission.objects.get(codename="run_studies"))
    now = timezone.now()
    return services.create_campaign(
        user=analyst, name="Étude nationale", wave_year=2024, version=version,
        opens_at=now - timedelta(days=2), closes_at=now + timedelta(days=30),
        consent_text="J'accepte que mes réponses servent à l'étude.", threshold=5,
    )


def test_a_worker_killed_mid_mailing_and_restarted_sends_each_invitation_exactly_once(campaign, tmp_path):
    services.import_invitees(campaign=campaign, raw="".join(f"p{i}@exemple.fr\n" for i in range(INVITEES)).encode())
    worker: list[subprocess.Popen] = []

    def kill_mid_mailing(number: int) -> bool:
        if number == KILL_AT:
            os.kill(worker[0].pid, signal.SIGKILL)
            return False
        return True

    sink = SmtpSink(delay=0.005, before_accept=kill_mid_mailing)
    sink.start()
    log = (tmp_path / "worker.log").open("wb")
    try:
        with override_settings(TASKS=django_settings.WORKER_TASKS):
            services.send_invitations(campaign=campaign)
        worker.append(start_worker(sink, log))
        assert worker[0].wait(timeout=30) == -signal.SIGKILL
        stuck = OutgoingEmail.objects.filter(status=OutgoingEmail.Status.SENDING).count()
        sent_before = OutgoingEmail.objects.filter(status=OutgoingEmail.Status.SENT).count()

        worker.append(start_worker(sink, log))
        done = wait_for(lambda: OutgoingEmail.objects.filter(status=OutgoingEmail.Status.SENT).count() == INVITEES, 30)
        worker[1].send_signal(signal.SIGTERM)
        worker[1].wait(timeout=10)
    finally:
        for process in worker:
            if process.poll() is None:
                process.kill()
                process.wait()
        log.close()
        sink.stop()

    assert sent_before == KILL_AT - 1 and stuck > 0, (tmp_path / "worker.log").read_text()
    assert done, (tmp_path / "worker.log").read_text()
    counts = sink.per_recipient()
    assert set(counts) == set(Invitee.objects.values_list("email", flat=True))
    assert set(counts.values()) == {1}
    assert len({received.message_id for received in sink.received}) == INVITEES
