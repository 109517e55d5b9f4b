"""An analyst runs a study: campaign, list of respondents, answers through personal links, results and exports."""

import csv
import io
import re

from django.contrib.auth.models import Permission
from django.core import mail
from openpyxl import load_workbook
from pypdf import PdfReader

from grille.accounts.models import User

from .conftest import assert_accessible
from .test_dialogue_journey import sign_in


def answer_as_respondent(page, link: str, *, structure: str, levels: list[int]) -> None:
    page.goto(link)
    assert_accessible(page)
    page.get_by_label("J'ai lu ce texte et j'accepte de participer à l'étude.").check()
    page.get_by_role("button", name="Commencer").click()
    page.get_by_role("heading", name="Quelques questions sur vous").wait_for()
    page.get_by_label(structure, exact=True).check()
    page.get_by_label("Rural", exact=True).check()
    assert_accessible(page)
    page.get_by_role("button", name=re.compile("Continuer vers la grille")).click()
    for fieldset, level in zip(page.locator("fieldset.practice").all(), levels, strict=False):
        fieldset.locator(".dimension-level label.option").nth(level).click()
        fieldset.locator("[data-save-status]").filter(has_text="Enregistré").wait_for()
    page.get_by_role("button", name=re.compile("Étape suivante")).click()
    page.goto(page.url.replace("/etape/2/", "/recapitulatif/"))
    page.get_by_role("button", name="Envoyer mon positionnement").click()
    page.get_by_role("heading", name="Ma fiche de positionnement").wait_for()


def test_analyst_runs_a_campaign_and_takes_the_results_away(site, new_context, tmp_path):
    analyst_user = User.objects.create_user("ana@exemple.fr", display_name="Ana Lyste")
    analyst_user.user_permissions.add(Permission.objects.get(codename="run_studies"))

    analyst = new_context().new_page()
    sign_in(analyst, site, "ana@exemple.fr")
    analyst.get_by_role("link", name="Études").click()
    assert_accessible(analyst)
    analyst.get_by_role("link", name="Créer une campagne").click()
    analyst.get_by_label("Nom de la campagne").fill("Étude des catalyseurs")
    analyst.get_by_label("Vague (année)").fill("2024")
    analyst.get_by_label("Ouverture (heure de Paris)").fill("2024-01-01T09:00")
    analyst.get_by_label("Clôture (heure de Paris)").fill("2099-12-31T18:00")
    analyst.get_by_label("Texte du consentement").fill("J'accepte que mes réponses soient utilisées pour l'étude.")
    assert_accessible(analyst)
    analyst.get_by_role("button", name="Enregistrer").click()
    analyst.get_by_role("heading", name="Questions de profil").wait_for()
    assert_accessible(analyst)
    campaign_url = analyst.url.replace("questions/", "")

    analyst.get_by_role("link", name="Répondants").click()
    bad = tmp_path / "liste-erronee.csv"
    bad.write_bytes("Courriel;Nom\r\namina@exemple.fr;Amina\r\npas-une-adresse;X\r\n".encode("cp1252"))
    analyst.get_by_label("Fichier CSV").set_input_files(str(bad))
    analyst.get_by_role("button", name="Importer").click()
    assert analyst.get_by_text("rien n'a été importé").first.is_visible()
    assert analyst.get_by_role("cell", name="pas-une-adresse").is_visible()
    assert_accessible(analyst)
    good = tmp_path / "liste.csv"
    good.write_bytes("\ufeffCourriel;Nom\r\namina@exemple.fr;Amina\r\nBRUNO@exemple.fr ;Bruno\r\n".encode())
    analyst.get_by_label("Fichier CSV").set_input_files(str(good))
    analyst.get_by_role("button", name="Importer").click()
    analyst.get_by_text("2 adresses ajoutées").wait_for()
    sent_before = len(mail.outbox)
    analyst.get_by_role("button", name=re.compile("Envoyer les invitations")).click()
    # Queued in the outbox and sent by the task at once (the tests' immediate backend).
    analyst.get_by_text("Invitations : 2 messages mis en file d'envoi").wait_for()
    links = {m.to[0]: re.search(r"https?://\S+/etude/i/\S+/", m.body).group(0) for m in mail.outbox[sent_before:]}
    assert set(links) == {"amina@exemple.fr", "bruno@exemple.fr"}

    answer_as_respondent(new_context().new_page(), links["amina@exemple.fr"], structure="Association", levels=[3, 2, 1])
    answer_as_respondent(new_context().new_page(), links["bruno@exemple.fr"], structure="Commune", levels=[0, 1, 2])

    analyst.goto(campaign_url + "suivi/")
    assert analyst.get_by_text(re.compile("2 questionnaires complets")).is_visible()
    assert_accessible(analyst)
    analyst.goto(campaign_url + "resultats/")
    # Two respondents are fewer than k = 5: nothing may be shown.
    assert analyst.get_by_text(re.compile("Moins de 5 répondants : aucun chiffre")).is_visible()
    # They wait for a batch of k: the page says so, without saying who.
    assert analyst.get_by_text(re.compile("2 questionnaires complets attendent le prochain lot")).is_visible()
    assert analyst.locator("table").count() == 0
    assert_accessible(analyst)

    analyst.goto(campaign_url + "exports/")
    assert_accessible(analyst)
    # Each file is prepared by a task (here at once, the tests' immediate backend), then offered.
    analyst.get_by_role("button", name=re.compile("CSV")).click()
    assert_accessible(analyst)
    with analyst.expect_download() as csv_download:
        analyst.get_by_role("link", name=re.compile("Télécharger")).click()
    raw = csv_download.value.path().read_bytes()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 3
    assert "@" not in raw.decode("utf-8-sig")
    header = rows[0]
    assert header[0] == "id"

    analyst.goto(campaign_url + "exports/")
    analyst.get_by_role("button", name=re.compile("XLSX avec dictionnaire")).click()
    with analyst.expect_download() as xlsx_download:
        analyst.get_by_role("link", name=re.compile("Télécharger")).click()
    workbook = load_workbook(io.BytesIO(xlsx_download.value.path().read_bytes()), read_only=True)
    assert len(list(workbook.worksheets[0].iter_rows(values_only=True))) == 3
    assert len(workbook.worksheets) == 2
    workbook.close()

    analyst.goto(campaign_url + "exports/")
    analyst.get_by_role("button", name=re.compile("Rapport d'étude")).click()
    with analyst.expect_download() as pdf_download:
        analyst.get_by_role("link", name=re.compile("Télécharger")).click()
    pdf = pdf_download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Étude des catalyseurs" in text
