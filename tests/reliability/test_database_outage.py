"""PostgreSQL connections cut in the middle of an autosave burst, then PostgreSQL restarted:
the requests in flight fail, the next ones reconnect, and nothing acknowledged is lost.

Only under `make chaos`: restarting the cluster disturbs everything else using it.
"""

import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from .burst import IN_DOUBT, duplicated_answers, lost_or_invented, positionings_started, run_burst
from .server import is_postgresql

pytestmark = pytest.mark.chaos

CLIENTS, WORKERS = 100, 4
CUT_AT, RESTART_AT, SECONDS = 3.0, 7.0, 16.0


def cut_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [settings.DATABASES["default"]["NAME"]],
        )
        return cursor.fetchone()[0]


def restart_postgresql() -> None:
    (cluster,) = [p.name for p in Path("/etc/postgresql").iterdir()]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "restart"],
        check=True, capture_output=True, timeout=120,
    )
    for _ in range(300):
        if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]).returncode == 0:
            break
        time.sleep(0.1)
    # This test's own connection went down with the server.
    connection.close()


def test_autosaves_recover_after_connections_are_cut_and_postgresql_restarts(gunicorn):
    if not is_postgresql():
        pytest.skip("PostgreSQL only: `make chaos` runs it there")
    server = gunicorn(workers=WORKERS)
    cut: list[int] = []

    result = run_burst(server, clients=CLIENTS, seconds=SECONDS, events=[
        (CUT_AT, "cut", lambda: cut.append(cut_connections())),
        (RESTART_AT, "restart", restart_postgresql),
    ])

    def failed_between(start, end):
        # A request fails when a worker takes it from the queue, and answers at once.
        return [a for a in result.attempts if a.outcome == IN_DOUBT and start <= a.answered_at < end]

    cut_at, restart_began, up = result.events["cut (start)"], result.events["restart (start)"], result.events["restart"]
    acknowledged_after = sorted(a.answered_at for a in result.attempts if a.outcome == "acknowledged" and a.sent_at >= up)
    recovery = acknowledged_after[0] - up
    at_cut = failed_between(cut_at, restart_began)
    while_down = failed_between(restart_began, up + 1)
    sent_after_up = [a for a in result.attempts if a.outcome == IN_DOUBT and a.sent_at >= up]
    print(
        f"{result.summary()}; {cut[0]} connections cut: {len(at_cut)} failed; PostgreSQL restarted in "
        f"{up - restart_began:.1f} s: {len(while_down)} failed meanwhile; first save sent after it acknowledged "
        f"{recovery:.2f} s after it was back; {len(sent_after_up)} of those sent after failed"
    )
    # Only the requests in flight when the connections were cut fail: one per sync worker at most.
    assert cut[0] >= 1 and len(at_cut) <= WORKERS
    assert len(at_cut) + len(while_down) == result.count(IN_DOUBT)
    assert sent_after_up == [] and recovery < 5
    assert {a.status for a in result.attempts if a.outcome == IN_DOUBT} <= {500, None}
    assert positionings_started(result) == CLIENTS
    assert lost_or_invented(result) == []
    assert duplicated_answers(result) == []
