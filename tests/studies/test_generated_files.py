"""The study report and exports built by the real worker (database queue, `manage.py worker
--batch`): asked from the page, followed without JavaScript, downloaded with the same rights."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from grille.accounts.models import User
from grille.files.enums import FileStatus
from grille.files.models import UPLOAD_DIR, GeneratedFile
from grille.files.services import PARTIAL_PREFIX
from grille.studies import files as study_files
from grille.studies.models import MicrodataDownload

REFRESH = '<meta http-equiv="refresh" content="3">'
# The worker closes its database connection between tasks, as a real worker does: these tests
# commit for real rather than inside the test's transaction.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def worker_tasks(settings, tmp_path):  # noqa: F811 (the fixture, over the module)
    settings.MEDIA_ROOT = tmp_path
    with override_settings(TASKS=settings.WORKER_TASKS):
        yield


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def ask(client: Client, name: str, campaign, *args: str, query: str = "", capture) -> GeneratedFile:
    """POST as the exports page does; the job is queued when the request's transaction commits."""
    with capture(execute=True):
        response = client.post(reverse(f"studies:{name}", args=[campaign.uuid, *args]) + query)
    assert response.status_code == 302
    job = GeneratedFile.objects.get()
    assert response.url == reverse("files:detail", args=[job.uuid])
    return job


def run_worker() -> None:
    call_command("worker", batch=True, verbosity=0)


def page(client: Client, job: GeneratedFile) -> str:
    response = client.get(reverse("files:detail", args=[job.uuid]))
    assert response.status_code == 200
    return response.content.decode()


def download(client: Client, job: GeneratedFile):
    return client.get(reverse("files:download", args=[job.uuid]))


def body(response) -> bytes:
    return b"".join(response.streaming_content)  # to the end, which closes the file


def status_of(client: Client, job: GeneratedFile) -> int:
    """The status of a download, its file read and closed."""
    response = download(client, job)
    if response.streaming:
        body(response)
    return response.status_code


def stored_files() -> list[str]:
    directory = Path(default_storage.path(UPLOAD_DIR))
    return sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []


@pytest.fixture
def second_analyst(campaign) -> User:
    second = User.objects.create_user(email="second@exemple.fr")
    second.user_permissions.add(Permission.objects.get(codename="run_studies"))
    campaign.analysts.add(second)
    return second


def test_report_pdf_is_built_by_the_worker_then_downloaded(campaign, analyst, respondents, django_capture_on_commit_callbacks):
    respondents(6)
    client = logged_in(analyst)

    job = ask(client, "report_pdf", campaign, capture=django_capture_on_commit_callbacks)
    waiting = page(client, job)
    early = download(client, job)
    run_worker()
    ready = page(client, job)
    pdf = download(client, job)

    assert REFRESH in waiting and "En attente" in waiting and "Actualiser" in waiting
    assert early.status_code == 404
    assert REFRESH not in ready
    assert reverse("files:download", args=[job.uuid]) in ready
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert 'filename="rapport-etude-2024.pdf"' in pdf["Content-Disposition"]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(body(pdf))).pages)
    assert "Étude des catalyseurs" in text
    job.refresh_from_db()
    assert (job.status, job.progress, job.size > 1000) == (FileStatus.READY, 100, True)


def test_microdata_xlsx_is_built_by_the_worker_and_recorded_when_downloaded(
    campaign, analyst, respondents, django_capture_on_commit_callbacks,
):
    people = respondents(7)
    client = logged_in(analyst)

    job = ask(client, "export_microdata", campaign, "xlsx", capture=django_capture_on_commit_callbacks)
    run_worker()
    before = MicrodataDownload.objects.count()
    response = download(client, job)
    workbook = openpyxl.load_workbook(io.BytesIO(body(response)), read_only=True)
    rows = list(workbook["Microdonnées"].iter_rows(values_only=True))

    assert before == 0
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert rows[0][:3] == ("id", "synthetique", "soumis_le")
    assert sorted(r[0] for r in rows[1:]) == sorted(p.pseudonym for p in people)
    assert "Dictionnaire" in workbook.sheetnames
    assert list(MicrodataDownload.objects.values_list("user_email", "fmt", "via", "rows")) == [
        (analyst.email, "xlsx", "web", 7)
    ]


