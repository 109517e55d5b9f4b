"""Two tabs of one browser on the same practice, in a real Chromium: the tab whose save
arrives after a later change made in the other tab shows that later value, and says so."""

import re

from grille.assessments.models import Answer

from .conftest import assert_accessible


def test_tab_whose_earlier_change_arrives_late_shows_the_later_value(site, new_context):
    context = new_context()
    first = context.new_page()
    first.goto(site + "/")
    first.get_by_role("button", name="Commencer mon positionnement").first.click()
    first.get_by_role("link", name=re.compile("Commencer le questionnaire")).click()
    first.get_by_role("heading", level=1).filter(has_text="Étape 1 sur 8").wait_for()
    second = context.new_page()
    second.goto(first.url)
    held = []
    second.route(re.compile(r"/reponses/1\.1/$"), lambda route: held.append(route))

    # The second tab changes the level first; its save is held on the way.
    second.locator("fieldset.practice").first.locator(".dimension-level label.option").nth(1).click()
    while not held:
        second.wait_for_timeout(50)
    # Then the first tab changes it again, and its save goes through.
    practice = first.locator("fieldset.practice").first
    practice.locator(".dimension-level label.option").nth(3).click()
    practice.locator("[data-save-status]").filter(has_text="Enregistré").wait_for()
    held[0].continue_()

    status = second.locator("fieldset.practice").first.locator("[data-save-status]")
    status.filter(has_text="Une valeur plus récente a été enregistrée depuis un autre onglet").wait_for()
    assert second.locator("fieldset.practice").first.locator(".dimension-level input").nth(3).is_checked()
    assert not second.locator("fieldset.practice").first.locator(".dimension-level input").nth(1).is_checked()
    assert Answer.objects.get().level.code == "3"
    assert_accessible(second)
