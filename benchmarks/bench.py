"""`make bench`: Grille as in production (gunicorn, PostgreSQL, DEBUG off) driven by locust on
loopback, then the heavy pages and exports in process; every figure beside a floor measured in
the same run, reported as a ratio. Ratios travel between machines, seconds do not.

    make bench                                        # everything, at 10 000 and 100 000 respondents
    make bench BENCH_ARGS="--quick --sizes 10000"     # a few minutes
    .venv/bin/python -m benchmarks.bench --help

Works in the PostgreSQL database ``grille_bench`` (created if missing, campaigns kept between
runs; see benchmarks/README.md), never in the database named in DATABASE_URL.
"""

from __future__ import annotations

import argparse
import csv
import http.cookiejar
import json
import logging
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.mail import DEFAULT_INVITEES as MAIL_INVITEES
from benchmarks.mail import bench_mail
from benchmarks.mail import markdown_rows as mail_rows
from benchmarks.study_dashboard import (
    BENCH_DATABASE,
    COMPARE,
    FILTERS,
    RESULTS_DIR,
    ROOT,
    SEED,
    Figure,
    campaign_facts,
    check_floor_matches,
    environment,
    fmt_seconds,
    get_or_generate_campaign,
    measure,
    open_bench_database,
    read_microdata_floor,
    run_floor,
    vacuum_analyze,
)

LOCUSTFILE = ROOT / "benchmarks" / "locustfile.py"
DEFAULT_SIZES = (10_000, 100_000)
HTTP_SCENARIOS = ("step", "autosave", "profile")
# The step shown by the GET figure; its size in bytes is the floor page's size.
STEP = 1
TEAM_SIZE = 30
TEAM_ANONYMOUS = 5  # of the 30: shared anonymously, counted once there are at least 3
TEAM_NAME = f"Benchmark équipe {TEAM_SIZE} (données fictives)"
HTTP_OWNER = "bench-http@exemple.invalid"
PDF_OWNER = "bench-pdf@exemple.invalid"
EXPORT_OWNER = "bench-export@exemple.invalid"
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
MIB = 2**20

# Targets of issue 6: the figure against its floor, measured in the same run.
TARGETS = {
    "step": ("rps", 0.5), "autosave": ("rps", 0.4), "profile": ("rps", 0.3),
    "team_map": ("time", 3.0), "dashboard": ("time", 3.0), "export_csv": ("time", 3.0),
}
PEAK_MEMORY_TARGET_MIB = 250
EXPORT_LABELS = {"csv": "CSV export", "xlsx": "XLSX export", "xlsx_worker": "XLSX built by the worker"}


# --- HTTP: gunicorn and locust ------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(url: str) -> dict[str, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "benchmarks.settings", "DATABASE_URL": url,
           "PYTHONPATH": str(ROOT)}
    # Set for this process by setup_django; production has neither.
    env.pop("GRILLE_DEV", None)
    env["DEBUG"] = "0"
    return env


def prepare_http(users: int, log: Callable[[str], None]) -> dict[str, Any]:
    """For each locust user, a draft positioning (half answered) and a submitted one, each with a
    resume link; last run's are deleted first."""
    from grille.accounts.models import User
    from grille.assessments import services
    from grille.assessments.forms import COMMENT_FIELD
    from grille.assessments.models import Assessment
    from grille.frameworks.selectors import get_default_version, get_grid

    owner = User.objects.filter(email=HTTP_OWNER).first() or User.objects.create_user(
        HTTP_OWNER, display_name="Benchmark HTTP (données fictives)"
    )
    Assessment.objects.filter(owner=owner).delete()
    version = get_default_version()
    grid = get_grid(version.pk)
    rng = random.Random(SEED)
    half = len(grid.practices) // 2
    slots = []
    for _ in range(users):
        draft, draft_token = services.start_assessment(version=version, owner=owner)
        services.save_answers(assessment=draft, items=random_answers(grid, grid.practices[:half], rng))
        submitted, submitted_token = services.start_assessment(version=version, owner=owner)
        services.save_answers(assessment=submitted, items=random_answers(grid, grid.practices, rng))
        services.submit_assessment(assessment=submitted)
        slots.append({"draft_uuid": str(draft.uuid), "draft_token": draft_token,
                      "submitted_uuid": str(submitted.uuid), "submitted_token": submitted_token})
    log(f"http: {users} draft and {users} submitted positionings prepared")
    return {
        "users": slots,
        "step": STEP,
        "autosave": {
            "practices": [p.code for p in grid.situations[STEP - 1].practices],
            "level": grid.level.code, "wish": grid.wish.code, "carrying": grid.carrying.code, "comment": COMMENT_FIELD,
            "levels": [o.code for o in grid.level.options], "wishes": [o.code for o in grid.wish.options],
            "carryings": [o.code for o in grid.carrying.options],
        },
    }


