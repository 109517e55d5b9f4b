"""A web worker loads only what serving pages needs (issue 16): numpy, scipy, openpyxl and
WeasyPrint are imported by the functions that compute statistics, write XLSX or PDF."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("numpy", "scipy", "openpyxl", "weasyprint")

SCRIPT = """
import sys
import django
django.setup()
import grille.urls  # every view module, as a worker loads them on its first request
from django.urls import get_resolver
get_resolver().url_patterns
print(",".join(sorted(name for name in {heavy!r} if name in sys.modules)))
"""


def loaded_after(script: str) -> list[str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "grille.settings", "GRILLE_DEV": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    return [name for name in last.split(",") if name]


def test_importing_the_urls_loads_none_of_the_heavy_libraries() -> None:
    assert loaded_after(SCRIPT.format(heavy=HEAVY)) == []


def test_the_check_sees_a_heavy_library_once_it_is_used() -> None:
    # The same subprocess, after a statistic is computed: the check above can fail.
    script = SCRIPT.format(heavy=HEAVY).replace(
        "print(", "from grille.core.statistics import mean_ci\nmean_ci(3, 1.0, 0.5)\nprint(", 1
    )
    assert "scipy" in loaded_after(script)
