"""How fast the study dashboard, the microdata export and response tracking are on large
synthetic campaigns, measured against a floor: the same numbers (or the same rows) read with
hand-written SQL on a raw cursor, in the same run. Ratios travel between machines, seconds do not.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python -m benchmarks.study_dashboard

Runs against PostgreSQL in a database of its own (``grille_bench`` on the server of
DATABASE_URL, created if missing); never the database named in DATABASE_URL, never a test
database. See benchmarks/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "benchmarks" / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = "grille_bench"
DEFAULT_SIZES = (10_000, 100_000)
SEED = 2024
FILTERS = {"territoire": "rural"}
COMPARE = "structure"
# Rows fetched per round trip by the floor's server-side cursors: the exporter's chunk size.
FLOOR_FETCH_ROWS = 2000


# --- Database ---------------------------------------------------------------------------------

def bench_database_url(base_url: str, name: str) -> str:
    """DATABASE_URL with its database swapped for the benchmark's own."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise SystemExit(f"PostgreSQL only: DATABASE_URL is {parts.scheme}://…")
    if name.startswith("test"):
        # Django's test databases are test_*: a benchmark must never write into one.
        raise SystemExit(f"Refusing database {name!r}: names starting with « test » belong to the tests.")
    return urlunsplit(parts._replace(path=f"/{name}"))


def ensure_database(url: str) -> bool:
    """Create the benchmark database if it is missing; True if it was created."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["GRILLE_DEV"] = "1"
    # DEBUG keeps every query in memory: it would skew both the times and the peak memory.
    os.environ["DEBUG"] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "grille.settings"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def prepare_schema(log: Callable[[str], None]) -> None:
    from django.core.management import call_command

    from grille.frameworks.selectors import get_default_version

    log("migrate")
    call_command("migrate", interactive=False, verbosity=0)
    # Once is enough: campaigns keep the grid version they were generated on.
    if get_default_version() is None:
        log("load_framework")
        call_command("load_framework", stdout=io.StringIO())


def vacuum_analyze() -> None:
    """Fresh planner statistics and visibility map, so the first size measured is not penalised
    by autovacuum not having caught up with the generator's bulk inserts."""
    from django.db import connection

    from grille.assessments.models import Answer, Assessment
    from grille.studies.models import ProfileAnswer, Respondent

    with connection.cursor() as cursor:
        for model in (Assessment, Answer, Respondent, ProfileAnswer):
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(model._meta.db_table)}")


# --- Campaigns --------------------------------------------------------------------------------

def campaign_name(size: int) -> str:
    return f"Benchmark {size} (données fictives)"


