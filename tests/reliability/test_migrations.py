"""The latest migration of the positionings, run back and forth on a database full of them:
every positioning and every answer is still there, with the same values."""

import hashlib
import io
import time
import uuid

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from grille.assessments.models import Answer, Assessment
from grille.frameworks.models import Practice


def previous_migration(app: str) -> tuple[str, str]:
    """(latest, the one before it) among the app's migrations."""
    graph = MigrationLoader(connection).graph
    (leaf,) = graph.leaf_nodes(app)
    (parent,) = [p for p in graph.node_map[leaf].parents if p.key[0] == app]
    return leaf[1], parent.key[1]


def fill(version, grid, positionings: int) -> None:
    """`positionings` positionings, a third of them submitted, each with an answer to every practice."""
    now = timezone.now()
    Assessment.objects.bulk_create(
        (
            Assessment(
                uuid=uuid.uuid4(), version=version,
                status="submitted" if n % 3 == 0 else "draft", submitted_at=now if n % 3 == 0 else None,
            )
            for n in range(positionings)
        ),
        batch_size=5000,
    )

    def case(expression: str, role: str) -> str:
        ids = [option.id for option in grid.dimensions[role].options]
        whens = " ".join(f"WHEN {n} THEN {option_id}" for n, option_id in enumerate(ids))
        return f"CASE ({expression}) %% {len(ids)} {whens} END"

    # One statement on the database's side: a million answers are written in seconds.
    practices = ", ".join(str(p.id) for p in grid.practices)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Answer._meta.db_table}
                (assessment_id, practice_id, level_id, wish_id, carrying_id, comment, updated_at, edited_at_client)
            SELECT a.id, p.id,
                   {case("a.id + p.id", "level")},
                   CASE WHEN a.id %% 7 = 0 THEN NULL ELSE {case("a.id * 3 + p.id", "wish")} END,
                   {case("a.id + 2 * p.id", "carrying")},
                   CASE WHEN (a.id + p.id) %% 10 = 0 THEN 'Commentaire « n° ' || a.id || ' »' ELSE '' END,
                   %s,
                   CASE WHEN a.id %% 2 = 0 THEN 1760000000000 + a.id ELSE NULL END
            FROM {Assessment._meta.db_table} a CROSS JOIN {Practice._meta.db_table} p
            WHERE p.id IN ({practices})
            """,
            [now],
        )


def fingerprint() -> tuple[int, int, str]:
    """Counts and a digest of every value the migration must keep, read without the model's newest field."""
    digest = hashlib.sha256()
    for row in Assessment.objects.order_by("id").values_list("id", "uuid", "version_id", "status", "submitted_at").iterator(chunk_size=10_000):
        digest.update(repr(row).encode())
    for row in (
        Answer.objects.order_by("assessment_id", "practice_id")
        .values_list("assessment_id", "practice_id", "level_id", "wish_id", "carrying_id", "comment")
        .iterator(chunk_size=10_000)
    ):
        digest.update(repr(row).encode())
    return Assessment.objects.count(), Answer.objects.count(), digest.hexdigest()


def migrate_back_and_forth(version, grid, positionings: int) -> dict:
    fill(version, grid, positionings)
    before = fingerprint()
    latest, previous = previous_migration("assessments")
    timings = {}

    began = time.monotonic()
    call_command("migrate", "assessments", previous, verbosity=0, stdout=io.StringIO())
    timings["back"] = time.monotonic() - began
    between = fingerprint()
    began = time.monotonic()
    call_command("migrate", verbosity=0, stdout=io.StringIO())
    timings["forth"] = time.monotonic() - began
    after = fingerprint()

    assert before[:2] == (positionings, positionings * len(grid.practices))
    assert between == before
    assert after == before
    print(f"{positionings} positionings, {before[1]} answers: migrate back to {previous} in "
          f"{timings['back']:.1f} s, forward to {latest} in {timings['forth']:.1f} s")
    return timings


@pytest.mark.django_db(transaction=True)
def test_latest_migration_back_and_forth_keeps_every_positioning_and_answer(version, grid):
    migrate_back_and_forth(version, grid, 300)


@pytest.mark.chaos
@pytest.mark.django_db(transaction=True)
def test_latest_migration_back_and_forth_on_50000_positionings_keeps_them_all(version, grid):
    migrate_back_and_forth(version, grid, 50_000)
