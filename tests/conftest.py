import io
import os
import sys
import time

import pytest
from django.core.management import call_command

from grille.frameworks.selectors import clear_grid_cache, get_default_version, get_grid

# Playwright's sync API runs an event loop in the test thread; the Django ORM
# calls made by tests beside it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session", autouse=True)
def _no_stray_database_sessions(django_db_setup, django_db_blocker):
    """Before the PostgreSQL test database is dropped, end the sessions other processes left on it.

    The reliability tests run gunicorn and management commands in subprocesses against the test
    database and kill some of them with SIGKILL; a backend whose client vanished can outlive
    the run by a moment, and DROP DATABASE then fails the whole session. They are listed on
    stderr, so that a real leak stays visible.
    """
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        cursor.execute(f"SELECT pid, state, left(query, 80) {others}")  # noqa: S608 - no user input
        stray = cursor.fetchall()
        if stray:
            print(f"\n[tests] {len(stray)} database session(s) left by other processes, ended: {stray}", file=sys.stderr)
            cursor.execute(f"SELECT pg_terminate_backend(pid) {others}")  # noqa: S608
            for _attempt in range(50):  # ended sessions take a moment to go
                cursor.execute(f"SELECT count(*) {others}")  # noqa: S608
                if not cursor.fetchone()[0]:
                    break
                time.sleep(0.1)


@pytest.fixture(autouse=True)
def _fresh_grid_cache():
    # Primary keys are reused between tests once transactions roll back.
    clear_grid_cache()
    yield
    clear_grid_cache()


@pytest.fixture(autouse=True)
def _french(settings):
    settings.LANGUAGE_CODE = "fr"


@pytest.fixture
def version(db):
    """The 2024 grid, loaded from the shipped data file as in production."""
    call_command("load_framework", verbosity=0, stdout=io.StringIO())
    return get_default_version()


@pytest.fixture
def grid(version):
    return get_grid(version)


def pytest_addoption(parser):
    parser.addoption(
        "--chaos", action="store_true", default=False,
        help="also run the heavy reliability tests marked chaos (make chaos); they restart PostgreSQL",
    )


def pytest_collection_modifyitems(config, items):
    # Deselected, not skipped: CI fails on any skipped test, and `make test` must never
    # kill workers for minutes or restart the PostgreSQL cluster.
    if config.getoption("--chaos"):
        return
    kept = [item for item in items if item.get_closest_marker("chaos") is None]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item.get_closest_marker("chaos")])
        items[:] = kept


@pytest.fixture
def smtp_sink(settings):
    """A real SMTP server on a free port, not yet started (so: down), and Django's SMTP backend
    pointed at it; call .start() to bring it up."""
    from tests.smtp_sink import SmtpSink

    sink = SmtpSink()
    for name, value in sink.settings().items():
        setattr(settings, name, value)
    yield sink
    sink.stop()
