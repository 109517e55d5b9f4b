"""Locust users for `make bench` (benchmarks/bench.py starts locust with this file).

BENCH_PREP names the JSON the harness prepared (per user, a draft and a submitted positioning
and the cookies of a session that opened both with their resume links; the step to load, the
autosave fields, the floor page's size); BENCH_SCENARIO says what each
user does in a loop, with no pause: "step", "autosave", "profile" or "floor".
"""

from __future__ import annotations

import itertools
import json
import os
import random
from pathlib import Path

from locust import FastHttpUser, constant, task
from requests.cookies import create_cookie

PREP = json.loads(Path(os.environ["BENCH_PREP"]).read_text(encoding="utf-8"))
SCENARIO = os.environ["BENCH_SCENARIO"]
SLOTS = itertools.count()


class Respondent(FastHttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        # Each user has positionings of their own: autosaves do not queue on one row's lock.
        self.slot = PREP["users"][next(SLOTS) % len(PREP["users"])]
        self.rng = random.Random(self.slot["draft_uuid"])
        self.practices = itertools.cycle(PREP["autosave"]["practices"])
        # Sessions opened beforehand by the harness (resume links followed as in a browser).
        for name, value in self.slot["cookies"].items():
            self.client.cookiejar.set_cookie(create_cookie(name, value, domain=PREP["cookie_domain"]))
        self.csrf = self.slot["csrf"]

    @property
    def step_url(self) -> str:
        return f"/positionnements/{self.slot['draft_uuid']}/etape/{PREP['step']}/"

    @task
    def loop(self) -> None:
        getattr(self, SCENARIO)()

    def step(self) -> None:
        with self.client.get(self.step_url, name="step", catch_response=True) as response:
            if response.status_code == 200 and "csrfmiddlewaretoken" not in (response.text or ""):
                response.failure("not the step page")

    def autosave(self) -> None:
        fields = PREP["autosave"]
        code = next(self.practices)
        data = {
            f"{code}-{fields['level']}": self.rng.choice(fields["levels"]),
            f"{code}-{fields['wish']}": self.rng.choice(fields["wishes"]),
            f"{code}-{fields['carrying']}": self.rng.choice(fields["carryings"]),
            f"{code}-{fields['comment']}": "",
        }
        url = f"/positionnements/{self.slot['draft_uuid']}/reponses/{code}/"
        with self.client.post(
            url, data=data, name="autosave", catch_response=True,
            headers={"X-CSRFToken": self.csrf, "Accept": "application/json"},
        ) as response:
            if response.status_code == 200 and not (response.json() or {}).get("ok"):
                response.failure("not saved")

    def profile(self) -> None:
        with self.client.get(
            f"/positionnements/{self.slot['submitted_uuid']}/profil/", name="profile", catch_response=True
        ) as response:
            if response.status_code == 200 and "<svg" not in (response.text or ""):
                response.failure("no radar on the profile page")

    def floor(self) -> None:
        self.client.get(f"/_bench/floor/?bytes={PREP['floor_bytes']}", name="floor")