def test_another_analyst_downloads_the_report_but_not_the_microdata(
    campaign, analyst, second_analyst, respondents, django_capture_on_commit_callbacks,
):
    respondents(5)
    lead = logged_in(analyst)
    report = ask(lead, "report_pdf", campaign, capture=django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        lead.post(reverse("studies:export_microdata", args=[campaign.uuid, "xlsx"]))
    run_worker()
    microdata = GeneratedFile.objects.get(kind=study_files.MICRODATA["xlsx"])
    other = logged_in(second_analyst)
    outsider = logged_in(User.objects.create_user(email="dehors@exemple.fr"))

    assert status_of(other, report) == 200
    assert status_of(other, microdata) == 404
    assert other.get(reverse("files:detail", args=[microdata.uuid])).status_code == 404
    assert status_of(outsider, report) == 404
    assert outsider.get(reverse("files:detail", args=[report.uuid])).status_code == 404
    assert MicrodataDownload.objects.count() == 0


def test_rights_are_checked_again_at_download(campaign, analyst, second_analyst, respondents, django_capture_on_commit_callbacks):
    respondents(5)
    other = logged_in(second_analyst)
    job = ask(other, "report_pdf", campaign, capture=django_capture_on_commit_callbacks)
    run_worker()

    campaign.analysts.remove(second_analyst)

    assert status_of(other, job) == 404


def test_aggregates_keep_the_dashboard_filters(campaign, analyst, respondents, django_capture_on_commit_callbacks):
    respondents(6, territory="rural")
    client = logged_in(analyst)

    job = ask(client, "export_aggregates", campaign, query="?f_territoire=rural", capture=django_capture_on_commit_callbacks)
    run_worker()
    workbook = openpyxl.load_workbook(io.BytesIO(body(download(client, job))), read_only=True)
    about = dict(workbook["À propos"].iter_rows(min_row=2, values_only=True))

    assert job.parameters == {"query": "f_territoire=rural"}
    assert "rural" in about["Filtres appliqués"].lower()


def test_aggregates_with_a_bad_filter_are_refused_and_nothing_is_queued(campaign, analyst):
    response = logged_in(analyst).post(reverse("studies:export_aggregates", args=[campaign.uuid]) + "?f_inconnu=x")

    assert response.status_code == 400
    assert GeneratedFile.objects.count() == 0


def test_asking_twice_while_it_is_prepared_starts_one_build(campaign, analyst, django_capture_on_commit_callbacks):
    client = logged_in(analyst)

    first = ask(client, "report_pdf", campaign, capture=django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(reverse("studies:report_pdf", args=[campaign.uuid]))

    assert again.url == reverse("files:detail", args=[first.uuid])
    assert GeneratedFile.objects.count() == 1


def test_the_export_page_lists_recent_requests(campaign, analyst, django_capture_on_commit_callbacks):
    client = logged_in(analyst)
    job = ask(client, "report_pdf", campaign, capture=django_capture_on_commit_callbacks)

    text = client.get(reverse("studies:report_pdf", args=[campaign.uuid])).content.decode()

    assert "Préparer le fichier" in text and 'name="csrfmiddlewaretoken"' in text
    assert reverse("files:detail", args=[job.uuid]) in text and "En attente" in text


def test_asking_needs_the_csrf_token(campaign, analyst):
    client = Client(enforce_csrf_checks=True)
    client.force_login(analyst)

    response = client.post(reverse("studies:report_pdf", args=[campaign.uuid]))

    assert response.status_code == 403
    assert GeneratedFile.objects.count() == 0


def test_an_expired_file_is_gone_and_can_be_prepared_again(campaign, analyst, respondents, django_capture_on_commit_callbacks):
    respondents(5)
    client = logged_in(analyst)
    job = ask(client, "report_pdf", campaign, capture=django_capture_on_commit_callbacks)
    run_worker()
    job.refresh_from_db()
    path = Path(job.file.path)
    assert job.expires_at - job.finished_at == timedelta(hours=settings.GRILLE_FILES_TTL_HOURS)

    GeneratedFile.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    gone = download(client, job)
    call_command("prune_files", verbosity=0)
    job.refresh_from_db()
    expired_page = page(client, job)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("files:retry", args=[job.uuid]))
    run_worker()
    job.refresh_from_db()

    assert gone.status_code == 410
    assert "a expiré" in gone.content.decode()
    assert not path.exists()
    assert "Préparer à nouveau" in expired_page
    assert (job.status, job.attempt) == (FileStatus.READY, 2)
    assert status_of(client, job) == 200


def test_a_build_failing_half_way_leaves_no_file_and_can_be_retried(
    campaign, analyst, respondents, monkeypatch, django_capture_on_commit_callbacks,
):
    respondents(5)
    client = logged_in(analyst)
    real_write = study_files.write_export

    def half_then_fail(exporter, fmt, out):
        out.write(b"PK\x03\x04 half a workbook")
        raise OSError("disk full")

    monkeypatch.setattr(study_files, "write_export", half_then_fail)
    job = ask(client, "export_microdata", campaign, "xlsx", capture=django_capture_on_commit_callbacks)
    run_worker()
    job.refresh_from_db()
    failed_page = page(client, job)
    failed_download = download(client, job)
    left = stored_files()

    monkeypatch.setattr(study_files, "write_export", real_write)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("files:retry", args=[job.uuid]))
    run_worker()
    job.refresh_from_db()

    assert (job.status, job.attempt) == (FileStatus.READY, 2)
    assert "OSError" in failed_page and "Préparer à nouveau" in failed_page and REFRESH not in failed_page
    assert failed_download.status_code == 404
    assert left == []
    assert openpyxl.load_workbook(io.BytesIO(body(download(client, job))), read_only=True).sheetnames[0] == "Microdonnées"


