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


# --- with consents present (issue 13, finding 9) ---------------------------------------------


def consent_rows() -> tuple:
    from grille.assessments.models import ConsentRecord, PeerShare

    return (
        sorted(PeerShare.objects.values_list("assessment_id", "structure_type", "consent_version", "consented_at")),
        sorted(ConsentRecord.objects.values_list("kind", "assessment_id", "pseudonym", "text_version", "given_at", "withdrawn_at")),
    )


def joined(version, grid, count: int) -> None:
    from grille.assessments import peers

    fill(version, grid, count)
    for assessment in Assessment.objects.filter(status="submitted"):
        peers.join_benchmark(assessment=assessment, structure_type="association")


@pytest.mark.django_db(transaction=True)
def test_going_back_before_the_peer_shares_is_refused_while_consents_are_present(version, grid):
    from django.db.migrations.exceptions import IrreversibleError

    from grille.assessments import peers

    joined(version, grid, 30)
    first = Assessment.objects.filter(status="submitted").first()
    peers.leave_benchmark(assessment=first)  # a withdrawn consent: its proof only
    before, rows = fingerprint(), consent_rows()
    assert rows[0] and rows[1]
    with pytest.raises(IrreversibleError, match="Retour en arrière refusé : il effacerait"):
        call_command("migrate", "assessments", "0002", verbosity=0, stdout=io.StringIO())
    call_command("migrate", verbosity=0, stdout=io.StringIO())
    assert fingerprint() == before
    assert consent_rows() == rows


@pytest.mark.django_db(transaction=True)
def test_peer_shares_from_before_the_proofs_go_back_and_forth_and_get_their_proof(version, grid):
    from grille.assessments.models import ConsentRecord, PeerShare

    fill(version, grid, 30)
    # Shares joined before consent records existed: no proof yet.
    for assessment in Assessment.objects.filter(status="submitted"):
        PeerShare.objects.create(assessment=assessment, structure_type="association", consent_version="2026-11")
    shares, before = consent_rows()[0], fingerprint()
    call_command("migrate", "assessments", "0003", verbosity=0, stdout=io.StringIO())
    call_command("migrate", verbosity=0, stdout=io.StringIO())
    assert fingerprint() == before
    assert consent_rows()[0] == shares
    proofs = ConsentRecord.objects.filter(kind="pairs", withdrawn_at__isnull=True)
    assert sorted(proofs.values_list("assessment_id", "text_version", "given_at")) == [
        (assessment_id, version_, at) for assessment_id, _type, version_, at in shares
    ]
