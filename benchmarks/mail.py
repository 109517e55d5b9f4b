"""30 000 study invitations through the outbox: the time to accept the mailing (the service the
POST calls) beside the floor of a raw COPY of as many outbox rows, and the time a real
worker process takes to deliver them to a local SMTP server (aiosmtpd) beside the floor of the
same messages sent straight over one SMTP connection, without the database.

    .venv/bin/python -m benchmarks.mail                     # 30 000 invitations
    .venv/bin/python -m benchmarks.mail --invitees 3000     # quicker

Part of `make bench` (benchmarks/bench.py); in the benchmark database, never the tests'.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import smtplib
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from benchmarks.study_dashboard import (
    BENCH_DATABASE,
    RESULTS_DIR,
    ROOT,
    fmt_seconds,
    open_bench_database,
)

DEFAULT_INVITEES = 30_000
CAMPAIGN_NAME = "Benchmark envoi {n} (données fictives)"
OWNER = "bench-mail@exemple.invalid"
DELIVERY_TIMEOUT = 3600


def get_or_create_mailing_campaign(invitees: int, log: Callable[[str], None]):
    from django.contrib.auth.models import Permission
    from django.utils import timezone

    from grille.accounts.models import User
    from grille.frameworks.selectors import get_default_version
    from grille.studies import services
    from grille.studies.models import Campaign

    name = CAMPAIGN_NAME.format(n=invitees)
    campaign = Campaign.objects.filter(name=name).first()
    if campaign is not None and campaign.invitees.count() == invitees:
        return campaign
    if campaign is not None:
        campaign.delete()
    owner = User.objects.filter(email=OWNER).first() or User.objects.create_user(OWNER)
    owner.user_permissions.add(Permission.objects.get(codename="run_studies"))
    now = timezone.now()
    campaign = services.create_campaign(
        user=owner, name=name, wave_year=2024, version=get_default_version(),
        opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=60),
        consent_text="Données fictives.", threshold=5, synthetic=True,
    )
    log(f"mail: importing {invitees} invitees")
    services.import_invitees(campaign=campaign, raw="".join(f"p{i}@exemple.invalid\n" for i in range(invitees)).encode())
    return campaign


def reset(campaign) -> None:
    """As before any sending: no invitee invited, no e-mail in the outbox, no delivery task."""
    from django_tasks_db.models import DBTaskResult

    from grille.core.models import OutgoingEmail
    from grille.core.tasks import deliver_mail

    campaign.invitees.update(sent_at=None, reminded_at=None)
    OutgoingEmail.objects.all().delete()
    DBTaskResult.objects.filter(task_path=deliver_mail.module_path).delete()


def insert_floor(campaign) -> float:
    """A raw COPY of as many outbox rows, built beforehand: what accepting costs at least."""
    from django.db import connection, transaction
    from django.utils import timezone

    from grille.core.mail import new_message_id
    from grille.core.models import OutgoingEmail

    now = timezone.now()
    rows = [(f"invitee:{pk}", email, new_message_id()) for pk, email in campaign.invitees.values_list("pk", "email")]
    body = "x" * 600
    began = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor, cursor.cursor.copy(
        "COPY core_outgoingemail (kind, recipient, subject, body, message_id, topic, status, attempts,"
        " next_attempt_at, claimed_by, last_error, created_at) FROM STDIN"
    ) as copy:
        for topic, email, message_id in rows:
            copy.write_row(("floor", email, "Étude", body, message_id, topic, "queued", 0, now, "", "", now))
    seconds = time.perf_counter() - began
    OutgoingEmail.objects.filter(kind="floor").delete()
    return seconds


def smtp_floor(port: int, messages: list[tuple[str, str, str]]) -> float:
    """The same messages straight over one SMTP connection: what delivering costs at least."""
    began = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for recipient, subject, body in messages:
            message = EmailMessage()
            message["Subject"], message["From"], message["To"] = subject, "ne-pas-repondre@grille.localhost", recipient
            message.set_content(body)
            smtp.send_message(message)
    return time.perf_counter() - began


def bench_mail(invitees: int, log: Callable[[str], None]) -> dict[str, Any]:
    from django.conf import settings
    from django.template.loader import get_template
    from django.urls import reverse

    from grille.core.models import OutgoingEmail
    from grille.studies import services
    from tests.smtp_sink import SmtpSink

    campaign = get_or_create_mailing_campaign(invitees, log)
    reset(campaign)
    log("mail: floor, a raw COPY of the outbox rows")
    floor_accept = insert_floor(campaign)
    # As in a server that has answered before: URLs resolved and the template loaded.
    reverse("studies:invited", args=["x"])
    get_template("studies/email_invitation.txt")
    log("mail: accepting the mailing (send_invitations)")
    began = time.perf_counter()
    report = services.send_invitations(campaign=campaign)
    accept = time.perf_counter() - began
    assert report.queued == invitees

    sink = SmtpSink()
    sink.start()
    env = dict(os.environ)
    env.update({
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port), "GRILLE_MAIL_PER_MINUTE": str(10**9), "LOG_LEVEL": "WARNING",
    })
    log(f"mail: delivering by a worker process to a local SMTP server (port {sink.port})")
    began = time.perf_counter()
    worker = subprocess.Popen([sys.executable, "manage.py", "worker", "--interval", "0.2"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while OutgoingEmail.objects.filter(status=OutgoingEmail.Status.SENT).count() < invitees:
            if time.perf_counter() - began > DELIVERY_TIMEOUT or worker.poll() is not None:
                raise SystemExit("mail: the worker did not deliver the mailing")
            time.sleep(0.2)
        deliver = time.perf_counter() - began
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    counts = sink.per_recipient()
    once = len(counts) == invitees and set(counts.values()) == {1}
    sample = [(r.recipients[0], str(r.message["Subject"]), r.body) for r in sink.received]
    sink.received.clear()
    log("mail: floor, the same messages straight over SMTP")
    floor_deliver = smtp_floor(sink.port, sample)
    sink.stop()
    reset(campaign)
    return {
        "invitees": invitees, "accept_s": accept, "accept_floor_s": floor_accept,
        "accept_vs_floor": accept / floor_accept, "deliver_s": deliver, "deliver_floor_s": floor_deliver,
        "deliver_vs_floor": deliver / floor_deliver, "delivered_per_s": invitees / deliver,
        "each_exactly_once": once, "rate_setting_per_minute": settings.GRILLE_MAIL_PER_MINUTE,
    }


def markdown_rows(mail: dict[str, Any]) -> list[str]:
    n = f"{mail['invitees']:,}".replace(",", " ")
    return [
        f"| mail: accept {n} invitations | {fmt_seconds(mail['accept_s'])} | {fmt_seconds(mail['accept_floor_s'])}"
        f" (raw COPY) | {mail['accept_vs_floor']:.2f}× | < 1 s | {'✅' if mail['accept_s'] < 1 else '❌'} |",
        f"| mail: deliver {n} by the worker | {fmt_seconds(mail['deliver_s'])} ({mail['delivered_per_s']:.0f}/s)"
        f" | {fmt_seconds(mail['deliver_floor_s'])} (raw SMTP) | {mail['deliver_vs_floor']:.2f}× | each once |"
        f" {'✅' if mail['each_exactly_once'] else '❌'} |",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invitees", type=int, default=DEFAULT_INVITEES)
    parser.add_argument("--database", default=BENCH_DATABASE)
    args = parser.parse_args(argv)
    _url, log = open_bench_database(args.database)
    results = bench_mail(args.invitees, log)
    path = RESULTS_DIR / "mail.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print("\n".join(["| figure | measured | floor, same run | ratio | target | |", "|---|---|---|---|---|---|",
                     *markdown_rows(results)]))


if __name__ == "__main__":
    main()
