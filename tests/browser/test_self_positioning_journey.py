"""A practitioner fills the grid, closes the tab half-way, resumes by the link, submits and takes the PDF away."""

import io
import re

from pypdf import PdfReader

from grille.assessments.models import Answer, Assessment

from .conftest import assert_accessible


def fill_step(page, step: int) -> None:
    for i, fieldset in enumerate(page.locator("fieldset.practice").all()):
        level = (step + i) % 5
        fieldset.locator(".dimension-level label.option").nth(level).click()
        fieldset.locator(".dimension-wish label.option").nth((step + i) % 3).click()
        fieldset.locator(".dimension-carrying label.option").nth((step * 2 + i) % 4).click()
        if step == 2 and i == 0:
            fieldset.locator("textarea").fill("<script>alert('x')</script> =HYPERLINK(\"x\")")
            fieldset.locator("textarea").blur()
        # « Enregistré » appears only once the server has acknowledged the save.
        status = fieldset.locator("[data-save-status]")
        status.filter(has_text="Enregistré").wait_for()


def test_practitioner_fills_resumes_submits_and_downloads_pdf(site, new_context):
    context = new_context()
    page = context.new_page()

    page.goto(site + "/")
    assert_accessible(page)
    page.get_by_role("link", name="La grille", exact=True).click()
    assert page.get_by_role("heading", name=re.compile("Trouver et diversifier des financements")).is_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Commencer mon positionnement").first.click()

    resume_url = page.locator("#resume-url").input_value()
    assert "/reprendre/" in resume_url
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("Commencer le questionnaire")).click()

    for step in range(1, 5):
        page.get_by_role("heading", level=1).filter(has_text=f"Étape {step} sur 8").wait_for()
        fill_step(page, step)
        assert_accessible(page)
        page.get_by_role("button", name=re.compile("Étape suivante")).click()
    # Half-way through step 5: answer one practice, then close the tab without submitting the step.
    page.locator("fieldset.practice").first.locator(".dimension-level label.option").nth(3).click()
    page.locator("fieldset.practice").first.locator("[data-save-status]").filter(has_text="Enregistré").wait_for()
    context.close()

    assert Answer.objects.filter(level__isnull=False).count() == 13

    # Another browser, no cookie: only the resume link.
    page = new_context().new_page()
    page.goto(resume_url)
    page.get_by_role("heading", level=1).filter(has_text="Étape 5 sur 8").wait_for()
    assert page.locator("#progress-text").inner_text().startswith("13 ")
    first = page.locator("fieldset.practice").first
    assert first.locator(".dimension-level input").nth(3).is_checked()
    for step in range(5, 9):
        page.get_by_role("heading", level=1).filter(has_text=f"Étape {step} sur 8").wait_for()
        fill_step(page, step)
        assert_accessible(page)
        if step < 8:
            page.get_by_role("button", name=re.compile("Étape suivante")).click()
    # Going back never loses anything.
    page.get_by_role("button", name=re.compile("^2")).click()
    page.get_by_role("heading", level=1).filter(has_text="Étape 2 sur 8").wait_for()
    assert page.locator("textarea").first.input_value().startswith("<script>")
    page.get_by_role("button", name=re.compile("^8")).click()
    page.get_by_role("button", name=re.compile("Vérifier et envoyer")).click()

    assert page.get_by_text("24 pratiques renseignées sur 24").is_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Envoyer mon positionnement").click()

    page.get_by_role("heading", name="Ma fiche de positionnement").wait_for()
    radar = page.locator("svg[role=img]")
    assert radar.count() == 1
    assert "Profil par situation professionnelle" in radar.locator("title").first.text_content()
    assert page.locator("table").filter(has_text="Moyenne des niveaux par situation").locator("tbody tr").count() == 8
    # The comment is shown as text, never run.
    assert page.get_by_text("<script>alert('x')</script>", exact=False).count() == 1
    assert_accessible(page)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger la fiche (PDF)").click()
    pdf_bytes = download_info.value.path().read_bytes()
    assert pdf_bytes.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf_bytes)).pages)
    for label in ("Financer les projets", "Créer des liens entre les territoires", "Evaluer l'impact territorial"):
        assert label in text
    assert "Fiche de positionnement" in text

    assessment = Assessment.objects.get()
    assert assessment.is_submitted
    assert Answer.objects.filter(assessment=assessment).count() == 24


