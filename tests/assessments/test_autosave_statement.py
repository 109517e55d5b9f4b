"""Issue 16: the common autosave is one statement on PostgreSQL (services.quick_autosave), its
values checked beforehand against a guessed grid version. Written as an attacker first: the
statement checks the caller's right itself, so someone else's positioning (by its uuid), a
submitted one or a closed one must come out of it exactly as it went in, to the updated_at."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grille.assessments import services
from grille.assessments.models import Answer, Assessment
from grille.frameworks.services import load_framework_version, validate_framework_data
from tests.factories import (
    answer,
    autosave_post,
    load_small_framework,
    make_user,
    now_ms,
    signed_in_positioning,
    small_framework_data,
    start_positioning,
    stored_answers,
)

post = autosave_post


def snapshot(positioning: Assessment) -> tuple:
    """Everything an autosave could change: the positioning's row and its answers, stamps included."""
    row = Assessment.objects.filter(pk=positioning.pk).values_list("updated_at", "status", "submitted_at").get()
    answers = sorted(Answer.objects.filter(assessment=positioning).values_list(
        "practice_id", "level_id", "wish_id", "carrying_id", "comment", "updated_at", "edited_at_client"))
    return row, answers


@pytest.fixture(autouse=True)
def _no_remembered_versions():
    services._version_guesses.clear()
    yield
    services._version_guesses.clear()


# Attacks ------------------------------------------------------------------------------------

def test_another_browser_with_a_positioning_of_its_own_changes_nothing_in_mine(client, positioning, outsider):
    answer(positioning, "1.1", level="2", comment="à moi")
    before = snapshot(positioning)

    response = post(outsider, positioning, "1.1", niveau="0", commentaire="pris")

    assert response.status_code == 404
    assert snapshot(positioning) == before
    assert services._version_guesses == {}


def test_another_account_changes_nothing_in_my_positioning(version):
    _mine, victim, positioning = signed_in_positioning("victime@exemple.fr")
    answer(positioning, "1.1", level="2")
    attacker = Client()
    attacker.force_login(make_user("attaquant@exemple.fr"))
    start_positioning(attacker)  # their own positioning: a grant and an ownership, neither for mine
    before = snapshot(positioning)

    response = post(attacker, positioning, "1.1", niveau="0")

    assert response.status_code == 404
    assert snapshot(positioning) == before
    # The owner, from another browser, is let in by the same statement.
    other_browser = Client()
    other_browser.force_login(victim)
    assert post(other_browser, positioning, "1.1", niveau="3").json()["ok"] is True
    assert stored_answers(positioning)["1.1"][0] == "3"


def test_a_browser_without_any_grant_changes_nothing(positioning):
    answer(positioning, "1.1", level="2")
    before = snapshot(positioning)

    response = post(Client(), positioning, "1.1", niveau="0")

    assert response.status_code == 404
    assert snapshot(positioning) == before


def test_a_submitted_positioning_is_never_written(client, positioning):
    answer(positioning, "1.1", level="2")
    services.submit_assessment(assessment=positioning)
    before = snapshot(positioning)

    response = post(client, positioning, "1.1", niveau="0")

    assert response.status_code == 409
    assert response.json()["ok"] is False
    assert snapshot(positioning) == before


def test_a_closed_positioning_is_never_written(client, positioning):
    answer(positioning, "1.1", level="2")
    Assessment.objects.filter(pk=positioning.pk).update(answers_until=timezone.now() - timedelta(minutes=1))
    before = snapshot(positioning)

    response = post(client, positioning, "1.1", niveau="0")

    assert response.status_code == 409
    assert "close" in response.json()["message"]
    assert snapshot(positioning) == before


def test_a_positioning_still_open_until_later_is_written(client, positioning):
    answer(positioning, "1.1", level="2")
    Assessment.objects.filter(pk=positioning.pk).update(answers_until=timezone.now() + timedelta(days=1))

    assert post(client, positioning, "1.1", niveau="0").json()["ok"] is True
    assert stored_answers(positioning)["1.1"][0] == "0"


# The edit-stamp rule ------------------------------------------------------------------------

def test_a_stale_edit_stamp_keeps_the_stored_later_answer(client, positioning):
    answer(positioning, "1.1", level="1")
    later = now_ms() + 60_000
    assert post(client, positioning, "1.1", stamp=later, niveau="3", commentaire="plus tard").json()["ok"] is True
    stored = Answer.objects.get(assessment=positioning, practice__code="1.1")

    body = post(client, positioning, "1.1", stamp=later - 1000, niveau="0").json()

    assert body["ok"] is True and body["stale"] is True
    assert body["values"]["1.1-niveau"] == "3"
    kept = Answer.objects.get(assessment=positioning, practice__code="1.1")
    assert (kept.level_id, kept.comment, kept.edited_at_client) == (stored.level_id, "plus tard", later)


