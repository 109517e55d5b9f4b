"""grille/core/sql.py: a hot statement, prepared on PostgreSQL, reads what Django's cursor reads."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from grille.core.sql import fetch_all, prepared_statements
from tests.factories import answer, assessment_url, start_positioning


@pytest.mark.parametrize("prepared", [True, False])
def test_the_same_rows_prepared_or_not_logged_like_any_query(client, version, settings, prepared):
    settings.GRILLE_PREPARED_STATEMENTS = prepared
    positioning = start_positioning(client)
    answer(positioning, "1.1", level="2", comment="« l'équipe » & co")
    sql = ("SELECT a.uuid, a.created_at, an.comment FROM assessments_assessment a "
           f"JOIN assessments_answer an ON an.assessment_id = a.id WHERE a.id = %s AND an.comment <> %s -- {prepared}")
    expected_vendor = connection.vendor == "postgresql" and prepared
    assert prepared_statements() is expected_vendor
    with CaptureQueriesContext(connection) as captured:
        rows = [fetch_all(sql, [positioning.pk, ""]) for _ in range(7)]  # prepared after the first
    assert len(captured) == 7
    with connection.cursor() as cursor:
        cursor.execute(sql, [positioning.pk, ""])
        assert rows[0] == rows[-1] == cursor.fetchall()
    assert rows[0][0][2] == "« l'équipe » & co"
    for _ in range(6):
        client.get(assessment_url("step", positioning, 1))
    if connection.vendor == "postgresql":
        # Really prepared (Django turns psycopg's preparing off for the connection), and only it.
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            statements = [row[0] for row in cursor.fetchall()]
        assert any(f"an.comment <> $2 -- {prepared}" in statement for statement in statements) is prepared
        # Django's own queries (the session's, read by every request above) are never prepared.
        assert not any("django_session" in statement for statement in statements), statements


def test_an_error_is_djangos(version, settings):
    with pytest.raises(DatabaseError):
        fetch_all("SELECT no_such_column FROM assessments_assessment WHERE id = %s", [1])
