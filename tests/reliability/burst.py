"""Many visitors autosaving at once, and the check that nothing acknowledged was lost.

Each visitor is one browser tab on its own positioning: it sends one save at a
time, as autosave.js does, each with a new value (a level and a unique comment)
and the time of the change. An answer counts as saved only when the server said
so (2xx with "ok"). Afterwards, for every practice a visitor touched, the stored
value must be the last acknowledged one, or one sent after it whose answer never
came back (a killed worker, a cut connection: the server may or may not have
written it, and the page never said « Enregistré »). A value the server refused
with a 4xx must never be stored.
"""

from __future__ import annotations

import http.client
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Count

from grille.assessments.models import Answer, Assessment

from .server import Gunicorn, Visitor

ACKNOWLEDGED = "acknowledged"
REFUSED = "refused"  # a 4xx: the server said it did not save
IN_DOUBT = "in doubt"  # a 5xx or no answer at all: the page says « Non enregistré »


@dataclass
class Attempt:
    client: int
    practice: str
    seq: int
    level: str
    comment: str
    sent_at: float
    answered_at: float
    status: int | None  # None: the connection broke before any answer
    outcome: str
    stale: bool = False


@dataclass
class BurstResult:
    attempts: list[Attempt]
    uuids: list[str]
    started_at: float
    events: dict[str, float] = field(default_factory=dict)

    def count(self, outcome: str) -> int:
        return sum(1 for a in self.attempts if a.outcome == outcome)

    def statuses(self) -> Counter:
        return Counter(a.status for a in self.attempts)

    def summary(self) -> str:
        elapsed = max(a.answered_at for a in self.attempts) - self.started_at if self.attempts else 0
        return (
            f"{len(self.uuids)} clients, {len(self.attempts)} saves in {elapsed:.1f} s: "
            f"{self.count(ACKNOWLEDGED)} acknowledged, {self.count(REFUSED)} refused, "
            f"{self.count(IN_DOUBT)} in doubt; statuses {dict(self.statuses())}"
        )


PRACTICES = ["1.1", "2.2", "3.3", "4.1", "5.2", "8.3"]
LEVELS = ["0", "1", "2", "3", "nc"]


def run_burst(server: Gunicorn, *, clients: int, seconds: float,
              events: list[tuple[float, str, Callable[[], None]]] = (), seed: int = 6) -> BurstResult:
    """`clients` visitors autosave for `seconds`; each event (at, name, action) runs at `at`
    seconds from the start, in this thread, while they do."""
    visitors = [Visitor(server) for _ in range(clients)]
    uuids: list[str] = [""] * clients

    def start(i: int) -> None:
        uuids[i] = visitors[i].start_positioning()

    _in_threads([lambda i=i: start(i) for i in range(clients)], width=20)

    attempts: list[Attempt] = []
    lock = threading.Lock()
    started_at = time.monotonic()
    deadline = started_at + seconds

    def autosave(i: int) -> None:
        rng = random.Random(seed * 100_000 + i)
        visitor, seq, stamp = visitors[i], 0, 0
        mine: list[Attempt] = []
        while time.monotonic() < deadline:
            seq += 1
            practice, level = rng.choice(PRACTICES), rng.choice(LEVELS)
            comment = f"client {i} save {seq}"
            stamp = max(int(time.time() * 1000), stamp + 1)
            sent_at = time.monotonic()
            status, stale = None, False
            try:
                response = visitor.post(
                    f"/positionnements/{uuids[i]}/reponses/{practice}/",
                    {f"{practice}-niveau": level, f"{practice}-commentaire": comment, "edited_at": str(stamp)},
                    headers={"Accept": "application/json"},
                )
            except (OSError, http.client.HTTPException):
                outcome = IN_DOUBT
            else:
                status = response.status
                if 200 <= status < 300:
                    body = response.json()
                    stale = bool(body.get("stale"))
                    # A stale save was not applied: the server said so.
                    outcome = REFUSED if stale else ACKNOWLEDGED if body.get("ok") else IN_DOUBT
                else:
                    outcome = REFUSED if status < 500 else IN_DOUBT
            mine.append(Attempt(i, practice, seq, level, comment, sent_at, time.monotonic(), status, outcome, stale))
            if outcome != ACKNOWLEDGED:
                time.sleep(0.2)  # as a page would, rather than hammering a server in trouble
        with lock:
            attempts.extend(mine)

    threads = [threading.Thread(target=autosave, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    result = BurstResult(attempts, uuids, started_at)
    for at, name, action in sorted(events, key=lambda e: e[0]):
        time.sleep(max(0.0, started_at + at - time.monotonic()))
        result.events[f"{name} (start)"] = time.monotonic()
        action()
        result.events[name] = time.monotonic()
    for thread in threads:
        thread.join(timeout=seconds + 120)
        assert not thread.is_alive(), "a client never got an answer"
    attempts.sort(key=lambda a: (a.client, a.seq))
    return result


def at_once(calls: list[Callable]) -> list:
    """Run the calls in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(n: int) -> None:
        barrier.wait()
        results[n] = calls[n]()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _in_threads(functions: list[Callable[[], None]], *, width: int) -> None:
    errors: list[BaseException] = []
    pending = list(functions)
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                if not pending:
                    return
                function = pending.pop()
            try:
                function()
            except BaseException as exc:  # noqa: BLE001 - raised below, in the test's thread
                errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(width)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def lost_or_invented(result: BurstResult) -> list[str]:
    """Every (positioning, practice) whose stored answer breaks the rule in the module docstring."""
    by_uuid = {uuid: i for i, uuid in enumerate(result.uuids)}
    stored = {
        (by_uuid[str(uuid)], code): (level, comment)
        for uuid, code, level, comment in Answer.objects.filter(assessment__uuid__in=result.uuids)
        .values_list("assessment__uuid", "practice__code", "level__code", "comment")
    }
    tries: dict[tuple[int, str], list[Attempt]] = defaultdict(list)
    for attempt in result.attempts:
        tries[(attempt.client, attempt.practice)].append(attempt)
    problems = []
    for key, attempts in tries.items():
        acknowledged = [n for n, a in enumerate(attempts) if a.outcome == ACKNOWLEDGED]
        since = acknowledged[-1] if acknowledged else 0
        allowed = {
            (a.level, a.comment) for n, a in enumerate(attempts[since:], start=since)
            if a.outcome == IN_DOUBT or (acknowledged and n == since)
        }
        if not acknowledged:
            allowed.add(None)
        if stored.get(key) not in allowed:
            last = attempts[since] if acknowledged else None
            problems.append(f"client {key[0]} practice {key[1]}: stored {stored.get(key)}, last acknowledged "
                            f"{(last.level, last.comment) if last else None}")
    for key in stored.keys() - tries.keys():
        problems.append(f"client {key[0]} practice {key[1]}: stored {stored[key]} but never sent")
    return problems


def duplicated_answers(result: BurstResult) -> list[tuple]:
    return list(
        Answer.objects.filter(assessment__uuid__in=result.uuids)
        .values_list("assessment_id", "practice_id").annotate(n=Count("id")).filter(n__gt=1)
    )


def positionings_started(result: BurstResult) -> int:
    return Assessment.objects.filter(uuid__in=result.uuids).count()