def test_a_build_whose_worker_stopped_is_shown_interrupted_and_can_be_retried(
    campaign, analyst, respondents, django_capture_on_commit_callbacks,
):
    respondents(5)
    client = logged_in(analyst)
    job = ask(client, "report_pdf", campaign, capture=django_capture_on_commit_callbacks)
    # What a worker killed half-way leaves: the job claimed, its heartbeat old, a partial file.
    long_ago = timezone.now() - timedelta(seconds=settings.GRILLE_FILES_STALE_SECONDS + 60)
    GeneratedFile.objects.filter(pk=job.pk).update(status=FileStatus.BUILDING, started_at=long_ago, heartbeat=long_ago, progress=40)
    Path(default_storage.path(UPLOAD_DIR)).mkdir(parents=True, exist_ok=True)
    partial = Path(default_storage.path(f"{UPLOAD_DIR}/{PARTIAL_PREFIX}abc.pdf"))
    partial.write_bytes(b"%PDF-1.7 half")

    interrupted = page(client, job)
    refused = download(client, job)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("files:retry", args=[job.uuid]))
    run_worker()  # runs the new attempt; the first attempt's task, if it ever ran, finds nothing to do
    job.refresh_from_db()

    assert "interrompue" in interrupted and REFRESH not in interrupted
    assert refused.status_code == 404
    assert (job.status, job.attempt) == (FileStatus.READY, 2)
    assert PdfReader(io.BytesIO(body(download(client, job)))).pages


def test_retrying_a_file_being_prepared_changes_nothing(campaign, analyst, django_capture_on_commit_callbacks):
    client = logged_in(analyst)
    job = ask(client, "report_pdf", campaign, capture=django_capture_on_commit_callbacks)

    response = client.post(reverse("files:retry", args=[job.uuid]), follow=True)
    job.refresh_from_db()

    assert "déjà en préparation" in response.content.decode()
    assert (job.status, job.attempt) == (FileStatus.QUEUED, 1)
