"""Autosave when the session breaks or the server fails, in a real Chromium: the answer is
never claimed saved before the server says so, is kept across a sign-in, and is sent again."""

import re

import pytest

from grille.assessments.models import Answer

from .conftest import assert_accessible
from .test_dialogue_journey import sign_in

AUTOSAVE = re.compile(r"/reponses/1\.1/$")


def open_first_step(page, site: str) -> None:
    page.goto(site + "/")
    page.get_by_role("button", name="Commencer mon positionnement").first.click()
    page.get_by_role("link", name=re.compile("Commencer le questionnaire")).click()
    page.get_by_role("heading", level=1).filter(has_text="Étape 1 sur 8").wait_for()


def choose_level(page, option: int):
    practice = page.locator("fieldset.practice").first
    practice.locator(".dimension-level label.option").nth(option).click()
    return practice.locator("[data-save-status]")


def test_changed_csrf_token_asks_to_sign_in_keeps_the_answer_and_sends_it_after(site, page):
    sign_in(page, site, "ana@example.org")
    open_first_step(page, site)
    step_path = page.url.removeprefix(site)
    # A sign-in in another tab gives the browser a new CSRF cookie: this page's token is refused.
    page.context.add_cookies([{"name": "csrftoken", "value": "x" * 32, "url": site}])

    status = choose_level(page, 2)
    status.filter(has_text="Non enregistré : reconnectez-vous").wait_for()
    alert = page.get_by_role("alert").filter(has_text="n'ont pas été enregistrées")
    alert.wait_for()
    link = alert.get_by_role("link", name="Se reconnecter et revenir à cette étape")
    assert link.get_attribute("href") == "/connexion/?next=" + step_path
    assert page.locator("fieldset.practice").first.locator(".dimension-level input").nth(2).is_checked()
    assert not Answer.objects.exists()
    assert_accessible(page)

    link.click()
    sign_in(page, site, "ana@example.org", next_path=step_path)
    page.wait_for_url(site + step_path)
    # Back on the step with a valid token: the kept answer is shown, sent, then forgotten.
    status = page.locator("fieldset.practice").first.locator("[data-save-status]")
    status.filter(has_text=re.compile("^Enregistré$")).wait_for()
    assert page.locator("fieldset.practice").first.locator(".dimension-level input").nth(2).is_checked()
    assert Answer.objects.get().level.code == "2"
    assert page.evaluate("Object.keys(sessionStorage).filter(k => k.startsWith('grille.autosave:')).length") == 0
    page.reload()
    page.wait_for_timeout(300)
    assert status.text_content() == ""


FAILURES = {
    "html500": lambda route: route.fulfill(status=500, content_type="text/html", body="<h1>Erreur</h1>"),
    "json503": lambda route: route.fulfill(status=503, content_type="application/json", body='{"detail": "indisponible"}'),
    "network": lambda route: route.abort("internetdisconnected"),
}


@pytest.mark.parametrize(("failures", "shown", "level"), [
    (["html500"], "Non enregistré : le serveur ne répond pas correctement", 3),
    # Backoff: 1 s, then 2 s, then saved.
    (["json503", "network"], "Non enregistré : connexion perdue", 1),
])
def test_server_errors_and_network_failures_are_retried_until_saved(site, page, failures, shown, level):
    open_first_step(page, site)
    attempts = []

    def fail_first(route):
        attempts.append(route.request.url)
        if len(attempts) <= len(failures):
            FAILURES[failures[len(attempts) - 1]](route)
        else:
            route.continue_()

    page.route(AUTOSAVE, fail_first)
    status = choose_level(page, level)
    status.filter(has_text=shown).wait_for()
    assert not Answer.objects.exists()
    # « Non enregistré » stays until the server acknowledges.
    status.filter(has_text=re.compile("^Enregistré$")).wait_for()
    assert len(attempts) == len(failures) + 1
    assert Answer.objects.get().level.code == str(level)


def test_the_step_form_sent_after_an_autosave_is_not_taken_for_a_stale_page(site, page):
    open_first_step(page, site)
    choose_level(page, 2).filter(has_text=re.compile("^Enregistré$")).wait_for()
    choose_level(page, 3).filter(has_text=re.compile("^Enregistré$")).wait_for()
    # Typed, then sent by the form before autosave's pause ends: the form's stamp is the autosaved one.
    page.locator("fieldset.practice").first.locator("textarea").fill("Avec les partenaires")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/etape/1/")) as sent:
        page.get_by_role("button", name="Enregistrer", exact=True).click()
    assert sent.value.status == 302
    page.wait_for_load_state()
    assert "modifiées ailleurs" not in page.content()
    saved = Answer.objects.get(level__isnull=False)
    assert (saved.level.code, saved.comment) == ("3", "Avec les partenaires")
