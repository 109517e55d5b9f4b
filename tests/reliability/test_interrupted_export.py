"""An export that dies half-way is never presented as a complete file.

Through gunicorn, the microdata CSV is streamed with chunked transfer encoding:
when the export fails or its worker is killed, the response ends without the
last chunk and an HTTP client reports an incomplete download instead of saving a
short file. The export command writes beside the target and renames at the end:
killed half-way, it leaves no file under the target's name.
"""

import http.client
import os
import signal
import subprocess
import sys
import time

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from grille.studies.dashboard import completed_respondents
from grille.studies.synthetic import generate_synthetic_campaign
from tests.factories import make_user

from .server import BASE_DIR, Visitor, process_env

RESPONDENTS = 700
FAIL_AFTER = 300  # rows: past the first chunk the engine sends (grille.core.tabular.writing.CSV_CHUNK_ROWS)


@pytest.fixture
def campaign(transactional_db, version):
    analyst = make_user("ana@exemple.fr")
    analyst.user_permissions.add(Permission.objects.get(codename="run_studies"))
    campaign = generate_synthetic_campaign(respondents=RESPONDENTS, seed=6, analyst=analyst)
    campaign.analyst_user = analyst
    return campaign


def signed_in(server, user) -> Visitor:
    client = Client()
    client.force_login(user)
    return Visitor(server, cookies={"sessionid": client.cookies["sessionid"].value})


def start_export(visitor: Visitor, campaign, fault: str = "") -> http.client.HTTPResponse:
    headers = {"X-Grille-Fault": fault} if fault else {}
    connection = visitor.connect("GET", f"/etudes/{campaign.uuid}/exports/microdonnees.csv", headers=headers)
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert response.getheader("Content-Length") is None
    return response


def test_export_failing_half_way_ends_as_an_incomplete_download(gunicorn, campaign):
    server = gunicorn(workers=1)
    visitor = signed_in(server, campaign.analyst_user)
    response = start_export(visitor, campaign, fault=f"raise@{FAIL_AFTER}")

    with pytest.raises(http.client.IncompleteRead) as incomplete:
        response.read()

    response.close()
    received = incomplete.value.partial.decode("utf-8-sig").splitlines()
    assert received[0].startswith("id;synthetique;soumis_le;")
    assert 1 < len(received) <= 1 + FAIL_AFTER
    assert "fault injected by the tests" in server.log_tail()
    # The worker is still there for the next download, which is whole: the client can tell them apart.
    complete = start_export(visitor, campaign)
    lines = complete.read().decode("utf-8-sig").splitlines()
    complete.close()
    assert len(lines) == 1 + completed_respondents(campaign).count() > FAIL_AFTER + 200


def test_export_whose_worker_is_killed_half_way_ends_as_an_incomplete_download(gunicorn, campaign):
    server = gunicorn(workers=1)
    visitor = signed_in(server, campaign.analyst_user)
    response = start_export(visitor, campaign, fault=f"hang@{FAIL_AFTER}")
    first = response.read1(65536)  # the header and the first rows have arrived; the export then stalls

    os.kill(server.worker_pids()[0], signal.SIGKILL)

    with pytest.raises(http.client.IncompleteRead):
        response.read()
    response.close()
    assert first.decode("utf-8-sig").startswith("id;synthetique;soumis_le;")


def run_export_command(campaign, target, fault: str, marker=None) -> subprocess.Popen:
    env = process_env(GRILLE_FAULT=fault, GRILLE_FAULT_MARKER=str(marker or ""))
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.command", "export_campaign", str(campaign.uuid),
         "--output", str(target)],
        cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def test_export_command_killed_half_way_leaves_no_file_under_the_target_name(campaign, tmp_path):
    target, marker = tmp_path / "microdonnees.csv", tmp_path / "half-way"
    process = run_export_command(campaign, target, f"hang@{FAIL_AFTER}", marker)
    deadline = time.monotonic() + 60
    while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert marker.exists(), process.communicate()

    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)

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
