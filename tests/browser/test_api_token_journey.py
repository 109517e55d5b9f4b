"""A person creates a personal API token, calls the API with it, revokes it, and reads the API docs."""

import re

from .conftest import assert_accessible
from .test_dialogue_journey import sign_in


def test_person_creates_uses_and_revokes_an_api_token(site, page):
    sign_in(page, site, "camille@exemple.fr")
    page.get_by_role("link", name="Mes positionnements").first.click()
    page.get_by_role("link", name="Mes jetons d'API").click()
    page.get_by_role("heading", name="Mes jetons d'API", level=1).wait_for()
    assert_accessible(page)

    page.get_by_label("Nom du jeton").fill("Tableur de l'équipe")
    page.get_by_role("button", name="Créer le jeton").click()
    token = page.get_by_label("Jeton (affiché une seule fois)").input_value()
    assert len(token) == 32
    assert_accessible(page)

    api = page.request
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get(f"{site}/api/v1/positionnements", headers=headers).status == 200

    page.reload()
    assert token not in page.content()
    page.get_by_role("button", name=re.compile("Révoquer")).click()
    page.get_by_text("Le jeton « Tableur de l'équipe » est révoqué").wait_for()
    assert_accessible(page)
    refused = api.get(f"{site}/api/v1/positionnements", headers=headers)
    assert refused.status == 401
    assert refused.json()["detail"].startswith("Authentification requise")


def test_api_docs_render_from_local_files_under_the_strict_policy(site, page):
    violations, hosts = [], set()
    page.on("console", lambda message: violations.append(message.text) if "CSP-VIOLATION" in message.text else None)
    page.on("request", lambda request: hosts.add(request.url.split("/")[2]))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation',"
        " e => console.log('CSP-VIOLATION ' + e.violatedDirective + ' ' + e.blockedURI))"
    )

    page.goto(f"{site}/api/v1/docs")
    page.locator(".opblock").first.wait_for()
    page.locator(".opblock-summary-control").first.click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    page.locator(".live-responses-table").wait_for()

    assert page.locator(".opblock").count() == 12
    assert violations == []
    assert hosts == {site.split("/")[2]}