def random_answers(grid, practices, rng: random.Random) -> list:
    from grille.assessments.services import AnswerInput

    return [
        AnswerInput(
            practice_code=p.code,
            level=rng.choice(grid.level.options).code,
            wish=rng.choice(grid.wish.options).code,
            carrying=rng.choice(grid.carrying.options).code,
        )
        for p in practices
    ]


def collectstatic(env: dict[str, str], log: Callable[[str], None]) -> None:
    """The manifest storage of production needs it; into var/bench-static (benchmarks/settings.py),
    again only when a static file of grille changed since (it takes a minute)."""
    manifest = ROOT / "var" / "bench-static" / "staticfiles.json"
    sources = [p.stat().st_mtime for p in (ROOT / "grille").glob("*/static/**/*") if p.is_file()]
    if manifest.exists() and manifest.stat().st_mtime > max(sources, default=0):
        return
    log("http: collectstatic")
    subprocess.run([sys.executable, "-m", "django", "collectstatic", "--noinput", "-v", "0"],
                   env=env, cwd=ROOT, check=True)


def start_gunicorn(env: dict[str, str], *, workers: int, log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    host = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "grille.wsgi:application", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT), "--error-logfile", str(log_path)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
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


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def open_sessions(host: str, prep: dict[str, Any]) -> int:
    """Open each user's positionings with their resume links, as a browser would, and keep the
    session and CSRF cookies for locust: the timed runs then make only the requests measured.
    Returns the size in bytes of the step page, which the floor page is given."""
    size = 0
    for slot in prep["users"]:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        opener.open(f"{host}/reprendre/{slot['draft_token']}/", timeout=60).read()
        opener.open(f"{host}/reprendre/{slot['submitted_token']}/", timeout=60).read()
        # Loaded again once the welcome-back message has been shown: the page as the runs get it.
        with opener.open(f"{host}/positionnements/{slot['draft_uuid']}/etape/{STEP}/", timeout=60) as response:
            page = response.read()
        match = CSRF_INPUT.search(page.decode())
        if match is None:
            raise SystemExit("http: no CSRF token on the step page")
        slot["csrf"] = match.group(1)
        slot["cookies"] = {cookie.name: cookie.value for cookie in jar}
        size = size or len(page)
    return size


