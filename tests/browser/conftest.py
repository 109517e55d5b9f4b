"""Real-browser journeys: Playwright driving Debian's Chromium against a live server."""

import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# Root in a sandbox-less container, and a closed network: background requests only fail.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        message = f"Chromium est absent ({CHROMIUM}) : installez-le avec « apt-get install chromium »."
        if os.environ.get("GRILLE_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def site(live_server, transactional_db, settings):
    """The live server with the 2024 grid loaded, as after `make run`; e-mails link to it."""
    call_command("load_framework", verbosity=0, stdout=io.StringIO())
    settings.SITE_URL = live_server.url
    return live_server.url


@pytest.fixture
def new_context(browser):
    contexts = []

    def make(**kwargs):
        options = {"locale": "fr-FR", "viewport": {"width": 1280, "height": 900}, "accept_downloads": True}
        options.update(kwargs)
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context):
    return new_context().new_page()


def assert_accessible(page) -> None:
    """axe-core (shipped inside axe-playwright-python) finds no violation on this page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"
