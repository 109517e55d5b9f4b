"""The outbox's delivery: a task on the "mail" queue sends the e-mails that are due.

A row is claimed (status "sending", committed) before the mail server is spoken to, and marked
sent right after it accepted the message; a worker killed in between leaves it "sending", and the
next worker puts it back in the queue (recover_stalled_mail). A transport error is retried with
exponential backoff; a recipient the server refuses fails at once, with the reason in French.
The rate is GRILLE_MAIL_PER_MINUTE, shared by every worker since it is counted in the database.
"""

from __future__ import annotations

import logging
import math
import os
import smtplib
import socket
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import Min, Q
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from django_tasks import task
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult, get_date_max

from .models import OutgoingEmail

logger = logging.getLogger(__name__)

Status = OutgoingEmail.Status

WINDOW = 10  # seconds: the rate is kept per slice of this length, so a mailing flows evenly
CHUNK = 200  # rows claimed at once: at most this many wait for recovery after a crash
RUN_SECONDS = 20  # a delivery task then hands over, so that other queued tasks are not held up
# A row claimed longer ago than this, by a worker we cannot see (another machine), is taken back.
LEASE = timedelta(minutes=10)
BACKOFF_BASE = 30  # seconds, doubled at each attempt
BACKOFF_MAX = 3600


