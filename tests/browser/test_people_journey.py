"""A person presents themselves at their first sign-in (or skips it), then changes it in « Mon compte »."""

import re

from django.core import mail

from grille.accounts.models import User

from .conftest import assert_accessible


def open_sign_in_link(page, site: str, email: str, next_path: str = "") -> None:
    page.goto(f"{site}/connexion/" + (f"?next={next_path}" if next_path else ""))
    page.get_by_label("Votre adresse e-mail").fill(email)
    page.get_by_role("button", name="Recevoir mon lien de connexion").click()
    page.get_by_role("heading", name="Consultez votre messagerie").wait_for()
    page.goto(re.search(r"https?://\S+/connexion/lien/\S+/", mail.outbox[-1].body).group(0))
    page.get_by_role("button", name="Me connecter").click()


def test_first_sign_in_asks_for_a_name_once_and_my_account_changes_it(site, new_context):
    page = new_context().new_page()
    open_sign_in_link(page, site, "camille@exemple.fr", next_path="/organisations/")
    page.get_by_role("heading", name="Comment vous présenter ?").wait_for()
    assert_accessible(page)

    # An address as a name is refused, with the reason next to the field.
    page.get_by_label("Votre nom").fill("camille@exemple.fr")
    page.get_by_role("button", name="Enregistrer et continuer").click()
    page.get_by_text("Votre nom ne peut pas contenir d'adresse e-mail").wait_for()
    assert page.get_by_label("Votre nom").get_attribute("aria-invalid") == "true"
    assert_accessible(page)

    page.get_by_label("Votre nom").fill("Camille Martin")
    page.get_by_label("Votre structure (facultatif)").fill("Région Centre-Val de Loire")
    page.get_by_role("button", name="Enregistrer et continuer").click()
    page.wait_for_url(f"{site}/organisations/")
    page.get_by_text("Vos informations sont enregistrées.").wait_for()
    user = User.objects.get(email="camille@exemple.fr")
    assert (user.display_name, user.affiliation) == ("Camille Martin", "Région Centre-Val de Loire")

    page.get_by_role("link", name="Mon compte").click()
    page.get_by_role("heading", name="Mon compte", level=1).wait_for()
    assert page.get_by_label("Votre nom").input_value() == "Camille Martin"
    assert_accessible(page)
    page.get_by_label("Votre fonction (facultatif)").fill("Cheffe de projet")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Vos informations sont enregistrées.").wait_for()
    assert "Camille Martin — Cheffe de projet, Région Centre-Val de Loire" in page.inner_text("main")

    # Signing in again, elsewhere: not asked again.
    other = new_context().new_page()
    open_sign_in_link(other, site, "camille@exemple.fr")
    other.wait_for_url(f"{site}/mes-positionnements/")


def test_the_question_can_be_skipped_without_javascript(site, new_context):
    page = new_context(java_script_enabled=False).new_page()
    open_sign_in_link(page, site, "dora@exemple.fr")
    page.get_by_role("button", name="Plus tard").click()
    page.wait_for_url(f"{site}/mes-positionnements/")
    page.get_by_text("Vous pourrez vous présenter plus tard dans « Mon compte ».").wait_for()
    assert User.objects.get(email="dora@exemple.fr").display_name == ""