def get_or_generate_campaign(size: int, seed: int, log: Callable[[str], None]):
    """The campaign of that size left by an earlier run, or a freshly generated one."""
    from grille.assessments.models import Assessment
    from grille.studies.models import Campaign
    from grille.studies.synthetic import generate_synthetic_campaign

    name = campaign_name(size)
    for campaign in Campaign.objects.filter(name=name, synthetic=True).order_by("-pk"):
        if campaign.respondents.count() == size:
            log(f"{size}: reusing campaign #{campaign.pk} « {name} »")
            return campaign, None
        # Left incomplete by a killed run: start again.
        log(f"{size}: deleting incomplete campaign #{campaign.pk}")
        Assessment.objects.filter(study_respondent__campaign=campaign).delete()
        campaign.delete()

    log(f"{size}: generating « {name} » (seed {seed})…")
    step = max(1, size // 10)

    def progress(done: int, total: int) -> None:
        if done % step < 2000 or done == total:
            log(f"{size}: {done}/{total} respondents written")

    began = time.perf_counter()
    campaign = generate_synthetic_campaign(respondents=size, seed=seed, name=name, progress=progress)
    elapsed = time.perf_counter() - began
    log(f"{size}: generated in {elapsed:.1f} s")
    return campaign, elapsed


def campaign_facts(campaign) -> dict[str, int]:
    from grille.assessments.enums import AssessmentStatus
    from grille.assessments.models import Answer
    from grille.studies.dashboard import completed_respondents

    submitted = completed_respondents(campaign)
    return {
        "respondents": campaign.respondents.count(),
        "submitted": submitted.count(),
        "answers_submitted": Answer.objects.filter(
            assessment__study_respondent__campaign=campaign, assessment__status=AssessmentStatus.SUBMITTED
        ).count(),
    }


# --- Measuring --------------------------------------------------------------------------------

@dataclass
class Figure:
    median_s: float
    runs_s: list[float]
    queries: int | None = None
    peak_mib: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def measure(fns: dict[str, Callable[[], Any]], *, runs: int, warmup: int, memory: bool = False,
            queries: bool = True, log: Callable[[str], None] = lambda _m: None) -> dict[str, Figure]:
    """Median wall time of `runs` calls of each function after `warmup` untimed ones.

    The functions of a group (a figure and its floor) take turns, round after round, so that
    whatever else the machine does weighs on both alike and their ratio stays fair. Then,
    untimed, the number of queries of one call (unless ``queries`` is false: one call more is
    too long for some figures) and (if asked) its peak Python memory under tracemalloc, which
    slows a call down too much to be timed with it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    for round_ in range(runs):
        for name in names[round_ % len(names):] + names[:round_ % len(names)]:
            gc.collect()
            began = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - began)
        log(f"round {round_ + 1}/{runs}: " + ", ".join(f"{n} {fmt_seconds(times[n][-1])}" for n in names))
    figures = {}
    for name, fn in fns.items():
        figure = Figure(median_s=statistics.median(times[name]), runs_s=times[name])
        if queries:
            with CaptureQueriesContext(connection) as captured:
                fn()
            figure.queries = len(captured)
        if memory:
            gc.collect()
            tracemalloc.start()
            try:
                fn()
                _current, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            figure.peak_mib = peak / 2**20
        figures[name] = figure
    return figures


# --- The floor: the dashboard's raw tallies in hand-written SQL ----------------------------------

def tables() -> dict[str, str]:
    from grille.assessments.models import Answer, Assessment
    from grille.disclosure.models import PoolRelease
    from grille.frameworks.models import DimensionOption, Practice, Situation
    from grille.studies.models import ProfileAnswer, ProfileQuestion, Respondent

    return {
        "answer": Answer._meta.db_table, "assessment": Assessment._meta.db_table,
        "respondent": Respondent._meta.db_table, "profileanswer": ProfileAnswer._meta.db_table,
        "question": ProfileQuestion._meta.db_table, "practice": Practice._meta.db_table,
        "situation": Situation._meta.db_table, "option": DimensionOption._meta.db_table,
        "pool": PoolRelease._meta.db_table,
    }


class FloorSQL:
    """The raw numbers build_dashboard asks the database for, written as directly as PostgreSQL
    allows. Everything is read from the campaign's *released* respondents (`r.released`); each
    count comes with the sum of its contributors' record keys (`s.record_key`), as in
    `grille.disclosure.aggregation.tally_groups`. Perturbation, suppression and the means made
    from protected counts are Python work on a few hundred cells: not the floor's.

    - respondents: one pass over the campaign's submitted respondents for every respondent
      count the view checks (pending questionnaires, released ones, the true size of the group
      made by every subset of the filters, for a comparison the group's members who answered
      the compared question) and the pool's state (`results_withheld`: last release, withheld);
    - population: count and key sum of the released respondents of the group with an answer;
    - levels: per (practice, level); practices: per practice, wish and partnership;
    - scores: each person's total and number of levels with a value per situation, then
      grouped by (situation, total, number) — and the same per axis, rolled up from the
      per-situation rows of the same statement;
    - for a comparison, segments (per option: its true size for every subset of the filters,
      count and key sum of its members with an answer) and the levels, practices and scores
      per segment.

    Profile conditions are joins on the profile answers (one row at most per respondent:
    `unique_profile_answer`), the question ids are looked up inside the statements (no round
    trip).
    """

    def __init__(self, campaign, filters: dict[str, str] | None = None, compare: str | None = None):
        from grille.assessments.enums import AssessmentStatus
        from grille.studies.pools import pool_key

        self.t = tables()
        self.params: dict[str, Any] = {
            "campaign": campaign.pk, "submitted": AssessmentStatus.SUBMITTED.value, "pool": pool_key(campaign),
        }
        self.filters = list((filters or {}).items())
        for i, (code, option) in enumerate(self.filters):
            self.params[f"code{i}"], self.params[f"option{i}"] = code, option
        self.compare = compare
        if compare:
            self.params["compare"] = compare
        # Every subset of the filters, smallest first, as _subset_counts lists them.
        self.subsets = [c for r in range(len(self.filters) + 1) for c in combinations(range(len(self.filters)), r)]

    def _question(self, code: str) -> str:
        return (f"(SELECT q.id FROM {self.t['question']} q"
                f" WHERE q.campaign_id = %(campaign)s AND q.code = %({code})s)")

    def _filter_joins(self, kind: str = "JOIN") -> str:
        return "".join(
            f" {kind} {self.t['profileanswer']} f{i} ON f{i}.respondent_id = r.id"
            f" AND f{i}.question_id = {self._question(f'code{i}')} AND f{i}.option = %(option{i})s"
            for i in range(len(self.filters))
        )

    def _segment_join(self) -> str:
        return (f" JOIN {self.t['profileanswer']} g ON g.respondent_id = r.id"
                f" AND g.question_id = {self._question('compare')}")

    def _where(self) -> str:
        return " WHERE r.campaign_id = %(campaign)s AND r.released AND s.status = %(submitted)s"

    def _has_answer(self) -> str:
        return f"EXISTS (SELECT 1 FROM {self.t['answer']} x WHERE x.assessment_id = s.id)"

    def _answers(self, *, segmented: bool, joins: str = "") -> str:
        """FROM and WHERE of the answers of the group's released respondents (aliases a, s, r;
        g, the profile answer to the compared question, when segmented)."""
        t = self.t
        return (
            f"FROM {t['answer']} a JOIN {t['assessment']} s ON s.id = a.assessment_id"
            f" JOIN {t['respondent']} r ON r.assessment_id = s.id"
            + self._filter_joins() + (self._segment_join() if segmented else "") + joins + self._where()
        )

    def _matching(self, subset: tuple[int, ...] | None = None) -> list[str]:
        """The respondent meets the filters of `subset` (all of them by default): conditions on
        the left joins f0, f1…"""
        return [f"f{i}.id IS NOT NULL" for i in (range(len(self.filters)) if subset is None else subset)]

    @staticmethod
    def _count_if(conditions: list[str], what: str = "COUNT(*)") -> str:
        return f"{what} FILTER (WHERE {' AND '.join(conditions) or 'TRUE'})"

    def respondents(self) -> str:
        t = self.t
        counts = ["COUNT(*) FILTER (WHERE NOT r.released)"]
        counts += [self._count_if(["r.released", *self._matching(subset)]) for subset in self.subsets]
        joins = self._filter_joins("LEFT JOIN")
        if self.compare:
            counts.append(self._count_if(["r.released", *self._matching(), "g.respondent_id IS NOT NULL"]))
            joins += (f" LEFT JOIN (SELECT DISTINCT respondent_id FROM {t['profileanswer']}"
                      f" WHERE question_id = {self._question('compare')}) g ON g.respondent_id = r.id")
        pool = [f"(SELECT p.{column} FROM {t['pool']} p WHERE p.key = %(pool)s)" for column in ("released_count", "withheld")]
        return (
            f"SELECT {', '.join(counts + pool)}"
            f" FROM {t['respondent']} r JOIN {t['assessment']} s ON s.id = r.assessment_id{joins}"
            " WHERE r.campaign_id = %(campaign)s AND s.status = %(submitted)s"
        )

    def population(self) -> str:
        t = self.t
        return (
            f"SELECT COUNT(*), SUM(s.record_key) FROM {t['respondent']} r JOIN {t['assessment']} s"
            f" ON s.id = r.assessment_id{self._filter_joins()}{self._where()} AND {self._has_answer()}"
        )

    def levels(self, *, segmented: bool = False) -> str:
        seg = "g.option, " if segmented else ""
        return (
            f"SELECT {seg}a.practice_id, a.level_id, COUNT(*), SUM(s.record_key)"
            f" {self._answers(segmented=segmented)} AND a.level_id IS NOT NULL GROUP BY {seg}a.practice_id, a.level_id"
        )

    def practices(self, *, segmented: bool = False) -> str:
        o = self.t["option"]
        seg = "g.option, " if segmented else ""
        joins = f" LEFT JOIN {o} w ON w.id = a.wish_id LEFT JOIN {o} c ON c.id = a.carrying_id"
        return (
            f"SELECT {seg}a.practice_id, COUNT(*) FILTER (WHERE w.value > 0), SUM(s.record_key) FILTER (WHERE w.value > 0),"
            " COUNT(*) FILTER (WHERE c.partnership), SUM(s.record_key) FILTER (WHERE c.partnership)"
            f" {self._answers(segmented=segmented, joins=joins)} GROUP BY {seg}a.practice_id"
        )

    def scores(self, *, segmented: bool = False) -> str:
        """(kind 's' or 'a', situation or axis id, total, number of levels, people, key sum)
        [segment first when segmented]."""
        t = self.t
        seg = "g.option AS seg, " if segmented else ""
        by = "seg, " if segmented else ""
        joins = f" JOIN {t['practice']} p ON p.id = a.practice_id JOIN {t['option']} lv ON lv.id = a.level_id"
        return (
            f"WITH per_situation AS MATERIALIZED (SELECT {seg}a.assessment_id AS aid, p.situation_id AS sid,"
            " SUM(lv.value) AS t, COUNT(*) AS c, MAX(s.record_key) AS rk"
            f" {self._answers(segmented=segmented, joins=joins)} AND lv.value IS NOT NULL"
            f" GROUP BY {seg.replace(' AS seg', '')}a.assessment_id, p.situation_id)"
            f" SELECT {by}'s', sid, t, c, COUNT(*), SUM(rk) FROM per_situation GROUP BY {by}sid, t, c"
            f" UNION ALL SELECT {by}'a', axis_id, t, c, COUNT(*), SUM(rk) FROM ("
            f"SELECT {by}aid, si.axis_id, SUM(t) AS t, SUM(c) AS c, MAX(rk) AS rk FROM per_situation"
            f" JOIN {t['situation']} si ON si.id = sid GROUP BY {by}aid, si.axis_id) AS per_axis GROUP BY {by}axis_id, t, c"
        )

    def segments(self) -> str:
        t = self.t
        sizes = ", ".join(self._count_if(self._matching(subset)) for subset in self.subsets)
        answered = [*self._matching(), self._has_answer()]
        return (
            f"SELECT g.option, {sizes}, {self._count_if(answered)}, {self._count_if(answered, 'SUM(s.record_key)')}"
            f" FROM {t['respondent']} r JOIN {t['assessment']} s ON s.id = r.assessment_id{self._segment_join()}"
            f"{self._filter_joins('LEFT JOIN')}{self._where()} GROUP BY g.option"
        )

    def statements(self) -> list[tuple[str, str]]:
        statements = [
            ("respondents", self.respondents()), ("population", self.population()), ("levels", self.levels()),
            ("practices", self.practices()), ("scores", self.scores()),
        ]
        if self.compare:
            statements += [
                ("segments", self.segments()), ("segment_levels", self.levels(segmented=True)),
                ("segment_practices", self.practices(segmented=True)), ("segment_scores", self.scores(segmented=True)),
            ]
        return statements


VARIANTS = ("whole", "compare", "filter")


def variant_arguments(variant: str) -> dict[str, Any]:
    """build_dashboard's keyword arguments for a variant."""
    return {"whole": {}, "compare": {"compare": COMPARE}, "filter": {"filters": dict(FILTERS)}}[variant]


