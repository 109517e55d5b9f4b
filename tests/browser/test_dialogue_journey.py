"""An organisation's team compares its positionings and decides, practice by practice, what to carry with partners."""

import io
import re

from django.core import mail
from openpyxl import load_workbook
from pypdf import PdfReader

from .conftest import assert_accessible


def sign_in(page, site: str, email: str, next_path: str = "", name: str = "") -> None:
    """Sign in by e-mail link as a person would: ask for the link, open it, confirm; at the
    first sign-in, give `name` when asked how to present oneself, or skip the question."""
    page.goto(f"{site}/connexion/" + (f"?next={next_path}" if next_path else ""))
    sent_before = len(mail.outbox)
    page.get_by_label("Votre adresse e-mail").fill(email)
    page.get_by_role("button", name="Recevoir mon lien de connexion").click()
    page.get_by_role("heading", name="Consultez votre messagerie").wait_for()
    assert len(mail.outbox) == sent_before + 1
    link = re.search(r"https?://\S+/connexion/lien/\S+/", mail.outbox[-1].body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Me connecter").click()
    page.wait_for_url(lambda url: "/connexion/lien/" not in url)
    if page.get_by_role("heading", name="Comment vous présenter ?").count():
        if name:
            page.get_by_label("Votre nom").fill(name)
            page.get_by_role("button", name="Enregistrer et continuer").click()
        else:
            page.get_by_role("button", name="Plus tard").click()
        page.wait_for_url(lambda url: "/compte/bienvenue/" not in url)


def fill_and_submit_first_step(page, site: str, levels: list[int]) -> None:
    page.goto(site + "/")
    page.get_by_role("button", name="Commencer mon positionnement").click()
    page.get_by_role("link", name=re.compile("Commencer le questionnaire")).click()
    for fieldset, level in zip(page.locator("fieldset.practice").all(), levels, strict=False):
        fieldset.locator(".dimension-level label.option").nth(level).click()
        fieldset.locator(".dimension-carrying label.option").nth(1).click()
        fieldset.locator("[data-save-status]").filter(has_text="Enregistré").wait_for()
    page.get_by_role("button", name=re.compile("Étape suivante")).click()
    page.goto(page.url.replace("/etape/2/", "/recapitulatif/"))
    page.get_by_role("button", name="Envoyer mon positionnement").click()
    page.get_by_role("heading", name="Ma fiche de positionnement").wait_for()


def share(page, organisation_url: str, *, anonymously: bool) -> None:
    page.goto(organisation_url + "partage/")
    assert_accessible(page)
    # Before choosing, the page says what anonymity protects against and what it cannot.
    assert page.get_by_role("heading", name="Ce que l'anonymat protège, et ce qu'il ne protège pas").is_visible()
    assert page.get_by_text(re.compile("contrôle plusieurs comptes dans l'équipe")).is_visible()
    # Anonymous shares count from five people on, change by batches of three new ones, and are
    # hidden after a departure until the next batch.
    rules = page.get_by_text(re.compile("Les partages anonymes ne comptent dans les chiffres de l'équipe qu'à partir de 5 personnes"))
    assert rules.is_visible()
    assert "par lots d'au moins 3 nouveaux partages anonymes" in rules.inner_text()
    assert "après un retrait ou un départ jusqu'au lot suivant" in rules.inner_text()
    page.get_by_label("Anonymement" if anonymously else "Avec mon nom").check()
    page.get_by_label(re.compile("J'accepte que ces réponses soient visibles")).check()
    page.get_by_role("button", name="Partager", exact=True).click()
    page.get_by_text("Votre positionnement est partagé avec la structure.").wait_for()


def test_facilitator_and_members_map_the_team_and_decide(site, new_context):
    facilitator = new_context().new_page()
    sign_in(facilitator, site, "claire@exemple.fr")
    facilitator.get_by_role("link", name="Mes structures").click()
    assert_accessible(facilitator)
    facilitator.get_by_role("link", name="Créer un espace de structure").click()
    facilitator.get_by_label("Nom de la structure").fill("Pays des Deux Rives")
    facilitator.get_by_label("Type de structure").select_option("epci")
    facilitator.get_by_label("Territoire (facultatif)", exact=True).fill("Deux Rives")
    assert_accessible(facilitator)
    facilitator.get_by_role("button", name="Créer l'espace").click()
    facilitator.get_by_role("heading", name="Inviter des membres").wait_for()
    organisation_url = facilitator.url.replace("membres/", "")
    facilitator.get_by_label("Lien utilisable par plusieurs personnes").check()
    facilitator.get_by_role("button", name="Créer l'invitation").click()
    invitation_url = facilitator.locator("#invitation-url").input_value()
    assert "/invitation/" in invitation_url
    assert_accessible(facilitator)

    # The workshop page stays open on the projector while members join.
    workshop = new_context().new_page()
    workshop.goto(f"{site}/connexion/")  # same person, on the meeting-room computer
    sign_in(workshop, site, "claire@exemple.fr")
    workshop.goto(organisation_url + "atelier/")
    assert workshop.locator("[data-count]").inner_text() == "0"
    assert_accessible(workshop)
    workshop.evaluate("window.__notReloaded = true")

    members = [
        ("amina@exemple.fr", "Amina Benali", False, [3, 2, 0]), ("bruno@exemple.fr", "", False, [1, 3, 0]),
        ("chloe@exemple.fr", "Chloé Durand", True, [0, 1, 2]),
    ]
    for index, (email, name, anonymously, levels) in enumerate(members, start=1):
        member = new_context().new_page()
        member.goto(invitation_url)
        assert_accessible(member)
        invitation_path = invitation_url.split("://", 1)[1].split("/", 1)[1]
        sign_in(member, site, email, next_path="/" + invitation_path, name=name)
        member.get_by_role("button", name="Rejoindre la structure").click()
        member.get_by_role("heading", name="Mon partage").wait_for()
        fill_and_submit_first_step(member, site, levels)
        share(member, organisation_url, anonymously=anonymously)
        if not anonymously:
            workshop.locator("[data-count]").filter(has_text=str(index)).wait_for(timeout=20_000)

    # One anonymous share waits for a batch of three new ones (and five people), so nobody can be singled out.
    workshop.get_by_text("+ 1 anonyme en attente (anonymes comptés à partir de 5, par lots de 3 nouveaux)").wait_for(timeout=20_000)
    assert workshop.locator("[data-count]").inner_text() == "2"
    assert workshop.evaluate("window.__notReloaded") is True

    facilitator.goto(organisation_url)
    assert facilitator.get_by_text(
        re.compile("1 positionnement partagé anonymement en attente .* qu'à partir de 5 personnes, et n'y entrent que par lots d'au moins 3 nouveaux partages")
    ).is_visible()
    # Members are shown by the name they gave at their first sign-in, never by their address.
    assert facilitator.get_by_role("columnheader", name="Amina Benali").count() == 2  # situations and practices tables
    assert facilitator.get_by_role("columnheader", name="Membre sans nom affiché").count() == 2  # Bruno skipped the question
    assert facilitator.get_by_role("columnheader", name="Chloé Durand").count() == 0  # anonymous share
    assert "@exemple.fr" not in facilitator.locator("table").all_inner_texts().__str__()
    assert_accessible(facilitator)

    facilitator.get_by_role("link", name="Arbitrages").click()
    assert_accessible(facilitator)
    facilitator.get_by_role("link", name=re.compile("1.3 Financer d'autres acteurs")).click()
    facilitator.get_by_label("En partenariat", exact=True).check()
    facilitator.get_by_label("Association", exact=True).check()
    facilitator.get_by_label("Partenaires locaux envisagés (facultatif)").fill("Maison des associations")
    facilitator.get_by_label("Note").fill("Porter la recherche de financements avec le tissu associatif.")
    facilitator.get_by_role("button", name="Enregistrer l'arbitrage").click()
    facilitator.get_by_text("Arbitrage enregistré pour la pratique 1.3.").wait_for()
    assert_accessible(facilitator)

    facilitator.get_by_role("link", name="Ajouter une action").click()
    facilitator.get_by_label("Action", exact=True).fill("Rencontrer les associations du territoire")
    facilitator.get_by_label("Responsable").select_option(label="Amina Benali")
    facilitator.get_by_label("Échéance (facultatif)").fill("2030-06-30")
    facilitator.get_by_role("button", name="Enregistrer l'action").click()
    facilitator.get_by_text("Action ajoutée au plan.").wait_for()
    assert facilitator.get_by_role("rowheader", name="Rencontrer les associations du territoire").is_visible()
    assert_accessible(facilitator)

    facilitator.goto(organisation_url)
    with facilitator.expect_download() as pdf_download:
        facilitator.get_by_role("link", name="Rapport de la structure (PDF)").click()
    pdf = pdf_download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")
    # Words as read, whatever the column width made of the lines.
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "Pays des Deux Rives" in text
    assert "Porter la recherche de financements" in text
    assert "Rencontrer les associations du territoire" in text

    with facilitator.expect_download() as xlsx_download:
        facilitator.get_by_role("link", name="Données de l'équipe (XLSX)").click()
    workbook = load_workbook(io.BytesIO(xlsx_download.value.path().read_bytes()), read_only=True)
    sheets = {ws.title: [row for row in ws.iter_rows(values_only=True)] for ws in workbook.worksheets}
    workbook.close()
    team_rows = next(rows for title, rows in sheets.items() if title.startswith("Équipe"))
    named = {row[0] for row in team_rows[1:]}
    assert named == {"Amina Benali", "Membre sans nom affiché"}
