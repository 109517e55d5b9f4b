"""E-mails go through the outbox: a row written in the transaction of the action that causes it,
sent by the worker once that transaction has committed (grille/core/tasks.py).

A request never talks to the mail server, so a server that is down or slow never fails it."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from .models import OutgoingEmail
from .tasks import schedule_delivery
from .validators import single_line

INSERT_BATCH = 2000
COPY_FROM = 500  # rows


class MailKind:
    """What caused an e-mail, stored on its outbox row."""

    SIGN_IN = "sign-in"
    RESUME_LINK = "resume-link"
    ORGANISATION_INVITATION = "organisation-invitation"
    ORGANISATION_REMINDER = "organisation-reminder"
    STUDY_INVITATION = "study-invitation"
    STUDY_REMINDER = "study-reminder"
    OTHER = "other"


def _domain() -> str:
    sender = str(settings.DEFAULT_FROM_EMAIL).rstrip(">")
    return sender.rpartition("@")[2] or "grille.localhost"


def new_message_id() -> str:
    """A Message-ID made once per e-mail and kept across its retries."""
    return f"<{uuid.uuid4().hex}@{_domain()}>"


class Mail(NamedTuple):
    """An e-mail to queue with queue_mails."""

    to: str
    subject: str
    body: str
    kind: str
    topic: str = ""


COPY_FIELDS = ("kind", "recipient", "subject", "body", "message_id", "topic", "status", "attempts",
               "next_attempt_at", "claimed_by", "last_error", "created_at")


def _copy(mails: list[Mail], now: datetime) -> None:
    # A national mailing is tens of thousands of rows written in the POST that accepts it:
    # PostgreSQL's COPY takes them several times faster than model instances and bulk_create's
    # INSERTs (measured in benchmarks/mail.py).
    table = connection.ops.quote_name(OutgoingEmail._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(name) for name in COPY_FIELDS)  # no db_column among them
    queued = OutgoingEmail.Status.QUEUED
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for mail in mails:
            copy.write_row((mail.kind, mail.to.strip(), single_line(mail.subject), mail.body, new_message_id(),
                            mail.topic, queued, 0, now, "", "", now))


def queue_mails(mails: Iterable[Mail]) -> int:
    """Write the e-mails to the outbox in the current transaction; one delivery task is queued
    when it commits."""
    now = timezone.now()
    mails = list(mails)
    if len(mails) >= COPY_FROM and connection.vendor == "postgresql":
        _copy(mails, now)
    else:
        OutgoingEmail.objects.bulk_create([
            OutgoingEmail(
                kind=mail.kind, recipient=mail.to.strip(), subject=single_line(mail.subject), body=mail.body,
                message_id=new_message_id(), topic=mail.topic, created_at=now, next_attempt_at=now,
            ) for mail in mails
        ], batch_size=INSERT_BATCH)
    if mails:
        transaction.on_commit(schedule_delivery, robust=True)
    return len(mails)


def send_templated_mail(
    *, to: str, subject: str, template: str, context: dict[str, Any], kind: str = MailKind.OTHER, topic: str = ""
) -> None:
    """Queue a plain-text e-mail, sent by the worker once the surrounding transaction has committed."""
    body = render_to_string(template, context)
    queue_mails([Mail(to=to, subject=subject, body=body, kind=kind, topic=topic)])


@transaction.atomic
def retry_failed_mail(emails: QuerySet[OutgoingEmail]) -> int:
    """Queue again the failed e-mails among `emails`, with a fresh count of attempts."""
    count = emails.filter(status=OutgoingEmail.Status.FAILED).update(
        status=OutgoingEmail.Status.QUEUED, attempts=0, next_attempt_at=timezone.now(), last_error="",
    )
    if count:
        transaction.on_commit(schedule_delivery, robust=True)
    return count