def floor_statements(campaign, variant: str) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """(name, SQL) of every statement the floor of a dashboard variant runs, and their parameters."""
    f = FloorSQL(campaign, **variant_arguments(variant))
    return f.statements(), f.params


def run_floor(campaign, variant: str) -> dict[str, list[tuple]]:
    from django.db import connection

    statements, params = floor_statements(campaign, variant)
    results = {}
    with connection.cursor() as cursor:
        for name, sql in statements:
            cursor.execute(sql, params)
            results[name] = cursor.fetchall()
    return results


def floor_tallies(campaign, rows: dict[str, list[tuple]], *, segmented: bool = False) -> dict:
    """The floor's rows as `tally_groups` returns them: {segment: GroupTallies} (segment None
    for the whole group), score classes made with aggregation.score_class."""
    from grille.disclosure.aggregation import GroupTallies, score_class
    from grille.disclosure.cells import EMPTY, Tally
    from grille.frameworks.models import Axis, Situation

    codes = {
        "s": dict(Situation.objects.filter(version=campaign.version_id).values_list("pk", "code")),
        "a": dict(Axis.objects.filter(version=campaign.version_id).values_list("pk", "code")),
    }
    groups: dict[Any, GroupTallies] = defaultdict(GroupTallies)
    prefix = "segment_" if segmented else ""

    def split(row: tuple) -> tuple[Any, tuple]:
        return (row[0], row[1:]) if segmented else (None, row)

    if segmented:
        for row in rows["segments"]:
            n, keys = row[-2:]
            if n:
                groups[row[0]].population = Tally(n, int(keys or 0))
    else:
        n, keys = rows["population"][0]
        if n:
            groups[None].population = Tally(n, int(keys or 0))
    for row in rows[f"{prefix}levels"]:
        seg, (practice, level, n, keys) = split(row)
        groups[seg].levels[practice][level] = Tally(n, int(keys or 0))
    for row in rows[f"{prefix}practices"]:
        seg, (practice, wn, wk, pn, pk) = split(row)
        groups[seg].wish[practice] = Tally(wn, int(wk or 0))
        groups[seg].partnership[practice] = Tally(pn, int(pk or 0))
    for row in rows[f"{prefix}scores"]:
        seg, (kind, gid, total, scored, n, keys) = split(row)
        classes = getattr(groups[seg], "situations" if kind == "s" else "axes")[codes[kind][gid]]
        bucket = score_class(int(total), int(scored))
        classes[bucket] = classes.get(bucket, EMPTY) + Tally(n, int(keys or 0))
    return dict(groups)