def test_questionnaire_works_without_javascript(site, new_context):
    page = new_context(java_script_enabled=False).new_page()
    page.goto(site + "/")
    page.get_by_role("button", name="Commencer mon positionnement").click()
    page.get_by_role("link", name=re.compile("Commencer le questionnaire")).click()
    fieldsets = page.locator("fieldset.practice")
    fieldsets.nth(0).locator(".dimension-level label.option").nth(2).click()
    fieldsets.nth(1).locator(".dimension-level label.option").nth(4).click()
    assert page.get_by_text("Vos réponses sont enregistrées lorsque vous changez d'étape").is_visible()
    page.get_by_role("button", name=re.compile("Étape suivante")).click()
    page.get_by_role("heading", level=1).filter(has_text="Étape 2 sur 8").wait_for()
    assert page.locator("#progress-text").inner_text().startswith("2 ")
    # (axe-core needs JavaScript: the same pages are checked in the journey above.)
    page.get_by_role("button", name=re.compile("Étape précédente")).click()
    assert page.locator("fieldset.practice").nth(0).locator(".dimension-level input").nth(2).is_checked()
    assert Answer.objects.filter(level__isnull=False).count() == 2


def test_phone_layout_is_accessible_and_usable(site, new_context):
    page = new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    page.goto(site + "/")
    page.get_by_role("button", name="Commencer mon positionnement").click()
    page.get_by_role("link", name=re.compile("Commencer le questionnaire")).click()
    page.locator("fieldset.practice").first.locator(".dimension-level label.option").nth(1).tap()
    page.locator("fieldset.practice").first.locator("[data-save-status]").filter(has_text="Enregistré").wait_for()
    # Nothing overflows the screen horizontally.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page)


def test_secondary_pages_are_clear_and_accessible(site, new_context):
    page = new_context().new_page()
    page.goto(site + "/reprendre/lien-invente-de-toutes-pieces/")
    assert page.get_by_role("heading", name="Ce lien de reprise ne fonctionne pas").is_visible()
    assert_accessible(page)

    page.goto(site + "/connexion/")
    page.get_by_label("Votre adresse e-mail").fill("pas-une-adresse")
    page.get_by_role("button", name="Recevoir mon lien de connexion").click()
    assert page.get_by_text("Saisissez une adresse e-mail valide").is_visible()
    assert_accessible(page)
    page.get_by_label("Votre adresse e-mail").fill("camille@exemple.fr")
    page.get_by_role("button", name="Recevoir mon lien de connexion").click()
    assert page.get_by_role("heading", name="Consultez votre messagerie").is_visible()
    assert_accessible(page)

    page.goto(site + "/")
    page.get_by_role("button", name="Commencer mon positionnement").click()
    page.get_by_role("link", name="Mes positionnements").click()
    assert page.locator("table tbody tr").count() == 1
    assert_accessible(page)
    page.get_by_role("link", name="Aperçu").click()
    assert_accessible(page)
    page.get_by_role("link", name="Supprimer").click()
    assert_accessible(page)
    page.get_by_role("button", name="Supprimer définitivement").click()
    assert page.get_by_text("Aucun positionnement pour l'instant.").is_visible()

    page.goto(site + "/page-qui-n-existe-pas/")
    assert page.get_by_role("heading", name="Page introuvable").is_visible()
    assert_accessible(page)

    page.goto(site + "/")
    page.get_by_label("Langue").select_option("en")
    page.get_by_role("button", name="Changer").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert_accessible(page)
