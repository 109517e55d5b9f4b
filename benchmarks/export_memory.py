"""Peak resident memory of one microdata export, run alone in this process (benchmarks/bench.py
starts it once per export and size). Prints one JSON line: the resident memory before the
export, its peak during it, the growth, and the time taken.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/grille_bench \\
        .venv/bin/python -m benchmarks.export_memory --campaign 1 --what xlsx
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import time

from benchmarks.study_dashboard import setup_django


def peak_rss_mib() -> float:
    """High-water mark of this process's resident memory, C buffers included.

    VmHWM rather than ru_maxrss: Linux carries ru_maxrss over exec, so a child started by a
    large parent would report the parent's size."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux, bytes on macOS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--campaign", type=int, required=True)
    parser.add_argument("--what", choices=("csv", "xlsx", "xlsx_worker", "floor"), required=True)
    args = parser.parse_args()
    # The database is the benchmark's, already chosen by the parent (never a test database).
    setup_django(os.environ["DATABASE_URL"])

    # Loaded before the baseline, as in a gunicorn worker that has served the study pages: the
    # exporters bring numpy and scipy with them (80 MiB), which is no part of an export's cost.
    import openpyxl  # noqa: F401

    import grille.core.tabular.writing  # noqa: F401
    import grille.studies.exporters  # noqa: F401
    from benchmarks.bench import EXPORTS
    from grille.studies.models import Campaign

    campaign = Campaign.objects.get(pk=args.campaign)
    gc.collect()
    before = peak_rss_mib()
    began = time.perf_counter()
    size = EXPORTS[args.what](campaign)
    seconds = time.perf_counter() - began
    peak = peak_rss_mib()
    print(json.dumps({"baseline_mib": before, "peak_mib": peak, "growth_mib": peak - before,
                      "seconds": seconds, "output": size}))


if __name__ == "__main__":
    main()