def _tally_differences(label: str, floor: dict, core: dict) -> list[str]:
    """Exact comparison of two {segment: GroupTallies}: counts and key sums."""
    problems = []
    for seg in sorted(set(floor) | set(core), key=str):
        mine, theirs = floor.get(seg), core.get(seg)
        if mine is None or theirs is None:
            problems.append(f"{label} segment {seg}: only in {'tally_groups' if mine is None else 'the floor'}")
            continue
        for attribute in ("population", "levels", "wish", "partnership", "situations", "axes"):
            if getattr(mine, attribute) != getattr(theirs, attribute):
                problems.append(f"{label} segment {seg}: {attribute} differ")
    return problems


def check_floor_matches(campaign) -> list[str]:
    """The floor is only a floor if it computes what the dashboard asks the database for:
    compare its raw tallies, exactly (counts and record-key sums), with the aggregation core's
    `tally_groups` on the same population, and its respondent counts with the ORM's. Also check
    that each variant reaches its figures (a view hidden early would do less than its floor)."""
    from django.db.models import Count

    from grille.disclosure.aggregation import tally_groups
    from grille.disclosure.models import PoolRelease
    from grille.frameworks.selectors import get_grid
    from grille.studies.dashboard import (
        SEGMENT_PATH,
        build_dashboard,
        completed_answers,
        completed_respondents,
    )
    from grille.studies.models import ProfileAnswer, ProfileQuestion
    from grille.studies.pools import pending_results, pool_key

    grid = get_grid(campaign.version_id)
    problems = []
    released = completed_respondents(campaign, released=True)
    if not released.exists():
        return ["no released respondent: the dashboard shows nothing (was the campaign settled?)"]
    for variant in VARIANTS:
        kwargs = variant_arguments(variant)
        filters = kwargs.get("filters", {})
        dashboard = build_dashboard(campaign, **kwargs)
        if dashboard.population_suppressed:
            problems.append(f"{variant}: the dashboard shows nothing ({dashboard.reason}): nothing to measure")
        rows = run_floor(campaign, variant)
        f = FloorSQL(campaign, **kwargs)
        # Respondent counts.
        pending, *sizes = rows["respondents"][0][:-2]
        state = tuple(rows["respondents"][0][-2:])
        if pending != pending_results(campaign):
            problems.append(f"{variant}: pending {pending} != {pending_results(campaign)}")
        if state != PoolRelease.objects.filter(key=pool_key(campaign)).values_list("released_count", "withheld").first():
            problems.append(f"{variant}: pool state {state} differs")
        names = [code for code, _option in f.filters]
        for subset, size in zip(f.subsets, sizes, strict=False):
            narrowed = {names[i]: filters[names[i]] for i in subset}
            expected = completed_respondents(campaign, narrowed, released=True).count()
            if size != expected:
                problems.append(f"{variant}: size of {narrowed} {size} != {expected}")
        # The aggregation core on the same population.
        answers = completed_answers(campaign, filters)
        problems += _tally_differences(variant, floor_tallies(campaign, rows), tally_groups(answers, grid))
        if variant == "compare":
            question = ProfileQuestion.objects.get(campaign=campaign, code=COMPARE)
            answered = ProfileAnswer.objects.filter(question=question, respondent__in=released)
            if sizes[-1] != answered.values("respondent_id").distinct().count():
                problems.append(f"compare: answered {sizes[-1]} differs")
            expected = dict(answered.values_list("option").annotate(n=Count("respondent_id", distinct=True)).order_by())
            got = {row[0]: row[1] for row in rows["segments"]}
            if got != expected:
                problems.append(f"compare: segment sizes {got} != {expected}")
            segmented = answers.filter(assessment__study_respondent__profile_answers__question=question)
            problems += _tally_differences(
                "compare", floor_tallies(campaign, rows, segmented=True), tally_groups(segmented, grid, by=SEGMENT_PATH)
            )
            if not any(not s.suppressed for s in dashboard.segments):
                problems.append("compare: every segment is hidden: nothing to measure")
    return problems


