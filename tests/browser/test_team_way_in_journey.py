"""Issue 14 in Chromium: a facilitator invites a list, picks the practices of an action with the
keyboard, and confirms before removing a member, with JavaScript switched off; every page passes axe
(checked with JavaScript on, which axe itself needs)."""

from __future__ import annotations

from django.conf import settings
from django.test import Client

from grille.frameworks.selectors import get_default_version, get_grid
from grille.organisations.models import ActionItem, Invitation, Membership
from grille.organisations.services import create_organisation
from tests.organisations.conftest import join, make_person

from .conftest import assert_accessible

SHOTS = "/tmp/h3"


def signed_in(new_context, site: str, user, *, javascript: bool = True):
    """A browser signed in as `user` (the sign-in journey itself is tested elsewhere)."""
    client = Client()
    client.force_login(user)
    context = new_context(java_script_enabled=javascript)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value, "url": site}])
    return context


def test_a_facilitator_invites_a_list_picks_practices_and_confirms_a_removal(site, new_context, tmp_path):
    claire = make_person("claire@exemple.fr", "Claire Animatrice")
    organisation = create_organisation(user=claire, name="Pays des Deux Rives", structure_type="epci")
    facilitator = Membership.objects.get(organisation=organisation, user=claire)
    bruno = join(facilitator, make_person("bruno@exemple.fr", "Bruno Membre"))
    base = f"{site}/organisations/{organisation.uuid}"
    page = signed_in(new_context, site, claire, javascript=False).new_page()
    checked = signed_in(new_context, site, claire).new_page()  # the same pages, for axe

    # The home page leads to the organisations.
    for p in (page, checked):
        p.goto(f"{site}/")
        p.get_by_role("heading", name="En équipe : dialoguer au sein de votre structure").wait_for()
    assert_accessible(checked)

    # Invitations in a batch, from a French Excel file.
    listing = tmp_path / "equipe.csv"
    listing.write_bytes("Nom;Courriel\nÉlise;elise@exemple.fr\nMarc;marc(at)exemple.fr\nBruno;BRUNO@exemple.fr\n".encode("cp1252"))
    for p in (page, checked):
        p.goto(f"{base}/membres/")
        p.get_by_label("… ou un fichier CSV ou texte").set_input_files(str(listing))
        p.get_by_role("button", name="Envoyer les invitations").click()
        report = p.get_by_role("region", name="Résultat de l'envoi")
        report.wait_for()
    text = page.get_by_role("region", name="Résultat de l'envoi").inner_text()
    assert "1 invitation envoyée." in text
    assert "Ligne 3, colonne « Courriel » : adresse invalide (« marc(at)exemple.fr »)" in text
    assert "bruno@exemple.fr" in text
    assert list(Invitation.objects.exclude(email="").values_list("email", flat=True)) == ["elise@exemple.fr"]
    assert "Déjà invitées" in checked.get_by_role("region", name="Résultat de l'envoi").inner_text()  # the second time
    assert_accessible(checked)
    page.screenshot(path=f"{SHOTS}/members_batch_report.png", full_page=True)

    # The practice picker, by keyboard only.
    grid = get_grid(get_default_version())
    situation = grid.situations[1]
    practice = situation.practices[0]
    for p in (page, checked):
        p.goto(f"{base}/actions/")
        p.get_by_label("Action", exact=True).fill("Réunir les partenaires")
        p.locator("summary", has_text=situation.label).focus()
        p.keyboard.press("Enter")
        box = p.get_by_label(f"{practice.code} {practice.label}")
        assert box.is_visible()
        box.focus()
        p.keyboard.press("Space")
        assert box.is_checked()
    assert_accessible(checked)
    page.screenshot(path=f"{SHOTS}/action_picker.png", full_page=True)
    page.get_by_role("button", name="Enregistrer l'action").click()
    page.get_by_text("Action ajoutée au plan.").wait_for()
    assert [p.code for p in ActionItem.objects.get().practices.all()] == [practice.code]

    # Removing a member asks first.
    checked.goto(f"{base}/membres/{bruno.pk}/retirer/")
    assert_accessible(checked)
    page.goto(f"{base}/membres/")
    page.get_by_role("link", name="Retirer de la structure — Bruno Membre").click()
    page.get_by_role("heading", name="de la structure ?").wait_for()
    assert "Bruno Membre" in page.get_by_role("heading", name="de la structure ?").inner_text()
    assert Membership.objects.filter(pk=bruno.pk).exists()
    page.screenshot(path=f"{SHOTS}/remove_confirm.png", full_page=True)
    page.get_by_role("button", name="Retirer de la structure").click()
    page.get_by_text("ne fait plus partie de la structure").wait_for()
    assert not Membership.objects.filter(pk=bruno.pk).exists()