def run_locust(scenario: str, *, host: str, users: int, seconds: int, prep_path: Path, prefix: Path) -> dict[str, Any]:
    """One headless locust run of one scenario; its line of locust's CSV statistics."""
    env = {**os.environ, "BENCH_PREP": str(prep_path), "BENCH_SCENARIO": scenario}
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", host,
        "--users", str(users), "--spawn-rate", str(users), "--run-time", f"{seconds}s",
        "--csv", str(prefix), "--only-summary", "--stop-timeout", "5",
        "--loglevel", "WARNING", "--exit-code-on-error", "0",
    ]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=seconds + 180)
    if done.returncode != 0:
        raise SystemExit(f"locust {scenario} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    with open(f"{prefix}_stats.csv", newline="", encoding="utf-8") as file:
        row = next((r for r in csv.DictReader(file) if r["Name"] == scenario), None)
    if row is None:
        raise SystemExit(f"locust {scenario}: no request made\n{done.stderr[-3000:]}")
    return {
        "requests": int(row["Request Count"]),
        "failures": int(row["Failure Count"]),
        "rps": float(row["Requests/s"]),
        "p50_ms": float(row["50%"]),
        "p95_ms": float(row["95%"]),
        "p99_ms": float(row["99%"]),
        "mean_ms": float(row["Average Response Time"]),
        "bytes": float(row["Average Content Size"]),
        # Locust warns when its own process saturates a core: the floor would then be locust's.
        "locust_cpu_bound": "CPU usage" in done.stderr,
    }


def bench_http(url: str, args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    prep = prepare_http(args.users, log)
    env = server_environment(url)
    collectstatic(env, log)
    work = Path(tempfile.mkdtemp(prefix="grille-bench-"))
    log_path = RESULTS_DIR / "gunicorn.log"
    process, host = start_gunicorn(env, workers=args.workers, log_path=log_path)
    log(f"http: gunicorn, {args.workers} workers, on {host}")
    try:
        prep["floor_bytes"] = open_sessions(host, prep)
        prep["cookie_domain"] = "127.0.0.1"
        prep_path = work / "prep.json"
        prep_path.write_text(json.dumps(prep))
        runs: dict[str, list[dict]] = {s: [] for s in HTTP_SCENARIOS}
        floors: dict[str, list[dict]] = {s: [] for s in HTTP_SCENARIOS}
        for round_ in range(args.http_rounds):
            for scenario in HTTP_SCENARIOS:
                # Each figure right beside its own floor run, in alternating order round to round.
                pair = [("floor", floors), (scenario, runs)]
                for name, into in pair if round_ % 2 == 0 else pair[::-1]:
                    stats = run_locust(name, host=host, users=args.users, seconds=args.seconds,
                                       prep_path=prep_path, prefix=work / f"{scenario}_{name}_{round_}")
                    into[scenario].append(stats)
                    log(f"http: round {round_ + 1}, {name} (beside {scenario}): {stats['rps']:.1f} req/s, "
                        f"p95 {stats['p95_ms']:.0f} ms, {stats['failures']} failures")
    finally:
        stop_gunicorn(process)
    figures = {}
    for scenario in HTTP_SCENARIOS:
        ratios = [f["rps"] / b["rps"] for f, b in zip(runs[scenario], floors[scenario], strict=True)]
        figures[scenario] = {
            "runs": runs[scenario], "floor_runs": floors[scenario],
            **{key: statistics.median(r[key] for r in runs[scenario]) for key in ("rps", "p50_ms", "p95_ms", "p99_ms")},
            "failures": sum(r["failures"] for r in runs[scenario]),
            "floor_rps": statistics.median(r["rps"] for r in floors[scenario]),
            "floor_p95_ms": statistics.median(r["p95_ms"] for r in floors[scenario]),
            "ratio": statistics.median(ratios),
            "locust_cpu_bound": any(r["locust_cpu_bound"] for r in runs[scenario] + floors[scenario]),
        }
    return {"workers": args.workers, "users": args.users, "seconds": args.seconds, "rounds": args.http_rounds,
            "floor_bytes": prep["floor_bytes"], "figures": figures}


# --- In process: the team map ----------------------------------------------------------------

def get_or_create_team(log: Callable[[str], None]):
    """A 30-member organisation, each member sharing a submitted positioning (25 named, 5
    anonymous), generated once and kept; its facilitator is the first member."""
    from django.db import transaction

    from grille.accounts.models import User
    from grille.assessments import services as assessment_services
    from grille.frameworks.selectors import get_default_version, get_grid
    from grille.organisations import services
    from grille.organisations.enums import Role, ShareMode, StructureType
    from grille.organisations.models import Membership, Organisation, Share

    for organisation in Organisation.objects.filter(name=TEAM_NAME):
        if Share.objects.filter(organisation=organisation, withdrawn_at__isnull=True).count() == TEAM_SIZE:
            log(f"team: reusing organisation #{organisation.pk} « {TEAM_NAME} »")
            return organisation, Membership.objects.get(organisation=organisation, role=Role.FACILITATOR).user
        organisation.delete()
    log(f"team: generating « {TEAM_NAME} »")
    rng = random.Random(SEED)
    version = get_default_version()
    grid = get_grid(version.pk)
    with transaction.atomic():
        users = []
        for i in range(TEAM_SIZE):
            email = f"bench-equipe-{i:02d}@exemple.invalid"
            User.objects.filter(email=email).delete()
            users.append(User.objects.create_user(email, display_name=f"Membre {i + 1:02d} (fictif)"))
        organisation = services.create_organisation(
            user=users[0], name=TEAM_NAME, structure_type=StructureType.values[0], territory="Données fictives",
        )
        for i, user in enumerate(users):
            membership = (
                Membership.objects.get(organisation=organisation, user=user) if i == 0
                else Membership.objects.create(organisation=organisation, user=user, role=Role.MEMBER)
            )
            assessment, _raw = assessment_services.start_assessment(version=version, owner=user)
            assessment_services.save_answers(assessment=assessment, items=random_answers(grid, grid.practices, rng))
            assessment = assessment_services.submit_assessment(assessment=assessment)
            mode = ShareMode.ANONYMOUS if i >= TEAM_SIZE - TEAM_ANONYMOUS else ShareMode.NAMED
            services.share_assessment(membership=membership, assessment=assessment, mode=mode)
    return organisation, users[0]


def team_floor(organisation) -> dict[str, list[tuple]]:
    """The numbers of build_team_map in hand-written SQL on a raw cursor."""
    from django.db import connection

    from grille.accounts.models import User
    from grille.assessments.models import Answer, Assessment
    from grille.frameworks.models import DimensionOption, Practice
    from grille.frameworks.selectors import get_grid
    from grille.organisations.enums import ShareMode
    from grille.organisations.models import Share

    t = {"answer": Answer._meta.db_table, "assessment": Assessment._meta.db_table, "share": Share._meta.db_table,
         "user": User._meta.db_table, "option": DimensionOption._meta.db_table, "practice": Practice._meta.db_table}
    grid = get_grid(organisation.version_id)
    params = {"org": organisation.pk, "version": organisation.version_id, "named": ShareMode.NAMED.value,
              "strong": max(1, grid.level.max_value - 1)}
    active = (f"FROM {t['share']} s JOIN {t['assessment']} sa ON sa.id = s.assessment_id"
              " WHERE s.organisation_id = %(org)s AND s.withdrawn_at IS NULL AND sa.version_id = %(version)s")
    results: dict[str, list[tuple]] = {}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT s.mode, COUNT(*) {active} GROUP BY 1", params)
        results["modes"] = cursor.fetchall()
        counts = dict(results["modes"])
        if counts.get(ShareMode.ANONYMOUS, 0) < 3:
            active += " AND s.mode = %(named)s"
        cursor.execute(
            f"SELECT s.assessment_id, u.display_name, u.email FROM {t['share']} s"
            f" JOIN {t['assessment']} sa ON sa.id = s.assessment_id JOIN {t['user']} u ON u.id = s.user_id"
            " WHERE s.organisation_id = %(org)s AND s.withdrawn_at IS NULL AND sa.version_id = %(version)s"
            " AND s.mode = %(named)s ORDER BY u.display_name, u.email", params,
        )
        results["contributors"] = cursor.fetchall()
        params["members"] = [row[0] for row in results["contributors"]]
        team = f"FROM {t['answer']} a JOIN (SELECT s.assessment_id {active}) sh ON sh.assessment_id = a.assessment_id"
        cursor.execute(
            "SELECT a.practice_id, COUNT(a.level_id), COUNT(lv.value), AVG(lv.value), AVG(lv.value * lv.value),"
            " COUNT(*) FILTER (WHERE lv.value >= %(strong)s), COUNT(*) FILTER (WHERE w.value > 0),"
            f" COUNT(*) FILTER (WHERE c.partnership) {team}"
            f" LEFT JOIN {t['option']} lv ON lv.id = a.level_id LEFT JOIN {t['option']} w ON w.id = a.wish_id"
            f" LEFT JOIN {t['option']} c ON c.id = a.carrying_id GROUP BY 1", params,
        )
        results["per_practice"] = cursor.fetchall()
        cursor.execute(f"SELECT a.practice_id, a.level_id, COUNT(*) {team} WHERE a.level_id IS NOT NULL GROUP BY 1, 2",
                       params)
        results["levels"] = cursor.fetchall()
        cursor.execute(
            f"SELECT assessment_id, practice_id, level_id, wish_id, carrying_id FROM {t['answer']}"
            " WHERE assessment_id = ANY(%(members)s)", params,
        )
        results["matrix"] = cursor.fetchall()
        cursor.execute(
            f"SELECT p.situation_id, AVG(lv.value) {team} JOIN {t['practice']} p ON p.id = a.practice_id"
            f" LEFT JOIN {t['option']} lv ON lv.id = a.level_id GROUP BY 1", params,
        )
        results["situation_means"] = cursor.fetchall()
        cursor.execute(
            f"SELECT a.assessment_id, p.situation_id, AVG(lv.value) FROM {t['answer']} a"
            f" JOIN {t['practice']} p ON p.id = a.practice_id LEFT JOIN {t['option']} lv ON lv.id = a.level_id"
            " WHERE a.assessment_id = ANY(%(members)s) GROUP BY 1, 2", params,
        )
        results["member_means"] = cursor.fetchall()
    return results


def check_team_floor(organisation) -> list[str]:
    """The floor is only a floor if it computes the team map's numbers: compare them."""
    from grille.frameworks.models import Situation
    from grille.organisations.team import build_team_map

    team = build_team_map(organisation)
    floor = team_floor(organisation)
    problems = []
    if [c.assessment_id for c in team.contributors] != [row[0] for row in floor["contributors"]]:
        problems.append("named contributors differ")
    per_practice = {row[0]: row for row in floor["per_practice"]}
    for stats in team.practices:
        row = per_practice[stats.practice.id]
        if (stats.answered, stats.scored, stats.regular, stats.wish, stats.partnership) != (row[1], row[2], row[5], row[6], row[7]):
            problems.append(f"practice {stats.practice.code}: counts differ")
        if stats.mean is not None and abs(stats.mean - float(row[3])) > 1e-9:
            problems.append(f"practice {stats.practice.code}: mean differs")
    if sum(sum(s.levels.values()) for s in team.practices) != sum(row[2] for row in floor["levels"]):
        problems.append("level counts differ")
    if len(team.matrix) != len(floor["matrix"]):
        problems.append("matrix size differs")
    code_of = dict(Situation.objects.filter(version=organisation.version_id).values_list("pk", "code"))
    for situation_id, mean in floor["situation_means"]:
        if mean is not None and abs(team.situation_means[code_of[situation_id]] - float(mean)) > 1e-9:
            problems.append(f"situation {code_of[situation_id]}: mean differs")
    return problems


def logged_in_client(user):
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


def bench_team(args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    from django.urls import reverse

    from grille.organisations.team import build_team_map

    organisation, facilitator = get_or_create_team(log)
    problems = check_team_floor(organisation)
    if problems:
        raise SystemExit(f"team: the floor does not compute the team map's numbers: {problems[:5]}")
    client = logged_in_client(facilitator)
    url = reverse("organisations:home", args=[organisation.uuid])

    def page() -> int:
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"team page: HTTP {response.status_code}")
        return len(response.content)

    log("team: measuring build_team_map, the page and the floor")
    figures = measure({
        "team_map": lambda: build_team_map(organisation),
        "team_map_page": page,
        "team_floor": lambda: team_floor(organisation),
    }, runs=args.runs, warmup=args.warmup, log=lambda m: log(f"team: {m}"))
    return {
        "members": TEAM_SIZE,
        "figures": {name: asdict(f) for name, f in figures.items()},
        "ratios": {
            "team_map_vs_floor": paired_ratio(figures["team_map"], figures["team_floor"]),
            "team_map_page_vs_floor": paired_ratio(figures["team_map_page"], figures["team_floor"]),
        },
    }


def paired_ratio(figure: Figure, floor: Figure) -> float:
    # Round by round: a figure and its floor ran back to back, under the same load.
    return statistics.median(a / b for a, b in zip(figure.runs_s, floor.runs_s, strict=True))


# --- In process: the profile PDF -------------------------------------------------------------

def bench_pdf(args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    from django.urls import reverse

    from grille.accounts.models import User
    from grille.assessments import services
    from grille.assessments.enums import AssessmentStatus
    from grille.assessments.models import Assessment
    from grille.frameworks.selectors import get_default_version, get_grid

    owner = User.objects.filter(email=PDF_OWNER).first() or User.objects.create_user(
        PDF_OWNER, display_name="Benchmark PDF (données fictives)"
    )
    assessment = Assessment.objects.filter(owner=owner, status=AssessmentStatus.SUBMITTED).first()
    if assessment is None:
        version = get_default_version()
        grid = get_grid(version.pk)
        assessment, _raw = services.start_assessment(version=version, owner=owner)
        services.save_answers(assessment=assessment, items=random_answers(grid, grid.practices, random.Random(SEED)))
        services.submit_assessment(assessment=assessment)
    client = logged_in_client(owner)
    url = reverse("assessments:profile_pdf", args=[assessment.uuid])

    def pdf() -> int:
        response = client.get(url)
        if response.status_code != 200 or not response.content.startswith(b"%PDF"):
            raise SystemExit(f"profile PDF: HTTP {response.status_code}")
        return len(response.content)

    # WeasyPrint warns about every CSS property it does not print: noise here.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    log("pdf: measuring the profile PDF")
    figures = measure({"profile_pdf": pdf}, runs=args.runs, warmup=args.warmup, queries=False,
                      log=lambda m: log(f"pdf: {m}"))
    figure = figures["profile_pdf"]
    figure.extra["kib"] = pdf() / 1024
    return {"figures": {"profile_pdf": asdict(figure)}}


# --- In process: study dashboard and microdata exports, per size ---------------------------------

def consume(response) -> int:
    """Bytes of a response as a client would receive them, streamed or not."""
    if response.streaming:
        return sum(len(chunk) for chunk in response.streaming_content)
    return len(response.content)


def export_csv(campaign) -> int:
    """The microdata CSV download as the view builds it, consumed."""
    from grille.core.tabular.writing import csv_response
    from grille.studies.exporters import MicrodataExporter

    return consume(csv_response(MicrodataExporter(campaign)))


def export_xlsx(campaign) -> int:
    """The microdata XLSX download (microdata and codebook) as the view builds it, consumed."""
    from grille.core.tabular.writing import xlsx_response
    from grille.studies.exporters import MicrodataExporter

    return consume(xlsx_response(MicrodataExporter(campaign)))


def export_xlsx_worker(campaign) -> int:
    """The microdata XLSX as the web now makes it (issue 12): asked for as the study lead, queued in
    the database, built by the worker (`db_worker --batch` on the « files » queue, in this
    process) into a stored file. Returns the file's size; raises if the job did not end ready."""
    from django.core.management import call_command

    from grille.accounts.models import User
    from grille.files.enums import FileStatus
    from grille.files.models import GeneratedFile
    from grille.studies.files import ask_microdata

    # Generated campaigns have no lead; the download's rights are the view's, not measured here.
    lead = campaign.lead or User.objects.get_or_create(email=EXPORT_OWNER)[0]
    job = ask_microdata(campaign=campaign, user=lead, fmt="xlsx")
    call_command(
        "db_worker", queue_name="files", batch=True, startup_delay=False, reload=False, verbosity=0,
    )
    job = GeneratedFile.objects.get(pk=job.pk)
    if job.status != FileStatus.READY:
        raise RuntimeError(f"generated file ended {job.status}: {job.error}")
    size = job.size
    job.file.delete(save=False)
    job.delete()
    return size


EXPORTS: dict[str, Callable[[Any], int]] = {
    "csv": export_csv, "xlsx": export_xlsx, "xlsx_worker": export_xlsx_worker, "floor": read_microdata_floor,
}


def peak_memory(campaign_id: int, what: str) -> dict[str, float]:
    """Run one export in a fresh process and read its peak resident memory (libpq's and
    openpyxl's buffers included, which tracemalloc would miss)."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.export_memory", "--campaign", str(campaign_id), "--what", what],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT, capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"export_memory {what} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_size(size: int, args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    from grille.studies.dashboard import build_dashboard

    campaign, generated_s = get_or_generate_campaign(size, args.seed, log)
    facts = campaign_facts(campaign)
    log(f"{size}: {facts}")
    problems = check_floor_matches(campaign)
    if problems:
        raise SystemExit(f"{size}: the floor does not compute the dashboard's numbers: {problems[:5]}")
    figures: dict[str, Figure] = {}

    def run(group: dict[str, Callable[[], Any]], **kwargs) -> None:
        log(f"{size}: measuring {', '.join(group)}")
        figures.update(measure(group, log=lambda m: log(f"{size}: {m}"), **kwargs))

    run({
        "dashboard_whole": lambda: build_dashboard(campaign),
        "dashboard_compare": lambda: build_dashboard(campaign, compare=COMPARE),
        "dashboard_filter": lambda: build_dashboard(campaign, filters=dict(FILTERS)),
        **{f"floor_{v}": (lambda v=v: run_floor(campaign, v)) for v in ("whole", "compare", "filter")},
    }, runs=args.runs, warmup=args.warmup)
    # An export is long enough to need no warm-up beyond the dashboards'.
    run({"export_csv": lambda: export_csv(campaign), "export_floor": lambda: read_microdata_floor(campaign)},
        runs=args.export_runs, warmup=0, queries=False)
    memory = {}
    # xlsx_worker: the XLSX as the web makes it since issue 12, queued then built by the worker.
    for what in ("csv", "floor") + (() if args.no_xlsx else ("xlsx", "xlsx_worker")):
        log(f"{size}: peak memory of the {what} export, in a process of its own")
        memory[what] = peak_memory(campaign.pk, what)
        if what in ("xlsx", "xlsx_worker"):
            # Ten times the CSV's time: timed once, in that process, against the floor's run there.
            seconds = memory[what]["seconds"]
            figures["export_xlsx"] = Figure(median_s=seconds, runs_s=[seconds])
        figures[f"export_{what}"].peak_mib = memory[what]["peak_mib"]
        figures[f"export_{what}"].extra.update(memory[what])
    ratios = {
        "dashboard_whole_vs_floor": paired_ratio(figures["dashboard_whole"], figures["floor_whole"]),
        "dashboard_compare_vs_floor": paired_ratio(figures["dashboard_compare"], figures["floor_compare"]),
        "dashboard_filter_vs_floor": paired_ratio(figures["dashboard_filter"], figures["floor_filter"]),
        "export_csv_vs_floor": paired_ratio(figures["export_csv"], figures["export_floor"]),
    }
    for what in ("xlsx", "xlsx_worker"):
        if what in memory:
            ratios[f"export_{what}_vs_floor"] = memory[what]["seconds"] / memory["floor"]["seconds"]
    return {
        "campaign_id": campaign.pk, "generated_s": generated_s, **facts,
        "figures": {name: asdict(f) for name, f in figures.items()},
        "ratios": ratios,
    }


# --- Report --------------------------------------------------------------------------------------

def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def num(value: int) -> str:
    return f"{value:,}".replace(",", " ")


def markdown(results: dict[str, Any]) -> str:
    from benchmarks import pages

    head = pages.markdown(results["pages"]) + "\n\n" if results.get("pages") else ""
    return head + markdown_rest(results)


def markdown_rest(results: dict[str, Any]) -> str:
    lines = [
        "| figure | measured | floor, same run | ratio | target | |",
        "|---|---:|---:|---:|---|---|",
    ]
    http = results.get("http")
    labels = {"step": "questionnaire step page (GET)", "autosave": "autosave of one answer (POST)",
              "profile": "profile page with radar (GET)"}
    if http:
        for scenario, label in labels.items():
            f = http["figures"][scenario]
            target = TARGETS[scenario][1]
            failures = f" ({f['failures']} failed)" if f["failures"] else ""
            lines.append(
                f"| {label}{failures} | {f['rps']:.1f} req/s; p50 {f['p50_ms']:.0f} / p95 {f['p95_ms']:.0f} /"
                f" p99 {f['p99_ms']:.0f} ms | {f['floor_rps']:.1f} req/s; p95 {f['floor_p95_ms']:.0f} ms"
                f" | {f['ratio']:.2f}× | ≥ {target}× | {verdict(f['ratio'] >= target)} |"
            )
    team = results.get("team")
    if team:
        f, floor = team["figures"], team["figures"]["team_floor"]["median_s"]
        r = team["ratios"]
        lines.append(
            f"| team map, {team['members']} members: build_team_map | {fmt_seconds(f['team_map']['median_s'])}"
            f" ({f['team_map']['queries']} q) | {fmt_seconds(floor)} | {r['team_map_vs_floor']:.2f}× | ≤ 3× |"
            f" {verdict(r['team_map_vs_floor'] <= TARGETS['team_map'][1])} |"
        )
        lines.append(
            f"| team map page, rendered (in process) | {fmt_seconds(f['team_map_page']['median_s'])}"
            f" ({f['team_map_page']['queries']} q) | {fmt_seconds(floor)} | {r['team_map_page_vs_floor']:.2f}× | — | |"
        )
    for size, s in sorted(results["sizes"].items(), key=lambda item: int(item[0])):
        f, r = s["figures"], s["ratios"]
        n = num(int(size))
        for variant, label in (("whole", "whole campaign"), ("compare", f"compare = {COMPARE}"),
                               ("filter", "filter " + ", ".join(f"{k} = {v}" for k, v in FILTERS.items()))):
            ratio = r[f"dashboard_{variant}_vs_floor"]
            lines.append(
                f"| dashboard, {label}, {n} | {fmt_seconds(f[f'dashboard_{variant}']['median_s'])}"
                f" ({f[f'dashboard_{variant}']['queries']} q) | {fmt_seconds(f[f'floor_{variant}']['median_s'])}"
                f" | {ratio:.2f}× | ≤ 3× | {verdict(ratio <= TARGETS['dashboard'][1])} |"
            )
        floor = f["export_floor"]
        for what in ("csv", "xlsx", "xlsx_worker"):
            name = f"export_{what}"
            if name not in f:
                continue
            ratio = r[f"{name}_vs_floor"]
            peak = f[name]["peak_mib"]
            memory_ok = peak < PEAK_MEMORY_TARGET_MIB
            time_target = "≤ 3×, " if what == "csv" else ""
            ok = (ratio <= TARGETS["export_csv"][1] if what == "csv" else True) and memory_ok
            lines.append(
                f"| microdata {EXPORT_LABELS[what]}, {n} | {fmt_seconds(f[name]['median_s'])}; peak RSS"
                f" {peak:.0f} MiB (+{f[name]['extra']['growth_mib']:.0f}) | {fmt_seconds(floor['median_s'])};"
                f" peak RSS {floor['peak_mib']:.0f} MiB (+{floor['extra']['growth_mib']:.0f}) | {ratio:.2f}× |"
                f" {time_target}peak < {PEAK_MEMORY_TARGET_MIB} MiB | {verdict(ok)} |"
            )
    pdf = results.get("pdf")
    if pdf:
        f = pdf["figures"]["profile_pdf"]
        lines.append(f"| profile PDF (median of {len(f['runs_s'])}) | {fmt_seconds(f['median_s'])} per PDF"
                     f" ({f['extra']['kib']:.0f} KiB) | — | — | report | |")
    if results.get("mail"):
        lines.extend(mail_rows(results["mail"]))
    out = "\n".join(lines)
    growth = results.get("growth")
    if growth:
        out += "\n\n" + f"| growth {num(growth['from'])} → {num(growth['to'])} respondents | time | ratio to floor |\n"
        out += "|---|---:|---:|\n"
        for name, value in growth["figures"].items():
            ratio = growth["ratios"].get(name)
            out += f"| {name} | ×{value:.1f} | {'' if ratio is None else f'×{ratio:.2f}'} |\n"
        for name, value in growth["peak_memory"].items():
            out += f"| {name} peak RSS | ×{value:.2f} | |\n"
    return out


def growth(results: dict[str, Any], sizes: list[int]) -> dict[str, Any] | None:
    if len(sizes) < 2:
        return None
    first, last = results["sizes"][str(sizes[0])], results["sizes"][str(sizes[-1])]
    ratio_of = {"dashboard_whole": "dashboard_whole_vs_floor", "dashboard_compare": "dashboard_compare_vs_floor",
                "dashboard_filter": "dashboard_filter_vs_floor", "export_csv": "export_csv_vs_floor",
                "export_xlsx": "export_xlsx_vs_floor"}
    return {
        "from": sizes[0], "to": sizes[-1],
        "figures": {name: last["figures"][name]["median_s"] / first["figures"][name]["median_s"]
                    for name in first["figures"]},
        "ratios": {name: last["ratios"][key] / first["ratios"][key] for name, key in ratio_of.items()
                   if key in first["ratios"]},
        "peak_memory": {name: last["figures"][name]["peak_mib"] / first["figures"][name]["peak_mib"]
                        for name in first["figures"] if first["figures"][name]["peak_mib"]},
    }


# --- Command line --------------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="campaign sizes in respondents, comma-separated (default: %(default)s)")
    parser.add_argument("--quick", action="store_true",
                        help="5 s locust runs, 3 timed runs, 1 export run, no XLSX: a smoke run, noisier figures")
    parser.add_argument("--seconds", type=int, default=20, help="length of each locust run (default: %(default)s)")
    parser.add_argument("--users", type=int, default=12, help="locust users, no pause between requests (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default: %(default)s)")
    parser.add_argument("--http-rounds", type=int, default=1,
                        help="figure/floor pairs of locust runs per HTTP figure (default: %(default)s)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of in-process figures (default: %(default)s)")
    parser.add_argument("--export-runs", type=int, default=3, help="timed runs of each export (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first (default: %(default)s)")
    parser.add_argument("--skip-http", action="store_true", help="no gunicorn part (wrk pages, locust)")
    parser.add_argument("--locust", action="store_true",
                        help="also the older locust HTTP figures (its own floor is about 300 req/s)")
    parser.add_argument("--skip-mail", action="store_true", help="no e-mail outbox part (30 000 invitations)")
    parser.add_argument("--mail-invitees", type=int, default=MAIL_INVITEES,
                        help="invitations accepted and delivered by the mail part (default: %(default)s)")
    parser.add_argument("--skip-study", action="store_true", help="no dashboard/export part (no campaign needed)")
    parser.add_argument("--no-xlsx", action="store_true", help="leave the XLSX export out (the longest figure)")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of newly generated data (default: %(default)s)")
    parser.add_argument("--database", default=BENCH_DATABASE,
                        help="benchmark database on the DATABASE_URL server (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "bench.json",
                        help="JSON results (default: benchmarks/results/bench.json)")
    parser.add_argument("--table-only", action="store_true",
                        help="measure nothing: print the table of the JSON results in --output (even of a cut run)")
    args = parser.parse_args(argv)
    try:
        args.sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    except ValueError:
        parser.error("--sizes: integers separated by commas")
    if args.quick:
        args.seconds, args.runs, args.export_runs, args.no_xlsx = min(args.seconds, 5), min(args.runs, 3), 1, True
    if not args.sizes or min(args.runs, args.export_runs, args.seconds, args.users, args.workers, args.http_rounds) < 1:
        parser.error("at least one size, and positive runs, seconds, users, workers and rounds")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.table_only:
        print(markdown(json.loads(args.output.read_text())))
        return
    url, log = open_bench_database(args.database)
    if not args.skip_study:
        # Generated first (or found), so that every figure runs beside the same data.
        for size in args.sizes:
            get_or_generate_campaign(size, args.seed, log)
    vacuum_analyze()

    results: dict[str, Any] = {
        "benchmark": "make bench",
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "targets": {**TARGETS, "export_peak_mib": PEAK_MEMORY_TARGET_MIB},
        "filters": FILTERS, "compare": COMPARE, "sizes": {},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)

    def save(complete: bool) -> None:
        # After each part: a long run cut short (a restarted database) still leaves its figures.
        results["complete"] = complete
        args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")

    if not args.skip_http:
        # The pages against their floors with wrk (issue 16): benchmarks/pages.py.
        from benchmarks import pages

        page_args = pages.parse_args(
            ["--rounds", "1", "--seconds", "5"] if args.quick else ["--rounds", str(max(3, args.http_rounds))]
        )
        results["pages"] = pages.bench_pages(url, page_args, log)
        save(False)
        if args.locust:
            results["http"] = bench_http(url, args, log)
        save(False)
    results["team"] = bench_team(args, log)
    results["pdf"] = bench_pdf(args, log)
    if not args.skip_mail:
        results["mail"] = bench_mail(args.mail_invitees, log)
    save(False)
    if not args.skip_study:
        for size in args.sizes:
            results["sizes"][str(size)] = bench_size(size, args, log)
            save(False)
        results["growth"] = growth(results, args.sizes)
    results["environment"] = environment()
    save(True)
    log(f"results written to {args.output}")
    print(markdown(results))


if __name__ == "__main__":
    main()