# --- The floor of the export: the same rows through server-side cursors --------------------------

def read_microdata_floor(campaign) -> int:
    """Read the rows the microdata exporter reads (respondents, their answers, their profile
    answers) and do nothing with them: what streaming the export would cost with no Python
    work per row. Returns the number of rows read."""
    from django.db import connection, transaction

    from grille.assessments.enums import AssessmentStatus

    t = tables()
    params = {"campaign": campaign.pk, "submitted": AssessmentStatus.SUBMITTED.value}
    # Every submitted respondent, released or not: the microdata are the study lead's.
    population = (
        f"FROM {t['respondent']} r JOIN {t['assessment']} s ON s.id = r.assessment_id"
        " WHERE r.campaign_id = %(campaign)s AND s.status = %(submitted)s"
    )
    statements = [
        f"SELECT r.id, r.pseudonym, r.synthetic, r.assessment_id, s.submitted_at {population} ORDER BY r.id",
        "SELECT a.assessment_id, a.practice_id, a.level_id, a.wish_id, a.carrying_id"
        f" FROM {t['answer']} a JOIN {t['respondent']} r ON r.assessment_id = a.assessment_id"
        f" JOIN {t['assessment']} s ON s.id = a.assessment_id"
        " WHERE r.campaign_id = %(campaign)s AND s.status = %(submitted)s",
        f"SELECT pa.respondent_id, pa.question_id, pa.option FROM {t['profileanswer']} pa"
        f" JOIN {t['respondent']} r ON r.id = pa.respondent_id JOIN {t['assessment']} s ON s.id = r.assessment_id"
        " WHERE r.campaign_id = %(campaign)s AND s.status = %(submitted)s",
    ]
    rows = 0
    connection.ensure_connection()
    with transaction.atomic():
        for i, sql in enumerate(statements):
            with connection.connection.cursor(name=f"bench_floor_{i}") as cursor:
                cursor.itersize = FLOOR_FETCH_ROWS
                cursor.execute(sql, params)
                for _row in cursor:
                    rows += 1
    return rows


