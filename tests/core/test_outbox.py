"""The e-mail outbox: a request never waits on the mail server, and the worker delivers,
retries with backoff, fails a refused recipient at once, and keeps to its rate."""

from __future__ import annotations

import os
import socket
import subprocess
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from grille.core import tasks
from grille.core.mail import MailKind, send_templated_mail
from grille.core.models import OutgoingEmail

Status = OutgoingEmail.Status

pytestmark = pytest.mark.django_db
# The real worker (db_worker) closes a connection left inside a transaction: its tests commit.
real_worker = pytest.mark.django_db(transaction=True)


def run_worker() -> None:
    call_command("worker", batch=True, verbosity=0)


def make_due() -> None:
    """As if the backoff had elapsed."""
    now = timezone.now()
    OutgoingEmail.objects.filter(status=Status.QUEUED).update(next_attempt_at=now)
    DBTaskResult.objects.filter(status="READY").update(run_after=now)


def queue(*addresses: str) -> list[OutgoingEmail]:
    for address in addresses:
        send_templated_mail(
            to=address, subject="Essai", template="accounts/email_login.txt",
            context={"url": "https://grille.exemple.fr/x/", "minutes": 30}, kind=MailKind.OTHER,
        )
    return list(OutgoingEmail.objects.order_by("id"))


@real_worker
def test_sign_in_answers_while_the_mail_server_is_down_and_the_link_leaves_once_it_is_up(
    client, smtp_sink, django_capture_on_commit_callbacks
):
    with override_settings(TASKS=django_settings.WORKER_TASKS):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("accounts:login"), {"email": "ana@exemple.fr"})
        assert response.status_code == 200
        assert "en route" in response.content.decode()
        run_worker()

        row = OutgoingEmail.objects.get()
        assert (row.kind, row.status, row.attempts, smtp_sink.received) == (MailKind.SIGN_IN, Status.QUEUED, 1, [])
        assert row.last_error.startswith("Le serveur de messagerie n'a pas pu être joint")
        assert 25 <= (row.next_attempt_at - timezone.now()).total_seconds() <= 31

        smtp_sink.start()
        make_due()
        run_worker()

    row.refresh_from_db()
    [received] = smtp_sink.to("ana@exemple.fr")
    assert (row.status, row.attempts, row.body, row.last_error) == (Status.SENT, 2, "", "")
    assert received.message_id == row.message_id
    assert "/connexion/lien/" in received.body


def test_with_the_immediate_backend_a_server_down_still_answers(client, smtp_sink, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:login"), {"email": "ana@exemple.fr"})

    assert response.status_code == 200
    assert OutgoingEmail.objects.get().status == Status.QUEUED


def test_transport_errors_back_off_exponentially_then_fail_with_a_french_reason(smtp_sink, settings):
    settings.GRILLE_MAIL_MAX_ATTEMPTS = 4
    [row] = queue("ana@exemple.fr")
    delays = []
    for _attempt in range(4):
        before = timezone.now()
        tasks.deliver_mail.call()
        row.refresh_from_db()
        delays.append(round((row.next_attempt_at - before).total_seconds() / 30) * 30)
        OutgoingEmail.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())

    assert delays[:3] == [30, 60, 120]
    assert (row.status, row.attempts) == (Status.FAILED, 4)
    assert row.last_error.startswith("Le serveur de messagerie n'a pas pu être joint après 4 tentatives")


def test_a_refused_recipient_fails_at_once_and_the_others_are_sent(smtp_sink):
    smtp_sink.refuse = {"inconnu@exemple.fr"}
    smtp_sink.start()
    queue("a@exemple.fr", "inconnu@exemple.fr", "b@exemple.fr")

    tasks.deliver_mail.call()

    states = dict(OutgoingEmail.objects.values_list("recipient", "status"))
    assert states == {"a@exemple.fr": Status.SENT, "inconnu@exemple.fr": Status.FAILED, "b@exemple.fr": Status.SENT}
    refused = OutgoingEmail.objects.get(recipient="inconnu@exemple.fr")
    assert refused.attempts == 1
    assert refused.last_error == "Adresse refusée par le serveur de messagerie : 550 5.1.1 Destinataire inconnu"
    assert smtp_sink.per_recipient() == {"a@exemple.fr": 1, "b@exemple.fr": 1}


