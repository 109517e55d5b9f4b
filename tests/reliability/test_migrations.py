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
def test_going_back_before_the_peer_shares_keeps_them_and_their_proofs(version, grid):
    from grille.assessments import peers
    from grille.assessments.models import PeerShare

    joined(version, grid, 30)
    first = Assessment.objects.filter(status="submitted").first()
    peers.leave_benchmark(assessment=first)  # a withdrawn consent: its proof only
    waiting = PeerShare.objects.order_by("pk").last()
    PeerShare.objects.filter(pk=waiting.pk).update(released=False)  # as a share waiting for its batch
    released = sorted(PeerShare.objects.values_list("assessment_id", "released"))
    keys = sorted(Assessment.objects.values_list("id", "record_key"))
    before, rows = fingerprint(), consent_rows()
    assert rows[0] and rows[1]
    assert {flag for _id, flag in released} == {True, False}, "some shares wait for their batch"

    call_command("migrate", "assessments", "0002", verbosity=0, stdout=io.StringIO())
    call_command("migrate", verbosity=0, stdout=io.StringIO())

    assert fingerprint() == before
    assert consent_rows() == rows
    # A share waiting for its batch stays unpublished, and record keys (the disclosure noise) stay.
    assert sorted(PeerShare.objects.values_list("assessment_id", "released")) == released
    assert sorted(Assessment.objects.values_list("id", "record_key")) == keys


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


# --- every migration, back to zero and forward (issue 13, finding 9) -------------------------

GRILLE_APPS = ("accounts", "assessments", "core", "disclosure", "files", "frameworks", "organisations", "studies")


def every_row() -> dict[str, list]:
    """Every row of every table of the project, every column, as text."""
    from django.apps import apps

    tables = {}
    for label in GRILLE_APPS:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            names = [f.attname for f in model._meta.concrete_fields]
            tables[model._meta.label] = sorted(repr(row) for row in model._base_manager.values_list(*names))
    return tables


def filled_everywhere(version, grid) -> None:
    from datetime import timedelta

    from grille.accounts.services import create_api_token
    from grille.assessments import peers
    from grille.organisations import services as teams
    from grille.studies import services as studies
    from tests.factories import make_user
    from tests.studies.conftest import make_respondent

    joined(version, grid, 30)
    peers.leave_benchmark(assessment=Assessment.objects.filter(status="submitted").first())
    lead, member = make_user("lea@exemple.fr"), make_user("max@exemple.fr")
    create_api_token(user=lead, name="tableur")
    organisation = teams.create_organisation(user=lead, name="Pays des Combes", structure_type="association")
    facilitator = organisation.memberships.get(user=lead)
    _invitation, raw = teams.create_invitation(membership=facilitator, email="max@exemple.fr")
    joined_member = teams.accept_invitation(raw=raw, user=member)
    mine = Assessment.objects.filter(status="submitted", owner__isnull=True).last()
    mine.owner = member
    mine.save()
    teams.share_assessment(membership=joined_member, assessment=mine, mode="named")
    code = grid.practices[0].code
    teams.set_decision(membership=facilitator, practice_code=code, mode="partnership", partner_types=["association"], note="À revoir")
    teams.create_action(membership=facilitator, title="Former l'équipe", practice_codes=[code, grid.practices[1].code])
    teams.add_comment(membership=joined_member, practice_code=code, body="Nous le faisons déjà.")
    from django.contrib.auth.models import Permission

    lead.user_permissions.add(Permission.objects.get(codename="run_studies"))
    lead = type(lead).objects.get(pk=lead.pk)
    now = timezone.now()
    campaign = studies.create_campaign(
        user=lead, name="Étude", wave_year=2024, version=version, opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=9), consent_text="J'accepte.", threshold=5,
    )
    for n in range(6):
        make_respondent(campaign, profile={"structure": ["association"]}, levels={code: str(n % 4)})


@pytest.mark.django_db(transaction=True)
def test_every_migration_goes_back_to_zero_and_forward_keeping_every_row(version, grid):
    from grille.core.migration_parking import TABLE

    filled_everywhere(version, grid)
    before = every_row()
    assert all(before[label] for label in (
        "assessments.PeerShare", "assessments.ConsentRecord", "organisations.Share", "organisations.ActionItem",
        "studies.Respondent", "accounts.ApiToken", "disclosure.PoolRelease", "core.OutgoingEmail",
    )), {label: len(rows) for label, rows in before.items()}

    for app in ("studies", "organisations", "assessments", "disclosure", "files", "frameworks", "accounts", "core"):
        call_command("migrate", app, "zero", verbosity=0, stdout=io.StringIO())
    assert not set(connection.introspection.table_names()) & {"assessments_peershare", "accounts_user"}
    call_command("migrate", verbosity=0, stdout=io.StringIO())

    after = every_row()
    assert {label: len(rows) for label, rows in after.items()} == {label: len(rows) for label, rows in before.items()}
    assert after == before
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")
        assert cursor.fetchone() == (0,), "everything parked was put back"


def test_every_migration_that_creates_a_table_or_adds_a_column_keeps_its_data():
    """The rule, for migrations still to come: each ends with keep_data for what it creates."""
    from django.db import migrations as m

    loader = MigrationLoader(None, ignore_no_migrations=True)
    missing = []
    for (app, name), migration in sorted(loader.disk_migrations.items()):
        if app not in GRILLE_APPS:
            continue
        created, added = set(), set()
        for operation in migration.operations:
            if isinstance(operation, m.CreateModel):
                created.add(operation.name_lower)
            elif isinstance(operation, m.AddField) and operation.model_name_lower not in created:
                added.add((operation.model_name_lower, operation.name))
        kept_models, kept_columns = set(), set()
        for operation in migration.operations:
            keeps = getattr(getattr(operation, "reverse_code", None), "keeps", None)
            if keeps:
                kept_models |= {model.lower() for model in keeps[1]}
                kept_columns |= {(model.lower(), field) for model, fields in keeps[2] for field in fields}
        if created - kept_models or added - kept_columns:
            missing.append(f"{app}.{name}: {sorted(created - kept_models)} {sorted(added - kept_columns)}")
    assert not missing, "Ajoutez keep_data(...) (grille/core/migration_parking.py) à : " + "; ".join(missing)