class NullSink:
    """Where the CSV goes: nowhere, but counted."""

    def __init__(self) -> None:
        self.chars = 0

    def write(self, text: str) -> int:
        self.chars += len(text)
        return len(text)


def export_microdata_csv(campaign) -> int:
    from grille.core.tabular.writing import write_csv
    from grille.studies.exporters import MicrodataExporter

    sink = NullSink()
    for piece in write_csv(MicrodataExporter(campaign).sheet("microdonnees")):
        sink.write(piece)
    return sink.chars


# --- One size -----------------------------------------------------------------------------------

def bench_size(size: int, *, seed: int, runs: int, warmup: int, log: Callable[[str], None]) -> dict[str, Any]:
    from grille.studies.dashboard import build_dashboard, build_tracking

    campaign, generated_s = get_or_generate_campaign(size, seed, log)
    vacuum_analyze()
    load_before = os.getloadavg()
    facts = campaign_facts(campaign)
    log(f"{size}: {facts}")
    problems = check_floor_matches(campaign)
    if problems:
        raise SystemExit(f"{size}: the floor does not compute the dashboard's numbers: {problems[:5]}")

    figures: dict[str, Figure] = {}

    def run(group: dict[str, Callable[[], Any]], **kwargs) -> None:
        log(f"{size}: measuring {', '.join(group)}")
        figures.update(measure(group, runs=runs, warmup=warmup, log=lambda m: log(f"{size}: {m}"), **kwargs))

    run({
        "dashboard_whole": lambda: build_dashboard(campaign),
        "dashboard_compare": lambda: build_dashboard(campaign, compare=COMPARE),
        "dashboard_filter": lambda: build_dashboard(campaign, filters=dict(FILTERS)),
        **{f"floor_{v}": (lambda v=v: run_floor(campaign, v)) for v in VARIANTS},
    })
    run({
        "export_csv": lambda: export_microdata_csv(campaign),
        "export_floor": lambda: read_microdata_floor(campaign),
    }, memory=True)
    figures["export_csv"].extra["csv_mib"] = export_microdata_csv(campaign) / 2**20
    figures["export_floor"].extra["rows"] = read_microdata_floor(campaign)
    run({
        "tracking": lambda: build_tracking(campaign),
        "tracking_by_structure": lambda: build_tracking(campaign, by=COMPARE),
    })

    def ratio(name: str, floor: str) -> float:
        # Round by round: a figure and its floor ran back to back, under the same load.
        return statistics.median(a / b for a, b in zip(figures[name].runs_s, figures[floor].runs_s, strict=True))

    ratios = {
        "dashboard_whole_vs_floor": ratio("dashboard_whole", "floor_whole"),
        "dashboard_compare_vs_floor": ratio("dashboard_compare", "floor_compare"),
        "dashboard_filter_vs_floor": ratio("dashboard_filter", "floor_filter"),
        "export_csv_vs_floor": ratio("export_csv", "export_floor"),
    }
    return {
        "campaign_id": campaign.pk,
        "generated_s": generated_s,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        **facts,
        "figures": {name: asdict(f) for name, f in figures.items()},
        "ratios": ratios,
    }


