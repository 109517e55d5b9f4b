"""A real gunicorn serving the test database, and visitors who talk to it over HTTP.

The reliability tests need what the Django test client cannot give: several
worker processes, workers that can be killed, and responses that go through
gunicorn's own HTTP framing.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)


def database_url() -> str:
    """DATABASE_URL for another process to use the database this test runs on."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    # The same server and credentials as the suite's DATABASE_URL, the per-process test database.
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{db['NAME']}"))


def is_postgresql() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def process_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "GRILLE_DEV": "1",
        "DATABASE_URL": database_url(),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


class Gunicorn:
    """gunicorn with sync workers, as in production, on a socket the test bound itself."""

    def __init__(self, *, workers: int, log: Path, env: dict[str, str] | None = None, timeout: int = 30):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(2048)
        self.host, self.port = self.listener.getsockname()
        self.workers = workers
        self.log = log
        self._log_file = log.open("wb")
        fd = self.listener.fileno()
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "tests.reliability.wsgi:application",
                "--bind", f"fd://{fd}", "--workers", str(workers), "--timeout", str(timeout),
                "--graceful-timeout", "5", "--backlog", "2048",
            ],
            cwd=BASE_DIR, env=process_env(**(env or {})), pass_fds=(fd,),
            stdout=self._log_file, stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped on start:\n{self.log_tail()}")
            try:
                if Visitor(self).get("/").status == 200 and len(self.worker_pids()) == self.workers:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn not ready after {timeout} s:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except FileNotFoundError:
            return []

    def kill_worker(self) -> int:
        pid = self.worker_pids()[0]
        os.kill(pid, signal.SIGKILL)
        return pid

    def log_tail(self, lines: int = 40) -> str:
        self._log_file.flush()
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self.listener.close()
        self._log_file.close()


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


@dataclass
class Visitor:
    """One browser: its own cookies, one request at a time, each on a new connection."""

    server: Gunicorn
    timeout: float = 60
    cookies: dict[str, str] = field(default_factory=dict)

    def connect(self, method: str = "GET", path: str = "/", data: dict | None = None,
                headers: dict | None = None, body: str | None = None) -> http.client.HTTPConnection:
        """Send the request and return the connection, for a test that reads the response itself."""
        connection = http.client.HTTPConnection(self.server.host, self.server.port, timeout=self.timeout)
        sent = {"Host": f"{self.server.host}:{self.server.port}", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if data is not None:
            body = urlencode(data)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            sent["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        connection.request(method, path, body=body, headers=sent)
        original = connection.getresponse

        def getresponse():
            response = original()
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return response

        connection.getresponse = getresponse
        return connection

    def get(self, path: str, headers: dict | None = None) -> Response:
        return self._send("GET", path, None, headers)

    def post(self, path: str, data: dict | None = None, headers: dict | None = None) -> Response:
        return self._send("POST", path, data or {}, headers)

    def _send(self, method, path, data, headers) -> Response:
        connection = self.connect(method, path, data, headers)
        try:
            response = connection.getresponse()
            return Response(response.status, response.headers, response.read())
        finally:
            connection.close()

    def start_positioning(self) -> str:
        """Open the home page, click « Commencer »: the new positioning's uuid."""
        self.get("/")
        response = self.post("/positionnements/nouveau/", {"csrfmiddlewaretoken": self.cookies["csrftoken"]})
        assert response.status == 302, (response.status, response.body[:300])
        return response.location.rstrip("/").split("/")[-2]
