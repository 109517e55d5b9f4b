"""Many people autosaving at once through gunicorn, a worker killed in the middle: nothing
acknowledged is lost, nothing refused is stored, no answer is duplicated."""

import time

import pytest

from .burst import IN_DOUBT, duplicated_answers, lost_or_invented, positionings_started, run_burst


def assert_nothing_lost(result, *, clients):
    assert positionings_started(result) == clients
    assert lost_or_invented(result) == []
    assert duplicated_answers(result) == []
    assert not any(a.stale for a in result.attempts)


def test_autosave_burst_keeps_every_acknowledged_answer(gunicorn):
    server = gunicorn(workers=3)

    result = run_burst(server, clients=20, seconds=3)

    print(result.summary())
    assert result.count(IN_DOUBT) == 0
    assert set(result.statuses()) == {200}
    assert_nothing_lost(result, clients=20)


def test_autosave_burst_with_a_worker_killed_loses_nothing_acknowledged(gunicorn):
    server = gunicorn(workers=3)
    killed = []

    result = run_burst(server, clients=20, seconds=4, events=[(1.5, "SIGKILL", lambda: killed.append(server.kill_worker()))])

    print(result.summary())
    # A sync worker serves one request at a time: only that one goes unanswered.
    assert result.count(IN_DOUBT) <= len(killed)
    assert {s for s in result.statuses() if s is not None} == {200}
    assert_nothing_lost(result, clients=20)
    after = [a for a in result.attempts if a.sent_at > result.events["SIGKILL"] + 1]
    assert after and all(a.status == 200 for a in after)
    assert killed[0] not in server.worker_pids() and len(server.worker_pids()) == 3


@pytest.mark.chaos
def test_200_clients_autosaving_lose_nothing_acknowledged(gunicorn):
    server = gunicorn(workers=4)

    result = run_burst(server, clients=200, seconds=8)

    print(result.summary())
    assert result.count(IN_DOUBT) == 0
    assert set(result.statuses()) == {200}
    assert_nothing_lost(result, clients=200)


@pytest.mark.chaos
def test_200_clients_autosaving_while_workers_are_killed_lose_nothing_acknowledged(gunicorn):
    server = gunicorn(workers=4)
    killed = []

    def kill():
        killed.append(server.kill_worker())

    result = run_burst(server, clients=200, seconds=10, events=[(2, "kill 1", kill), (5, "kill 2", kill)])

    print(result.summary(), f"; workers killed: {len(killed)}")
    assert result.count(IN_DOUBT) <= len(killed)
    assert {s for s in result.statuses() if s is not None} == {200}
    assert_nothing_lost(result, clients=200)
    deadline = time.monotonic() + 10
    while len(server.worker_pids()) < 4 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(server.worker_pids()) == 4 and not set(killed) & set(server.worker_pids())