def test_an_equal_stamp_is_applied(client, positioning):
    answer(positioning, "1.1", level="1")
    stamp = now_ms()
    assert post(client, positioning, "1.1", stamp=stamp, niveau="2").json()["ok"] is True

    body = post(client, positioning, "1.1", stamp=stamp, niveau="3").json()

    assert body == {"ok": True, "message": "Enregistré", "answered": 1, "total": 24}
    assert stored_answers(positioning)["1.1"][0] == "3"


# Another grid version -----------------------------------------------------------------------

def test_a_positioning_on_an_older_version_saves_through_the_general_path_then_directly(client, db):
    v1 = load_small_framework()
    positioning = start_positioning(client)  # on v1, the default when it starts
    answer(positioning, "A.1", level="jamais")
    answer(positioning, "B.1", level="parfois")
    data = small_framework_data()
    data["version"]["code"] = "v2"
    v2 = load_framework_version(data=validate_framework_data(data)).version
    assert positioning.version_id == v1.pk and services.guess_version(str(positioning.uuid)) == v2.pk

    # Checked against v2's grid, written nowhere (the positioning is on v1): the general path.
    response = post(client, positioning, "A.1", niveau="souvent", envie="oui")
    assert response.json() == {"ok": True, "message": "Enregistré", "answered": 2, "total": 5}
    assert stored_answers(positioning)["A.1"] == ("souvent", "oui", None, "")
    stored = Answer.objects.filter(assessment=positioning).values_list("practice__version_id", "level__dimension__version_id")
    assert set(stored) == {(v1.pk, v1.pk)}
    assert services.guess_version(str(positioning.uuid)) == v1.pk

    # Remembered: the next save is checked against v1 and takes the one statement.
    with CaptureQueriesContext(connection) as captured:
        response = post(client, positioning, "A.1", niveau="parfois")
    assert response.json() == {"ok": True, "message": "Enregistré", "answered": 2, "total": 5}
    assert stored_answers(positioning)["A.1"] == ("parfois", None, None, "")
    assert set(Answer.objects.filter(assessment=positioning).values_list("level__dimension__version_id", flat=True)) == {v1.pk}
    if connection.vendor == "postgresql":
        assert len(captured.captured_queries) == 2, captured.captured_queries


def test_a_value_only_the_guessed_version_has_is_refused_on_an_older_version(client, db):
    load_small_framework()
    positioning = start_positioning(client)
    answer(positioning, "A.1", level="jamais")
    data = small_framework_data()
    data["version"]["code"] = "v2"
    data["dimensions"][0]["options"].append({"code": "toujours", "label": "Toujours", "value": 3})
    load_framework_version(data=validate_framework_data(data))

    response = post(client, positioning, "A.1", niveau="toujours")

    assert response.status_code == 400
    assert response.json()["ok"] is False
    assert stored_answers(positioning)["A.1"][0] == "jamais"


def test_nothing_is_written_with_the_values_of_a_grid_the_positioning_is_not_on(client, db):
    """Guarded by the version in the statement, not only by the practice: a row that pointed at
    the guessed grid's practice (it cannot happen through the services) is left as it is."""
    v1 = load_small_framework()
    positioning = start_positioning(client)
    data = small_framework_data()
    data["version"]["code"] = "v2"
    v2 = load_framework_version(data=validate_framework_data(data)).version
    foreign = Answer.objects.create(assessment=positioning, practice=v2.practices.get(code="A.1"), comment="v2")
    before = snapshot(positioning)

    services.quick_autosave(
        uuid=str(positioning.uuid), scope=services.CallerScope((str(positioning.uuid),), None), version_id=v2.pk,
        values={"practice_id": foreign.practice_id, "level_id": None, "wish_id": None, "carrying_id": None,
                "comment": "écrit"}, edited_at=None,
    )

    assert Answer.objects.get(pk=foreign.pk).comment == "v2"
    assert snapshot(positioning)[1] == before[1]
    assert services.guess_version(str(positioning.uuid)) == v1.pk


def test_a_positioning_on_the_default_version_is_not_remembered(client, positioning):
    answer(positioning, "1.1", level="1")

    assert post(client, positioning, "1.1", niveau="2").json()["ok"] is True
    assert services._version_guesses == {}


# Statements ---------------------------------------------------------------------------------

def test_the_common_case_is_one_statement_outside_any_transaction_on_postgresql(client, positioning):
    answer(positioning, "1.1", level="1")
    answer(positioning, "2.1", level="nc")

    with CaptureQueriesContext(connection) as captured:
        response = post(client, positioning, "1.1", niveau="2", commentaire="ok")

    assert response.json() == {"ok": True, "message": "Enregistré", "answered": 2, "total": 24}
    sql = [q["sql"] for q in captured.captured_queries]
    assert "django_session" in sql[0]
    if connection.vendor == "postgresql":
        # No SAVEPOINT either: the test's transaction would show one for a transaction.atomic().
        assert len(sql) == 2, sql
        assert sql[1].startswith("WITH p AS (UPDATE")
    else:
        # SQLite has no UPDATE in a WITH: the lock-and-check and the answer, in a transaction.
        writes = [s for s in sql if s.startswith("UPDATE")]
        assert len(writes) == 2, sql
