"""The questionnaire's hot pages against their floors, measured with wrk (issue 16).

    .venv/bin/python -m benchmarks.pages                       # 3 rounds of 15 s per figure
    .venv/bin/python -m benchmarks.pages --rounds 1 --seconds 5   # a smoke run
    .venv/bin/python -m benchmarks.pages --src /tmp/old-tree   # the same harness against other code

gunicorn (sync workers, production settings: benchmarks/settings.py, DEBUG off, manifest static
files) on PostgreSQL, in a database of its own (``grille_bench_pages`` by default, never a
``test*`` one), driven by ``wrk -t2 -c32`` on loopback, after an untimed warm-up of each figure
(``--warmup``, 3 s). Each round runs every figure once, in an
order that turns round to round, each beside its floors measured in the same round:

- **floor**: a page of the step page's size, no database, no template (benchmarks/urls.py);
- **floor with session**: the same page after reading its session and the person, as any page
  about a positioning must; the targets are ratios to this one;
- **step**: GET of a questionnaire step of a draft half answered;
- **autosave**: POST of one practice (3 options and an empty comment, a fresh edit stamp),
  every reply checked (200 and ``"ok": true``; one refused as older is counted apart);
- **profile**: GET of a submitted positioning's profile page.

Each ratio is the median of the per-round ratios. Workers' memory (RSS and PSS, from /proc) is
read after the runs, that is after warm-up. Results go to benchmarks/results/pages.json.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.bench import (
    CSRF_INPUT,
    HTTP_OWNER,
    STEP,
    collectstatic,
    open_sessions,
    prepare_http,
    server_environment,
    stop_gunicorn,
)
from benchmarks.study_dashboard import RESULTS_DIR, ROOT, environment, open_bench_database

DATABASE = "grille_bench_pages"
FIGURES = ("floor", "floor_session", "step", "autosave", "profile")
# Issue 16: the figure's req/s against the floor with a session, measured in the same round.
TARGETS = {"step": 0.5, "autosave": 0.5, "profile": 0.3}
AUTOSAVE_RATE, AUTOSAVE_P95_MS = 400, 200
WORKER_RSS_MIB = 100
MIB = 2**20

# One Lua state per wrk thread: each thread takes every n-th slot (a draft and a submitted
# positioning with their session), so that in-flight autosaves rarely wait on one row's lock.
LUA = r"""
local slots = %(slots)s
local figure = "%(figure)s"
local fields = %(fields)s
local counter = 0
local threads = {}
thread_index = 0
bad = 0
stale = 0
local stamp0 = 0

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function init(args)
  stamp0 = os.time() * 1000
end

local function pick()
  counter = counter + 1
  local index = (counter * %(threads)d + thread_index) %% #slots + 1
  return slots[index]
end