def profile_dashboard(size: int, *, seed: int, log: Callable[[str], None]) -> str:
    """cProfile of the three dashboards and of the microdata export (after a warm-up), top
    functions by cumulative and by own time."""
    from grille.studies.dashboard import build_dashboard

    campaign, _ = get_or_generate_campaign(size, seed, log)
    build_dashboard(campaign)
    report = io.StringIO()
    calls: list[tuple[str, Callable[[], Any]]] = [
        ("build_dashboard whole", lambda: build_dashboard(campaign)),
        ("build_dashboard compare", lambda: build_dashboard(campaign, compare=COMPARE)),
        ("build_dashboard filter", lambda: build_dashboard(campaign, filters=dict(FILTERS))),
        ("microdata CSV export", lambda: export_microdata_csv(campaign)),
    ]
    for label, fn in calls:
        profiler = cProfile.Profile()
        profiler.enable()
        fn()
        profiler.disable()
        report.write(f"\n## {label}, {size} respondents\n")
        stats = pstats.Stats(profiler, stream=report)
        stats.sort_stats("cumulative").print_stats(25)
        stats.sort_stats("tottime").print_stats(15)
    return report.getvalue()


def explain_dashboard(size: int, *, seed: int, log: Callable[[str], None]) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of every query of the three dashboard variants, then of
    their floors."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from grille.studies.dashboard import build_dashboard

    campaign, _ = get_or_generate_campaign(size, seed, log)
    build_dashboard(campaign)
    report = io.StringIO()
    for label, kwargs in (("whole", {}), ("compare", {"compare": COMPARE}), ("filter", {"filters": dict(FILTERS)})):
        with CaptureQueriesContext(connection) as captured:
            build_dashboard(campaign, **kwargs)
        for i, query in enumerate(captured.captured_queries):
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                plan = "\n".join(row[0] for row in cursor.fetchall())
            report.write(f"\n## {label} query {i} ({query['time']} s)\n{query['sql']}\n\n{plan}\n")
        statements, params = floor_statements(campaign, label)
        for name, sql in statements:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            report.write(f"\n## {label} floor {name}\n{sql}\n\n{plan}\n")
    return report.getvalue()


# --- Report --------------------------------------------------------------------------------------

def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def markdown_table(results: dict[str, Any]) -> str:
    sizes = sorted(results["sizes"], key=int)

    def fig(name: str, key: str = "median_s") -> Callable[[dict], Any]:
        return lambda r: r["figures"][name][key]

    def extra(name: str, key: str) -> Callable[[dict], Any]:
        return lambda r: r["figures"][name]["extra"].get(key)

    def ratio(name: str) -> Callable[[dict], Any]:
        return lambda r: r["ratios"][name]

    def seconds_with_queries(name: str) -> Callable[[dict], Any]:
        return lambda r: (r["figures"][name]["median_s"], r["figures"][name]["queries"])

    def fmt_sq(value) -> str:
        seconds, queries = value
        return f"{fmt_seconds(seconds)} ({queries} q)"

    def count(value: int) -> str:
        return f"{value:,}".replace(",", " ")

    def times(value: float) -> str:
        return f"{value:.2f}×"

    def mib(value: float) -> str:
        return f"{value:.1f} MiB"

    secs = fmt_seconds
    rows = [
        ("respondents (submitted)", lambda r: r["submitted"], count),
        ("answers of submitted respondents", lambda r: r["answers_submitted"], count),
        ("**a. dashboard, whole campaign**", seconds_with_queries("dashboard_whole"), fmt_sq),
        ("a. dashboard, compare = structure", seconds_with_queries("dashboard_compare"), fmt_sq),
        ("a. dashboard, filter territoire = rural", seconds_with_queries("dashboard_filter"), fmt_sq),
        ("b. floor, every figure of the whole dashboard", seconds_with_queries("floor_whole"), fmt_sq),
        ("b. floor, every figure of compare", seconds_with_queries("floor_compare"), fmt_sq),
        ("b. floor, every figure of filter", seconds_with_queries("floor_filter"), fmt_sq),
        ("**ratio dashboard whole / its floor**", ratio("dashboard_whole_vs_floor"), times),
        ("ratio dashboard compare / its floor", ratio("dashboard_compare_vs_floor"), times),
        ("ratio dashboard filter / its floor", ratio("dashboard_filter_vs_floor"), times),
        ("**c. microdata CSV export (write_csv → null sink)**", fig("export_csv"), secs),
        ("c. floor, same rows through server-side cursors", fig("export_floor"), secs),
        ("**ratio export / floor**", ratio("export_csv_vs_floor"), times),
        ("c. export peak Python memory (tracemalloc)", fig("export_csv", "peak_mib"), mib),
        ("c. floor peak Python memory (tracemalloc)", fig("export_floor", "peak_mib"), mib),
        ("c. CSV size", extra("export_csv", "csv_mib"), mib),
        ("**d. build_tracking(campaign)**", fig("tracking"), secs),
        ("d. build_tracking(campaign, by=structure)", fig("tracking_by_structure"), secs),
    ]
    growth_label = f"growth {sizes[0]} → {sizes[-1]}" if len(sizes) > 1 else "growth"
    lines = [
        "| figure | " + " | ".join(f"{int(s):,}".replace(",", " ") for s in sizes) + f" | {growth_label} |",
        "|---|" + "---:|" * (len(sizes) + 1),
    ]
    for label, get, fmt in rows:
        values = [get(results["sizes"][s]) for s in sizes]
        first, last = values[0], values[-1]
        if isinstance(first, tuple):
            first, last = first[0], last[0]
        growth = f"×{last / first:.1f}" if len(sizes) > 1 and first else "—"
        lines.append(f"| {label} | " + " | ".join(fmt(v) if v is not None else "—" for v in values) + f" | {growth} |")
    return "\n".join(lines)


