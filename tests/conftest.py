import io
import os

import pytest
from django.core.management import call_command

from grille.frameworks.selectors import clear_grid_cache, get_default_version, get_grid

# Playwright's sync API runs an event loop in the test thread; the Django ORM
# calls made by tests beside it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


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
