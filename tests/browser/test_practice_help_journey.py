"""The grid page and the questionnaire in English: labels from the grid's translation, the French
original at hand, and each practice's help opened on demand — with or without JavaScript."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_accessible

WIDTHS = (390, 1280)


@pytest.mark.parametrize("width", WIDTHS)
def test_english_grid_page_opens_a_practice_help_and_stays_accessible(site, new_context, width, tmp_path):
    page = new_context(locale="en-GB", viewport={"width": width, "height": 900}).new_page()
    page.goto(site + "/grille/")

    item_81 = page.locator(".practice-items > li", has=page.locator(".code", has_text="8.1"))
    assert item_81.inner_text().startswith("8.1 Facilitating political momentum")
    help_81 = item_81.locator("details.practice-help")
    body = help_81.locator(".practice-help-body")
    assert not body.is_visible()
    help_81.locator("summary").click()

    assert body.is_visible()
    assert "Occasionally" in body.inner_text()
    assert "Grille's own proposal, not text from the original grid" in body.inner_text()
    assert page.locator('span[lang="fr"]', has_text="Faciliter l'impulsion politique").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(tmp_path / f"grille-en-{width}.png"), full_page=True)
    assert_accessible(page)


def test_questionnaire_help_opens_without_javascript(site, new_context):
    context = new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site + "/grille/")
    page.get_by_role("button", name="Commencer mon positionnement").click()
    page.goto(page.url.replace("/lien/", "/etape/1/"))

    practice = page.locator("fieldset.practice").first
    summary = practice.locator("details.practice-help summary")
    summary.click()

    text = practice.locator(".practice-help-body").inner_text()
    assert "Ponctuellement" in text and "Proposition de Grille, pas du texte original de la grille" in text
