"""An export that dies half-way is never presented as a complete file.

On the web, the microdata are built by the task worker into a stored file (grille/files),
written under a partial name and renamed only when complete: a worker killed or failing
half-way leaves no file to download, its job says so, and it can be retried. The export
command writes beside the target and renames at the end: killed half-way, it leaves no file
under the target's name.
"""

import signal
import subprocess
import sys
import time

import pytest
from django.contrib.auth.models import Permission
from django.test import Client, override_settings
from django.urls import reverse

from grille.files.enums import FileStatus
from grille.files.models import UPLOAD_DIR, GeneratedFile
from grille.files.services import PARTIAL_PREFIX
from grille.studies.dashboard import completed_respondents
from grille.studies.synthetic import generate_synthetic_campaign
from tests.factories import make_user

from .server import BASE_DIR, process_env

RESPONDENTS = 700
FAIL_AFTER = 300  # rows: past the first chunk the CSV engine writes (grille.core.tabular.writing.CSV_CHUNK_ROWS)


@pytest.fixture
def campaign(transactional_db, version):
    analyst = make_user("ana@exemple.fr")
    analyst.user_permissions.add(Permission.objects.get(codename="run_studies"))
    campaign = generate_synthetic_campaign(respondents=RESPONDENTS, seed=6, analyst=analyst)
    campaign.analyst_user = analyst
    return campaign


def kill_half_way(process: subprocess.Popen, marker) -> None:
    """Wait for the process to reach the hang fault (it touches `marker`), then SIGKILL it."""
    deadline = time.monotonic() + 60
    while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert marker.exists(), process.communicate()
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)


def run_worker(tmp_path, fault: str = "", marker=None) -> subprocess.Popen:
    """A real worker process (`manage.py worker --batch`) on this test's database and files."""
    env = process_env(
        GRILLE_FAULT=fault, GRILLE_FAULT_MARKER=str(marker or ""), GRILLE_WORKER_TASKS="1",
        GRILLE_MEDIA_ROOT=str(tmp_path / "media"),
    )
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.command", "worker", "--batch"],
        cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


@pytest.fixture
def web(campaign, settings, tmp_path):
    """The lead's browser, the database queue, and this test's directory for generated files."""
    settings.MEDIA_ROOT = tmp_path / "media"
    client = Client()
    client.force_login(campaign.analyst_user)
    with override_settings(TASKS=settings.WORKER_TASKS):
        yield client


def ask_csv(client: Client, campaign) -> GeneratedFile:
    response = client.post(reverse("studies:export_microdata", args=[campaign.uuid, "csv"]))
    assert response.status_code == 302
    return GeneratedFile.objects.get(uuid=response.url.strip("/").split("/")[-1])


def retried_and_whole(client: Client, campaign, job: GeneratedFile, tmp_path) -> list[str]:
    """Retry from the page, let a healthy worker build it, download: the lines of the CSV."""
    assert client.post(reverse("files:retry", args=[job.uuid])).status_code == 302
    _out, err = run_worker(tmp_path).communicate(timeout=120)
    job.refresh_from_db()
    assert job.status == FileStatus.READY, err.decode()[-2000:]
    response = client.get(reverse("files:download", args=[job.uuid]))
    return b"".join(response.streaming_content).decode("utf-8-sig").splitlines()


def test_worker_killed_half_way_leaves_no_file_and_the_export_can_be_retried(web, campaign, settings, tmp_path):
    job = ask_csv(web, campaign)
    marker = tmp_path / "half-way"
    kill_half_way(run_worker(tmp_path, f"hang@{FAIL_AFTER}", marker), marker)
    job.refresh_from_db()
    settings.GRILLE_FILES_STALE_SECONDS = 0  # its heartbeat has stopped: shown as interrupted at once
    page = web.get(reverse("files:detail", args=[job.uuid])).content.decode()
    refused = web.get(reverse("files:download", args=[job.uuid]))
    left = [p.name for p in (tmp_path / "media" / UPLOAD_DIR).iterdir()]

    assert (job.status, bool(job.file)) == (FileStatus.BUILDING, False)
    assert "interrompue" in page and "Préparer à nouveau" in page
    assert refused.status_code == 404
    # What was being written is only under a partial name that no job points to.
    assert [name.startswith(PARTIAL_PREFIX) for name in left] == [True]
    lines = retried_and_whole(web, campaign, job, tmp_path)
    assert lines[0].startswith("id;synthetique;soumis_le;")
    assert len(lines) == 1 + completed_respondents(campaign).count() > FAIL_AFTER + 200


def test_worker_failing_half_way_leaves_no_file_and_the_export_can_be_retried(web, campaign, tmp_path):
    job = ask_csv(web, campaign)
    _out, err = run_worker(tmp_path, f"raise@{FAIL_AFTER}").communicate(timeout=120)
    job.refresh_from_db()
    page = web.get(reverse("files:detail", args=[job.uuid])).content.decode()

    assert "fault injected by the tests" in err.decode()
    assert (job.status, bool(job.file)) == (FileStatus.FAILED, False)
    assert "OperationalError" in page
    assert list((tmp_path / "media" / UPLOAD_DIR).iterdir()) == []
    assert len(retried_and_whole(web, campaign, job, tmp_path)) == 1 + completed_respondents(campaign).count()


def run_export_command(campaign, target, fault: str, marker=None) -> subprocess.Popen:
    env = process_env(GRILLE_FAULT=fault, GRILLE_FAULT_MARKER=str(marker or ""))
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.command", "export_campaign", str(campaign.uuid),
         "--output", str(target)],
        cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def test_export_command_killed_half_way_leaves_no_file_under_the_target_name(campaign, tmp_path):
    target, marker = tmp_path / "microdonnees.csv", tmp_path / "half-way"
    kill_half_way(run_export_command(campaign, target, f"hang@{FAIL_AFTER}", marker), marker)

    assert not target.exists()
    # What was being written is only under a hidden temporary name.
    assert [p.name.startswith(".microdonnees.csv.") and p.name.endswith(".part") for p in tmp_path.iterdir() if p != marker] == [True]


def test_export_command_failing_half_way_leaves_no_file_at_all(campaign, tmp_path):
    target = tmp_path / "microdonnees.csv"
    process = run_export_command(campaign, target, f"raise@{FAIL_AFTER}")
    _out, err = process.communicate(timeout=120)

    assert process.returncode != 0
    assert b"fault injected by the tests" in err
    assert list(tmp_path.iterdir()) == []
