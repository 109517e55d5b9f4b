"""Faults injected into a server or command process the tests start (tests only).

A test cannot monkeypatch a gunicorn worker or a command running in another
process, so it names the fault: gunicorn (tests/reliability/wsgi.py) reads it
from the request's X-Grille-Fault header, a command (tests/reliability/command.py)
from the GRILLE_FAULT environment variable. Nothing here is imported by the
application.

"raise@N": the microdata export fails after N rows, as if the database went away.
"hang@N": the export stops after N rows and waits to be killed; the file named by
GRILLE_FAULT_MARKER, if set, is created when it gets there.
"""

from __future__ import annotations

import os
import time
from itertools import islice
from pathlib import Path

from django.db import OperationalError

# The fault of the request being served: a sync worker serves one request at a time,
# and the export runs while gunicorn iterates the response, after the view returned.
current = ""


def parse(fault: str) -> tuple[str, int] | None:
    if not fault:
        return None
    mode, _, rows = fault.partition("@")
    if mode not in ("raise", "hang") or not rows.isdigit():
        raise ValueError(f"unknown fault {fault!r}")
    return mode, int(rows)


def install() -> None:
    from grille.studies.exporters import MicrodataExporter

    rows = MicrodataExporter.rows

    def rows_with_fault(self):
        fault = parse(current)
        if fault is None:
            yield from rows(self)
            return
        mode, after = fault
        yield from islice(rows(self), after)
        if mode == "hang":
            if marker := os.environ.get("GRILLE_FAULT_MARKER"):
                Path(marker).touch()
            while True:
                time.sleep(1)
        raise OperationalError("server closed the connection unexpectedly (fault injected by the tests)")

    MicrodataExporter.rows = rows_with_fault