@real_worker
def test_a_slow_server_gets_every_message_once(smtp_sink):
    smtp_sink.delay = 0.2
    smtp_sink.start()
    queue("a@exemple.fr", "b@exemple.fr", "c@exemple.fr")

    with override_settings(TASKS=django_settings.WORKER_TASKS):
        run_worker()

    assert smtp_sink.per_recipient() == {"a@exemple.fr": 1, "b@exemple.fr": 1, "c@exemple.fr": 1}
    assert set(OutgoingEmail.objects.values_list("status", flat=True)) == {Status.SENT}


@real_worker
def test_the_rate_is_kept_and_the_rest_waits_for_the_next_slice(smtp_sink, settings):
    settings.GRILLE_MAIL_PER_MINUTE = 12  # two per slice of ten seconds
    smtp_sink.start()
    queue("a@exemple.fr", "b@exemple.fr", "c@exemple.fr", "d@exemple.fr", "e@exemple.fr")

    with override_settings(TASKS=django_settings.WORKER_TASKS):
        run_worker()
        waiting = DBTaskResult.objects.filter(status="READY", task_path=tasks.deliver_mail.module_path)

        assert len(smtp_sink.received) == 2
        assert waiting.count() == 1
        assert 8 <= (waiting.get().run_after - timezone.now()).total_seconds() <= 10


@real_worker
def test_a_single_delivery_task_waits_however_many_e_mails_are_queued(smtp_sink, django_capture_on_commit_callbacks):
    with override_settings(TASKS=django_settings.WORKER_TASKS), django_capture_on_commit_callbacks(execute=True):
        queue("a@exemple.fr", "b@exemple.fr", "c@exemple.fr")

    assert DBTaskResult.objects.filter(task_path=tasks.deliver_mail.module_path).count() == 1


def test_a_subject_line_break_cannot_write_headers(smtp_sink):
    smtp_sink.start()
    send_templated_mail(to="a@exemple.fr", subject="Essai\nBcc: b@exemple.fr", template="accounts/email_login.txt",
                        context={"url": "x", "minutes": 30})

    tasks.deliver_mail.call()

    [received] = smtp_sink.received
    assert (received.recipients, received.message["Subject"], received.message["Bcc"]) == (
        ["a@exemple.fr"], "Essai Bcc: b@exemple.fr", None)


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


@real_worker
def test_the_worker_takes_back_what_a_killed_worker_had_claimed(smtp_sink):
    lost, busy = queue("lost@exemple.fr", "busy@exemple.fr")
    smtp_sink.start()
    host = socket.gethostname()[:40]
    claimed = timezone.now() - timedelta(seconds=5)
    OutgoingEmail.objects.filter(pk=lost.pk).update(status=Status.SENDING, claimed_at=claimed, claimed_by=f"{host}:{_dead_pid()}:x")
    # Still claimed by a live process (this test's parent): left alone until its lease expires.
    OutgoingEmail.objects.filter(pk=busy.pk).update(status=Status.SENDING, claimed_at=claimed, claimed_by=f"{host}:{os.getppid()}:x")
    task = DBTaskResult.objects.create(
        args_kwargs={"args": [], "kwargs": {}}, task_path=tasks.deliver_mail.module_path, queue_name="mail",
        backend_name="default", run_after=timezone.now(), status="RUNNING", worker_ids=[f"{host}:{_dead_pid()}:y"],
    )

    with override_settings(TASKS=django_settings.WORKER_TASKS):
        run_worker()

    task.refresh_from_db()
    assert task.status == "FAILED"
    assert smtp_sink.per_recipient() == {"lost@exemple.fr": 1}
    assert dict(OutgoingEmail.objects.values_list("recipient", "status")) == {
        "lost@exemple.fr": Status.SENT, "busy@exemple.fr": Status.SENDING,
    }