function request()
  local slot = pick()
  local headers = {["Cookie"] = slot.cookie}
  if figure == "floor" then
    return wrk.format("GET", "/_bench/floor/?bytes=" .. fields.bytes, {})
  elseif figure == "floor_session" then
    return wrk.format("GET", "/_bench/floor/session/?bytes=" .. fields.bytes, headers)
  elseif figure == "step" then
    return wrk.format("GET", slot.step, headers)
  elseif figure == "profile" then
    return wrk.format("GET", slot.profile, headers)
  end
  local code = fields.practices[counter %% #fields.practices + 1]
  local function pick_of(list) return list[(counter * 7 + #code) %% #list + 1] end
  local body = code .. "-" .. fields.level .. "=" .. pick_of(fields.levels)
    .. "&" .. code .. "-" .. fields.wish .. "=" .. pick_of(fields.wishes)
    .. "&" .. code .. "-" .. fields.carrying .. "=" .. pick_of(fields.carryings)
    .. "&" .. code .. "-" .. fields.comment .. "="
    .. "&edited_at=" .. string.format("%%d", stamp0 + counter)
  headers["X-CSRFToken"] = slot.csrf
  headers["Accept"] = "application/json"
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  return wrk.format("POST", slot.autosave_prefix .. code .. "/", headers, body)
end

function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
  elseif figure == "autosave" then
    if not string.find(body, '"ok": true', 1, true) then bad = bad + 1
    elseif string.find(body, '"stale": true', 1, true) then stale = stale + 1 end
  elseif figure == "step" then
    if not string.find(body, "csrfmiddlewaretoken", 1, true) then bad = bad + 1 end
  elseif figure == "profile" then
    if not string.find(body, "<svg", 1, true) then bad = bad + 1 end
  end
end

function done(summary, latency, requests)
  local b, s = 0, 0
  for _, thread in ipairs(threads) do
    b = b + thread:get("bad")
    s = s + thread:get("stale")
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p95_us": %%d, "p99_us": %%d, '
    .. '"socket_errors": %%d, "status_errors": %%d, "bad": %%d, "stale": %%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status, b, s))
end
"""


def lua_table(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{lua_table(k)}] = {lua_table(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "{" + ", ".join(lua_table(v) for v in value) + "}"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(str(value))  # a JSON string is a valid Lua string for these values


def wrk_script(figure: str, prep: dict[str, Any], path: Path, threads: int) -> Path:
    slots = [
        {
            "cookie": "; ".join(f"{k}={v}" for k, v in slot["cookies"].items()),
            "csrf": slot["csrf"],
            "step": f"/positionnements/{slot['draft_uuid']}/etape/{prep['step']}/",
            "profile": f"/positionnements/{slot['submitted_uuid']}/profil/",
            "autosave_prefix": f"/positionnements/{slot['draft_uuid']}/reponses/",
        }
        for slot in prep["users"]
    ]
    fields = {**prep["autosave"], "bytes": prep["floor_bytes"]}
    path.write_text(LUA % {"slots": lua_table(slots), "figure": figure, "fields": lua_table(fields), "threads": threads})
    return path


TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int | str, *, reaped: bool = False) -> float:
    """Seconds of CPU (user and system) a process has used, or 0 once it is gone; with
    ``reaped``, those of its children that ended and were waited for."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    first = 13 if reaped else 11
    return (int(fields[first]) + int(fields[first + 1])) / TICKS


REAPED = "reaped"  # in a snapshot's ``postgres``: the CPU of its processes ended so far


def cpu_snapshot(master: int | None) -> dict[str, dict[str, float]]:
    """CPU seconds used so far by each gunicorn worker and each PostgreSQL process, and by the
    PostgreSQL processes already ended (a connection older than CONN_MAX_AGE is closed and
    opened again while the runs go on: its server process ends)."""
    workers: dict[str, float] = {}
    if master is not None:
        workers = {pid: process_cpu(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()}
    postgres: dict[str, float] = {REAPED: 0.0}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    postgres[entry.name] = process_cpu(entry.name)
                    postgres[REAPED] += process_cpu(entry.name, reaped=True)
            except OSError:
                continue
    return {"workers": workers, "postgres": postgres}


def cpu_used(before: dict[str, dict[str, float]], after: dict[str, dict[str, float]]) -> dict[str, float]:
    """CPU seconds used between two snapshots, by kind of process. A process started between
    them counts whole; one ended between them counts through its parent's reaped children's
    time, which holds its whole life: what it had used at the first snapshot is taken off."""
    used = {}
    for kind, processes in after.items():
        total = sum(seconds - before[kind].get(pid, 0.0) for pid, seconds in processes.items() if pid != REAPED)
        if REAPED in processes:
            ended = sum(seconds for pid, seconds in before[kind].items() if pid != REAPED and pid not in processes)
            total += processes[REAPED] - before[kind][REAPED] - ended
        used[kind] = total
    return used


def run_wrk(figure: str, *, host: str, prep: dict[str, Any], work: Path, args: argparse.Namespace,
            master: int | None = None) -> dict[str, Any]:
    script = wrk_script(figure, prep, work / f"{figure}.lua", args.threads)
    before, children = cpu_snapshot(master), os.times()
    done = subprocess.run(
        ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s", "--timeout", "10s",
         "-s", str(script), host],
        capture_output=True, text=True, timeout=args.seconds + 120, check=False,
    )
    line = next((line for line in done.stdout.splitlines() if line.startswith("WRKJSON ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"wrk {figure} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    stats = json.loads(line.removeprefix("WRKJSON "))
    seconds = stats["duration_us"] / 1e6
    after, children_after = cpu_snapshot(master), os.times()
    count = max(stats["requests"], 1)
    # CPU per request, by who spends it: less sensitive than req/s to what else the machine does
    # (the same code measured twice moves req/s by a fifth on a shared host, and CPU much less).
    cpu_ms = {key: seconds * 1000 / count for key, seconds in cpu_used(before, after).items()}
    cpu_ms["wrk"] = ((children_after.children_user - children.children_user)
                     + (children_after.children_system - children.children_system)) * 1000 / count
    return {
        "cpu_ms": cpu_ms,
        "requests": stats["requests"], "rps": stats["requests"] / seconds,
        "p50_ms": stats["p50_us"] / 1000, "p95_ms": stats["p95_us"] / 1000, "p99_ms": stats["p99_us"] / 1000,
        "errors": stats["socket_errors"] + stats["status_errors"], "bad": stats["bad"], "stale": stats["stale"],
    }


def start_gunicorn(env: dict[str, str], *, src: Path, port: int, workers: int, preload: bool,
                   log_path: Path) -> tuple[subprocess.Popen, str]:
    host = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "gunicorn", "grille.wsgi:application", "--workers", str(workers),
               "--bind", f"127.0.0.1:{port}", "--chdir", str(src), "--error-logfile", str(log_path)]
    if preload:
        command.append("--preload")
    process = subprocess.Popen(command, env={**env, "PYTHONPATH": str(src)}, cwd=src,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn stopped (exit {process.returncode}); see {log_path}")
        try:
            with urllib.request.urlopen(f"{host}/_bench/floor/?bytes=10", timeout=2) as response:
                if response.status == 200:
                    return process, host
        except OSError:
            time.sleep(0.3)
    stop_gunicorn(process)
    raise SystemExit(f"gunicorn did not answer within 60 s; see {log_path}")


def worker_memory(master: int) -> list[dict[str, float]]:
    """RSS and PSS (shared pages divided among the processes sharing them) of each worker."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    workers = []
    for pid in children:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        fields = {m.group(1): int(m.group(2)) for m in re.finditer(r"^(Rss|Pss):\s+(\d+) kB", rollup, re.M)}
        workers.append({"pid": int(pid), "rss_mib": fields["Rss"] / 1024, "pss_mib": fields["Pss"] / 1024})
    return workers


def sign_in(host: str, prep: dict[str, Any]) -> None:
    """--signed-in: each slot's browser signs in as the owner of its positionings, as a person
    does, through a sign-in link (made here, where the e-mail would carry it) opened and
    confirmed; its cookies and CSRF token then replace the slot's. Every figure is then
    measured signed in, the floor with session included (it then reads the person too)."""
    from datetime import timedelta

    from django.utils import timezone

    from grille.accounts.models import LoginLink
    from grille.core.tokens import new_token

    for slot in prep["users"]:
        raw, digest = new_token()
        LoginLink.objects.create(email=HTTP_OWNER, token_hash=digest, expires_at=timezone.now() + timedelta(minutes=30))
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        confirm = f"{host}/connexion/lien/{raw}/"
        page = opener.open(confirm, timeout=60).read().decode()
        token = CSRF_INPUT.search(page)
        if token is None:
            raise SystemExit("pages: no CSRF token on the sign-in confirmation page")
        opener.open(confirm, data=urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1)}).encode(), timeout=60).read()
        # Signing in gives a new CSRF token: read again from the step page, as the runs get it.
        page = opener.open(f"{host}/positionnements/{slot['draft_uuid']}/etape/{STEP}/", timeout=60).read().decode()
        token = CSRF_INPUT.search(page)
        if token is None or "/deconnexion/" not in page:
            raise SystemExit("pages: the step page is not seen signed in after the sign-in link")
        slot["csrf"] = token.group(1)
        slot["cookies"] = {cookie.name: cookie.value for cookie in jar}


def bench_pages(url: str, args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    prep = prepare_http(args.slots, log)
    env = server_environment(url)
    collectstatic(env, log)
    work = Path(tempfile.mkdtemp(prefix="grille-pages-"))
    log_path = RESULTS_DIR / "pages-gunicorn.log"
    process, host = start_gunicorn(env, src=args.src, port=args.port, workers=args.workers,
                                   preload=args.preload, log_path=log_path)
    log(f"pages: gunicorn, {args.workers} workers{' (--preload)' if args.preload else ''}, {args.src}, on {host}")
    runs: dict[str, list[dict[str, Any]]] = {f: [] for f in FIGURES}
    try:
        prep["floor_bytes"] = open_sessions(host, prep)
        if args.signed_in:
            sign_in(host, prep)
            log(f"pages: {len(prep['users'])} browsers signed in as the positionings' owner")
        started_memory = worker_memory(process.pid)
        if args.warmup:
            # Untimed: each worker reads its grids, fills its caches and builds each page's
            # skeleton once (a profile's is per positioning: 64 of them, in each worker).
            warm = argparse.Namespace(**{**vars(args), "seconds": args.warmup})
            for figure in FIGURES:
                run_wrk(figure, host=host, prep=prep, work=work, args=warm)
            log(f"pages: warm-up, {args.warmup} s per figure")
        for round_ in range(args.rounds):
            order = FIGURES[round_ % len(FIGURES):] + FIGURES[:round_ % len(FIGURES)]
            for figure in order:
                stats = run_wrk(figure, host=host, prep=prep, work=work, args=args, master=process.pid)
                runs[figure].append(stats)
                log(f"pages: round {round_ + 1}, {figure}: {stats['rps']:.0f} req/s, p50 {stats['p50_ms']:.0f} ms,"
                    f" p95 {stats['p95_ms']:.0f} ms, {stats['errors']} errors, {stats['bad']} bad replies")
        memory = worker_memory(process.pid)
    finally:
        stop_gunicorn(process)
    figures: dict[str, Any] = {}
    for figure in FIGURES:
        rows = runs[figure]
        figures[figure] = {
            "runs": rows,
            **{k: statistics.median(r[k] for r in rows) for k in ("rps", "p50_ms", "p95_ms", "p99_ms")},
            "errors": sum(r["errors"] for r in rows), "bad": sum(r["bad"] for r in rows),
            "cpu_ms": {key: statistics.median(r["cpu_ms"][key] for r in rows) for key in rows[0]["cpu_ms"]},
            "stale": sum(r["stale"] for r in rows),
            "vs_floor": statistics.median(r["rps"] / f["rps"] for r, f in zip(rows, runs["floor"], strict=True)),
            "vs_session_floor": statistics.median(
                r["rps"] / f["rps"] for r, f in zip(rows, runs["floor_session"], strict=True)
            ),
        }
    return {
        "src": str(args.src), "workers": args.workers, "preload": args.preload, "threads": args.threads,
        "connections": args.connections, "seconds": args.seconds, "rounds": args.rounds, "warmup": args.warmup,
        "floor_bytes": prep["floor_bytes"], "figures": figures, "signed_in": args.signed_in,
        "memory_at_start": started_memory, "memory_after": memory,
    }


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def cpu_text(figure: dict[str, Any]) -> str:
    cpu = figure.get("cpu_ms")
    if not cpu:
        return ""
    return f"{sum(cpu.values()):.2f} = {cpu['workers']:.2f} + {cpu['postgres']:.2f} + {cpu['wrk']:.2f}"


def markdown(results: dict[str, Any]) -> str:
    f = results["figures"]
    lines = [
        f"wrk -t{results['threads']} -c{results['connections']} -d{results['seconds']}s, {results['rounds']} rounds,"
        f" after {results.get('warmup', 0)} s of warm-up per figure,"
        f" gunicorn {results['workers']} sync workers{' --preload' if results['preload'] else ''}, medians"
        f"{', every figure signed in' if results.get('signed_in') else ''}",
        "",
        "| figure | req/s | p50 / p95 / p99 | vs. bare floor | vs. floor with session | target | |"
        " CPU ms per request: workers + PostgreSQL + wrk |",
        "|---|---:|---|---:|---:|---|---|---|",
    ]
    labels = {"floor": "bare floor view", "floor_session": "floor view reading its session",
              "step": "questionnaire step page", "autosave": "autosave", "profile": "profile page (submitted)"}
    for name in FIGURES:
        x = f[name]
        target = TARGETS.get(name)
        ok = target is not None and x["vs_session_floor"] >= target and not x["errors"] and not x["bad"]
        lines.append(
            f"| {labels[name]} | {x['rps']:,.0f} | {x['p50_ms']:.0f} / {x['p95_ms']:.0f} / {x['p99_ms']:.0f} ms |"
            f" {x['vs_floor']:.2f}× | {x['vs_session_floor']:.2f}× | {f'≥ {target}×' if target else ''} |"
            f" {verdict(ok) if target else ''} | {cpu_text(x)} |"
        )
    a = f["autosave"]
    sustained = a["rps"] >= AUTOSAVE_RATE and a["p95_ms"] < AUTOSAVE_P95_MS and not a["errors"] and not a["bad"]
    lines.append(
        f"| autosaves sustained | {a['rps']:,.0f}/s at p95 {a['p95_ms']:.0f} ms; {a['errors'] + a['bad']} failed,"
        f" {a['stale']} refused as older | | | | ≥ {AUTOSAVE_RATE}/s at p95 < {AUTOSAVE_P95_MS} ms, none lost |"
        f" {verdict(sustained)} | {cpu_text(a)} |"
    )
    rss = max(w["rss_mib"] for w in results["memory_after"])
    pss = max(w["pss_mib"] for w in results["memory_after"])
    start = max(w["rss_mib"] for w in results["memory_at_start"])
    lines.append(
        f"| worker memory after warm-up | RSS {rss:.0f} MiB (PSS {pss:.0f}); {start:.0f} MiB before the runs |"
        f" | | | RSS ≤ {WORKER_RSS_MIB} MiB | {verdict(rss <= WORKER_RSS_MIB)} | |"
    )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3, help="untimed seconds per figure before the rounds (0: none)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--preload", action="store_true", help="gunicorn --preload (as the README's command)")
    parser.add_argument("--slots", type=int, default=64, help="draft/submitted pairs, each with its session")
    parser.add_argument("--port", type=int, default=8114)
    parser.add_argument("--src", type=Path, default=ROOT, help="the source tree gunicorn serves (default: this one)")
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "pages.json")
    parser.add_argument("--table-only", action="store_true", help="print the table of --output")
    parser.add_argument("--signed-in", action="store_true",
                        help="every figure with browsers signed in as the positionings' owner (pages-signed-in.json)")
    args = parser.parse_args(argv)
    if args.signed_in and args.output == RESULTS_DIR / "pages.json":
        args.output = RESULTS_DIR / "pages-signed-in.json"
    if min(args.rounds, args.seconds, args.threads, args.connections, args.workers, args.slots) < 1:
        parser.error("positive rounds, seconds, threads, connections, workers and slots")
    args.src = args.src.resolve()
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.table_only:
        print(markdown(json.loads(args.output.read_text())))
        return
    url, log = open_bench_database(args.database)
    results = bench_pages(url, args, log)
    results["environment"] = environment()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    log(f"results written to {args.output}")
    print(markdown(results))


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grille.settings")
    main()
