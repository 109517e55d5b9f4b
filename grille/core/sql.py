"""One statement of a hot path, prepared once per database connection on PostgreSQL (issue 16).

Django sends each statement with its values written in (client-side binding): PostgreSQL plans
it again every time, about 0.17 ms for a statement joining four tables — on the questionnaire's
hot pages, a fifth of a page's whole cost. ``fetch_all`` sends the statement and its values
apart, and asks psycopg to prepare it: the plan is made once per connection (connections are
kept, ``CONN_MAX_AGE``) and reused. Elsewhere (SQLite), or with
``GRILLE_PREPARED_STATEMENTS = False`` (a PgBouncer in transaction mode cannot keep prepared
statements), it is Django's cursor, unchanged.

The statement is still logged where Django logs queries (``connection.queries``, the tests'
CaptureQueriesContext), its values after it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import connection

ONLY_WHEN_ASKED = 2**31


def prepared_statements() -> bool:
    return connection.vendor == "postgresql" and getattr(settings, "GRILLE_PREPARED_STATEMENTS", True)


def fetch_all(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` (``%s`` placeholders) with ``params``, on the default database."""
    if not prepared_statements():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows: list[tuple[Any, ...]] = cursor.fetchall()
            return rows
    import psycopg  # the PostgreSQL driver, present when the database is PostgreSQL

    connection.validate_thread_sharing()
    connection.ensure_connection()
    raw = connection.connection
    # Django turns psycopg's prepared statements off for the whole connection (threshold None,
    # for poolers' sake): on for this statement only, and never by count (a threshold no
    # statement reaches), so that only the statements sent here are prepared.
    threshold = raw.prepare_threshold
    started = time.monotonic()
    try:
        raw.prepare_threshold = threshold if threshold is not None else ONLY_WHEN_ASKED
        with connection.wrap_database_errors, psycopg.Cursor(raw) as cursor:
            cursor.execute(sql, params, prepare=True)
            rows = cursor.fetchall()
    finally:
        raw.prepare_threshold = threshold
    if connection.queries_logged:
        connection.queries_log.append(
            {"sql": f"{sql} -- prepared, with {list(params)!r}", "time": f"{time.monotonic() - started:.3f}"}
        )
    return rows
