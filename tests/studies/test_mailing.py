"""Study mailings through the outbox: accepted at once, sent by the worker, each invitee's state
on the invitations page, failures retried from there."""

from __future__ import annotations

from html import unescape

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from grille.core import tasks
from grille.core.models import OutgoingEmail
from grille.studies import services
from grille.studies.models import Invitee
from tests.factories import make_user

from .test_views import logged_in

Status = OutgoingEmail.Status


def emails(n: int) -> bytes:
    return "".join(f"personne{i}@exemple.fr\n" for i in range(n)).encode()


@pytest.mark.django_db(transaction=True)
def test_invitations_are_sent_by_the_worker_and_their_states_shown_and_retried(campaign, analyst, smtp_sink):
    services.import_invitees(campaign=campaign, raw=b"a@exemple.fr\nrefuse@exemple.fr\nb@exemple.fr\n")
    smtp_sink.refuse = {"refuse@exemple.fr"}
    smtp_sink.start()
    client = logged_in(analyst)
    page = reverse("studies:invitees", args=[campaign.uuid])

    with override_settings(TASKS=django_settings.WORKER_TASKS):
        accepted = client.post(reverse("studies:send", args=[campaign.uuid]), {"what": "invitations"}, follow=True)
        queued_page = unescape(accepted.content.decode())
        call_command("worker", batch=True, verbosity=0)
        after = unescape(client.get(page).content.decode())
        smtp_sink.refuse = set()
        retried = client.post(reverse("studies:retry_mail", args=[campaign.uuid]), follow=True)
        call_command("worker", batch=True, verbosity=0)
        final = unescape(client.get(page).content.decode())

    assert "3 messages mis en file d'envoi" in queued_page
    assert queued_page.count("en file d'envoi</td>") == 3
    assert Invitee.objects.filter(sent_at__isnull=False).count() == 3
    assert after.count("envoyé ") == 2
    assert "échec : Adresse refusée par le serveur de messagerie : 550 5.1.1 Destinataire inconnu" in after
    assert "Réessayer les envois en échec" in after
    assert "1 message en échec remis en file d'envoi." in unescape(retried.content.decode())
    assert final.count("envoyé ") == 3 and "Réessayer les envois en échec" not in final
    assert smtp_sink.per_recipient() == {"a@exemple.fr": 1, "refuse@exemple.fr": 1, "b@exemple.fr": 1}
    links = {r.recipients[0]: r.body.split("/etude/i/")[1].split("/")[0] for r in smtp_sink.received}
    assert {services.find_invitee(link).email for link in links.values()} == set(links)


@pytest.mark.django_db(transaction=True)
def test_a_mailing_while_the_mail_server_is_down_is_accepted_and_waits(campaign, analyst, smtp_sink):
    services.import_invitees(campaign=campaign, raw=emails(5))

    with override_settings(TASKS=django_settings.WORKER_TASKS):
        response = logged_in(analyst).post(reverse("studies:send", args=[campaign.uuid]), {"what": "invitations"})
        call_command("worker", batch=True, verbosity=0)

    assert response.status_code == 302
    assert set(OutgoingEmail.objects.values_list("status", "attempts")) == {(Status.QUEUED, 1)}
    assert DBTaskResult.objects.filter(status="READY", task_path=tasks.deliver_mail.module_path).count() == 1


@pytest.mark.parametrize("size", [10, 60])
def test_a_mailing_is_one_delivery_task_and_a_fixed_number_of_queries(
    campaign, size, django_assert_num_queries, django_capture_on_commit_callbacks
):
    services.import_invitees(campaign=campaign, raw=emails(size))

    with override_settings(TASKS=django_settings.WORKER_TASKS), django_capture_on_commit_callbacks(execute=True):
        with django_assert_num_queries(6):
            report = services.send_invitations(campaign=campaign)

    assert report.queued == OutgoingEmail.objects.count() == size
    assert DBTaskResult.objects.filter(task_path=tasks.deliver_mail.module_path).count() == 1


def test_reminders_go_only_to_those_invited(campaign, mailoutbox, django_capture_on_commit_callbacks):
    services.import_invitees(campaign=campaign, raw=b"a@exemple.fr\n")
    with django_capture_on_commit_callbacks(execute=True):
        services.send_reminders(campaign=campaign)
        services.send_invitations(campaign=campaign)
        services.send_reminders(campaign=campaign)

    assert [m.subject.split(" ")[0] for m in mailoutbox] == ["Étude", "Rappel"]
    assert Invitee.objects.get().reminded_at is not None


def test_retry_needs_the_csrf_token_and_the_campaign(campaign, analyst):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(analyst)
    outsider = logged_in(make_user("autre@exemple.fr"))
    url = reverse("studies:retry_mail", args=[campaign.uuid])

    assert csrf_client.post(url).status_code == 403
    assert outsider.post(url).status_code == 404
    assert logged_in(analyst).get(url).status_code == 405


def test_a_large_mailing_is_written_whole_and_each_link_opens(
    campaign, mailoutbox, settings, django_capture_on_commit_callbacks
):
    # Past grille.core.mail.COPY_FROM: on PostgreSQL the rows go through COPY.
    settings.GRILLE_MAIL_PER_MINUTE = 100_000
    services.import_invitees(campaign=campaign, raw=emails(600))

    with django_capture_on_commit_callbacks(execute=True):
        services.send_invitations(campaign=campaign)

    assert OutgoingEmail.objects.filter(status=Status.SENT, kind="study-invitation").count() == 600
    assert len({m.extra_headers["Message-ID"] for m in mailoutbox}) == len(mailoutbox) == 600
    for message in (mailoutbox[0], mailoutbox[299], mailoutbox[-1]):
        link = message.body.split("/etude/i/")[1].split("/")[0]
        assert services.find_invitee(link).email == message.to[0]


@pytest.mark.parametrize("size", [3, 12])
def test_the_invitations_page_reads_in_a_fixed_number_of_queries(campaign, analyst, size, django_assert_num_queries,
                                                                   django_capture_on_commit_callbacks):
    services.import_invitees(campaign=campaign, raw=emails(size))
    with django_capture_on_commit_callbacks(execute=True):
        services.send_invitations(campaign=campaign)
    client = logged_in(analyst)

    with django_assert_num_queries(7):
        response = client.get(reverse("studies:invitees", args=[campaign.uuid]))

    assert response.content.decode().count("envoyé ") == size