def environment() -> dict[str, Any]:
    import django
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        postgres = cursor.fetchone()[0]
        cursor.execute("SHOW shared_buffers")
        shared_buffers = cursor.fetchone()[0]
        cursor.execute("SHOW work_mem")
        work_mem = cursor.fetchone()[0]
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgres": postgres,
        "shared_buffers": shared_buffers,
        "work_mem": work_mem,
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
    }


# --- Command line --------------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="comma-separated campaign sizes in respondents (default: %(default)s)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per figure, median reported (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of newly generated campaigns (default: %(default)s)")
    parser.add_argument("--database", default=BENCH_DATABASE,
                        help="benchmark database on the DATABASE_URL server, created if missing (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "study_dashboard.json",
                        help="where the JSON results go (default: benchmarks/results/study_dashboard.json)")
    parser.add_argument("--prepare-only", action="store_true", help="create the database and campaigns, measure nothing")
    parser.add_argument("--profile", action="store_true",
                        help="instead of measuring, cProfile the dashboard at the largest size (to results/)")
    parser.add_argument("--explain", action="store_true",
                        help="instead of measuring, EXPLAIN ANALYZE each dashboard query at the largest size (to results/)")
    args = parser.parse_args(argv)
    try:
        args.sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    except ValueError:
        parser.error("--sizes: integers separated by commas")
    if not args.sizes or args.runs < 1 or args.warmup < 0:
        parser.error("at least one size, one run and no negative warm-up")
    return args


def open_bench_database(database: str):
    """Create (if needed), migrate and open the benchmark database; returns its URL and a logger
    that prints the time elapsed since the start with each message."""
    began = time.perf_counter()

    def log(message: str) -> None:
        # Elapsed time rather than the clock: Django setup switches the process to TIME_ZONE.
        print(f"[{time.perf_counter() - began:7.1f} s] {message}", file=sys.stderr, flush=True)

    url = bench_database_url(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL), database)
    if ensure_database(url):
        log(f"created database {database}")
    setup_django(url)
    prepare_schema(log)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    return url, log


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    _url, log = open_bench_database(args.database)

    if args.prepare_only:
        for size in args.sizes:
            get_or_generate_campaign(size, args.seed, log)
        vacuum_analyze()
        return
    if args.profile or args.explain:
        largest = args.sizes[-1]
        if args.profile:
            path = RESULTS_DIR / f"study_dashboard_profile_{largest}.txt"
            path.write_text(profile_dashboard(largest, seed=args.seed, log=log))
            log(f"profile written to {path}")
        if args.explain:
            path = RESULTS_DIR / f"study_dashboard_explain_{largest}.txt"
            path.write_text(explain_dashboard(largest, seed=args.seed, log=log))
            log(f"plans written to {path}")
        return

    results: dict[str, Any] = {
        "benchmark": "study_dashboard",
        "runs": args.runs,
        "warmup": args.warmup,
        "filters": FILTERS,
        "compare": COMPARE,
        "sizes": {},
    }
    for size in args.sizes:
        results["sizes"][str(size)] = bench_size(size, seed=args.seed, runs=args.runs, warmup=args.warmup, log=log)
    sizes = [str(s) for s in args.sizes]
    if len(sizes) > 1:
        first, last = results["sizes"][sizes[0]], results["sizes"][sizes[-1]]
        results["growth"] = {
            "from": int(sizes[0]), "to": int(sizes[-1]),
            "figures": {name: last["figures"][name]["median_s"] / first["figures"][name]["median_s"]
                        for name in first["figures"]},
            "peak_memory": {name: last["figures"][name]["peak_mib"] / first["figures"][name]["peak_mib"]
                            for name in first["figures"] if first["figures"][name]["peak_mib"]},
        }
    results["environment"] = environment()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    log(f"results written to {args.output}")
    print(markdown_table(results))


if __name__ == "__main__":
    main()
