"""Issue 15, parts 5 and 6 in a real browser: the count autosave.js updates is written with the
French plural, a second positioning starts from the first one's answers when chosen, and the two
compare, per axis and practice, on an accessible page."""

import re

from grille.assessments.models import Answer, Assessment

from .conftest import assert_accessible


def answer_level(page, index: int, level: int) -> None:
    fieldset = page.locator("fieldset.practice").nth(index)
    fieldset.locator(".dimension-level label.option").nth(level).click()
    fieldset.locator("[data-save-status]").filter(has_text="Enregistré").wait_for()


def test_progress_count_updated_by_script_reads_1_pratique(site, page):
    page.goto(site + "/")
    page.get_by_role("button", name="Commencer mon positionnement").first.click()
    page.get_by_role("link", name=re.compile("Commencer le questionnaire")).click()
    progress = page.locator("#progress-text")
    assert progress.inner_text() == "0 pratique renseignée sur 24."

    answer_level(page, 0, 2)
    assert progress.inner_text() == "1 pratique renseignée sur 24."
    answer_level(page, 1, 1)
    assert progress.inner_text() == "2 pratiques renseignées sur 24."
    # Changing an answered practice keeps the count, and its words.
    answer_level(page, 1, 3)
    assert progress.inner_text() == "2 pratiques renseignées sur 24."
    assert page.locator("#progress").get_attribute("value") == "2"
    assert_accessible(page)


def test_second_positioning_from_the_first_then_compare(site, page):
    page.goto(site + "/")
    page.get_by_role("button", name="Commencer mon positionnement").first.click()
    page.get_by_role("link", name=re.compile("Commencer le questionnaire")).click()
    answer_level(page, 0, 1)   # 1.1 : Ponctuellement
    answer_level(page, 1, 2)   # 1.2 : Régulièrement
    page.get_by_role("button", name=re.compile("^8")).click()
    page.get_by_role("button", name=re.compile("Vérifier et envoyer")).click()
    page.get_by_role("button", name="Envoyer mon positionnement").click()
    page.get_by_role("heading", name="Ma fiche de positionnement").wait_for()
    first = Assessment.objects.get()

    page.get_by_role("button", name="Nouveau positionnement à partir de celui-ci").click()
    assert page.get_by_text("2 réponses de votre positionnement du").is_visible()
    page.get_by_role("link", name=re.compile("Reprendre le questionnaire")).click()
    # The copied answers are there; one is changed.
    level_inputs = page.locator("fieldset.practice").nth(0).locator(".dimension-level input")
    assert level_inputs.nth(1).is_checked()
    assert page.locator("#progress-text").inner_text() == "2 pratiques renseignées sur 24."
    answer_level(page, 0, 3)   # 1.1 : C'est le cœur de mon activité
    page.get_by_role("button", name=re.compile("^8")).click()
    page.get_by_role("button", name=re.compile("Vérifier et envoyer")).click()
    page.get_by_role("button", name="Envoyer mon positionnement").click()
    page.get_by_role("heading", name="Ma fiche de positionnement").wait_for()
    second = Assessment.objects.exclude(pk=first.pk).get()
    assert second.is_submitted
    assert Answer.objects.get(assessment=first, practice__code="1.1").level.code == "1"

    evolution = page.locator("#evolution")
    assert "+2" in evolution.locator("tr", has_text="Financer les projets").inner_text()
    assert_accessible(page)

    page.goto(site + "/mes-positionnements/")
    assert_accessible(page)
    page.get_by_role("button", name="Comparer").click()
    page.get_by_role("heading", level=1, name="Comparer deux positionnements").wait_for()
    row = page.locator("#evolution tr", has_text="Financer les projets")
    assert re.search(r"Ponctuellement\s+C'est le cœur de mon activité\s+\+2", row.inner_text())
    assert_accessible(page)