def worker_identity() -> str:
    """host:pid of this process, recorded on what it claims, so a restart can tell it is gone."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def _is_dead(claimer: str, *, own_pid_is_dead: bool) -> bool:
    """Whether the process that claimed something is known to be gone (on this machine only)."""
    host, _sep, rest = claimer.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname()[:40] or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return own_pid_is_dead
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def recover_stalled_mail(*, at_startup: bool = False) -> int:
    """Put back in the queue the rows claimed by a worker that is gone (killed mid-mailing)."""
    stalled = OutgoingEmail.objects.filter(status=Status.SENDING)
    lost = [
        claimer for claimer in stalled.values_list("claimed_by", flat=True).distinct()
        if _is_dead(claimer, own_pid_is_dead=at_startup)
    ]
    now = timezone.now()
    return stalled.filter(Q(claimed_by__in=lost) | Q(claimed_at__lt=now - LEASE)).update(
        status=Status.QUEUED, next_attempt_at=now, claimed_by="",
    )


def recover_lost_tasks() -> int:
    """Mark failed the tasks left running by a worker that was killed: nothing waits on them."""
    lost = [
        result for result in DBTaskResult.objects.filter(status="RUNNING")
        if result.worker_ids and _is_dead(result.worker_ids[-1], own_pid_is_dead=True)
    ]
    for result in lost:
        result.set_failed(WorkerLost(f"worker {result.worker_ids[-1]} is gone"))
    return len(lost)


class WorkerLost(Exception):
    """The worker running a task was killed."""


def _per_window() -> int:
    return max(1, math.ceil(settings.GRILLE_MAIL_PER_MINUTE * WINDOW / 60))


def _budget(now: datetime) -> int:
    used = OutgoingEmail.objects.filter(claimed_at__gt=now - timedelta(seconds=WINDOW)).count()
    return _per_window() - used


def _claim(limit: int) -> list[OutgoingEmail]:
    token = f"{worker_identity()}:{get_random_string(8)}"
    now = timezone.now()
    with transaction.atomic():
        due = OutgoingEmail.objects.filter(status=Status.QUEUED, next_attempt_at__lte=now).order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("id", flat=True)[:limit])
        # Only rows still queued: on SQLite, where rows are not locked, a second worker's claim
        # of the same rows then changes nothing.
        OutgoingEmail.objects.filter(id__in=ids, status=Status.QUEUED).update(
            status=Status.SENDING, claimed_at=now, claimed_by=token,
        )
    return list(OutgoingEmail.objects.filter(claimed_by=token, status=Status.SENDING).order_by("id"))


def _reason(exc: BaseException) -> str:
    detail = str(exc) or exc.__class__.__name__
    return detail[:300]


def _retry(row: OutgoingEmail, exc: BaseException) -> None:
    attempts = row.attempts + 1
    now = timezone.now()
    update: dict[str, object]
    if attempts >= settings.GRILLE_MAIL_MAX_ATTEMPTS:
        update = {"status": Status.FAILED, "last_error": _(
            "Le serveur de messagerie n'a pas pu être joint après %(n)d tentatives : %(detail)s"
        ) % {"n": attempts, "detail": _reason(exc)}}
    else:
        delay = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** (attempts - 1))
        update = {"status": Status.QUEUED, "next_attempt_at": now + timedelta(seconds=delay), "last_error": _(
            "Le serveur de messagerie n'a pas pu être joint (nouvel essai prévu) : %(detail)s"
        ) % {"detail": _reason(exc)}}
    OutgoingEmail.objects.filter(pk=row.pk).update(attempts=attempts, claimed_by="", **update)


def _fail(row: OutgoingEmail, reason: str) -> None:
    OutgoingEmail.objects.filter(pk=row.pk).update(
        status=Status.FAILED, attempts=row.attempts + 1, claimed_by="", last_error=reason[:500],
    )


def _release(rows: list[OutgoingEmail], *, at: datetime) -> None:
    OutgoingEmail.objects.filter(pk__in=[r.pk for r in rows], status=Status.SENDING).update(
        status=Status.QUEUED, next_attempt_at=at, claimed_by="",
    )


def _refusal(exc: smtplib.SMTPRecipientsRefused) -> str:
    details = "; ".join(f"{code} {message.decode(errors='replace')}" for code, message in exc.recipients.values())
    return _("Adresse refusée par le serveur de messagerie : %(detail)s") % {"detail": details[:300]}


def _send_claimed(rows: list[OutgoingEmail]) -> int:
    """Send the claimed rows over one connection; returns how many were sent."""
    sent = 0
    smtp = get_connection(fail_silently=False)
    try:
        smtp.open()
    except Exception as exc:  # noqa: BLE001 - the server is down: every row waits for its retry
        for row in rows:
            _retry(row, exc)
        return 0
    deadline = time.monotonic() + LEASE.total_seconds() / 2
    try:
        for index, row in enumerate(rows):
            if time.monotonic() > deadline:
                # A slow server: hand the rest back well before the lease lets another worker take them.
                _release(rows[index:], at=timezone.now())
                break
            message = EmailMessage(
                row.subject, row.body, None, [row.recipient], connection=smtp, headers={"Message-ID": row.message_id},
            )
            try:
                message.send()
            except smtplib.SMTPRecipientsRefused as exc:
                _fail(row, _refusal(exc))
            except smtplib.SMTPResponseException as exc:
                if exc.smtp_code >= 500:
                    _fail(row, _("Message refusé par le serveur de messagerie : %(detail)s") % {
                        "detail": f"{exc.smtp_code} {exc.smtp_error!r}"[:300]})
                else:
                    _retry(row, exc)
            except Exception as exc:  # noqa: BLE001 - the connection broke: this one and the rest wait
                _retry(row, exc)
                _release(rows[index + 1:], at=timezone.now() + timedelta(seconds=BACKOFF_BASE))
                break
            else:
                OutgoingEmail.objects.filter(pk=row.pk).update(
                    status=Status.SENT, sent_at=timezone.now(), attempts=row.attempts + 1,
                    body="", last_error="", claimed_by="",
                )
                sent += 1
    finally:
        try:
            smtp.close()
        except Exception:  # noqa: BLE001 - closing a broken connection may fail; nothing is lost
            logger.warning("closing the SMTP connection failed", exc_info=True)
    return sent


def _next_run(now: datetime) -> datetime | None:
    """When a delivery task is next needed: None if nothing is waiting."""
    waiting: datetime | None = OutgoingEmail.objects.filter(status=Status.QUEUED).aggregate(
        first=Min("next_attempt_at"))["first"]
    if waiting is None:
        return None
    at = max(waiting, now)
    if _budget(now) <= 0:
        oldest: datetime | None = OutgoingEmail.objects.filter(claimed_at__gt=now - timedelta(seconds=WINDOW)).aggregate(
            first=Min("claimed_at"))["first"]
        if oldest is not None:
            at = max(at, oldest + timedelta(seconds=WINDOW))
    return at


def schedule_delivery(at: datetime | None = None, *, follow_up: bool = False) -> None:
    """Queue a delivery task, unless one already waits to run by then (one task, not one per row).

    A follow-up (the next run, queued by a delivery task) needs a backend that can defer: with
    the immediate backend of the tests, it would run inside the task that queued it."""
    backend = deliver_mail.get_backend()
    if follow_up and not backend.supports_defer:
        return
    if isinstance(backend, DatabaseBackend):
        by = at or timezone.now()
        pending = DBTaskResult.objects.filter(
            status="READY", task_path=deliver_mail.module_path, backend_name=backend.alias,
        ).filter(Q(run_after=get_date_max()) | Q(run_after__lte=by))
        if pending.exists():
            return
    if at is not None and at > timezone.now():
        if backend.supports_defer:
            deliver_mail.using(run_after=at).enqueue()
        return
    deliver_mail.enqueue()


@task(queue_name="mail")
def deliver_mail() -> int:
    """Send the e-mails that are due, at the configured rate; then schedule the next run."""
    recover_stalled_mail()
    started = time.monotonic()
    sent = 0
    while time.monotonic() - started < RUN_SECONDS:
        budget = _budget(timezone.now())
        if budget <= 0:
            break
        rows = _claim(min(budget, CHUNK))
        if not rows:
            break
        sent += _send_claimed(rows)
    at = _next_run(timezone.now())
    if at is not None:
        schedule_delivery(at, follow_up=True)
    return sent
