"""The team export (CSV / XLSX) and the organisation report (PDF) show only what members chose to share."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import openpyxl
import pytest
from django.test import RequestFactory
from django.utils import timezone
from pypdf import PdfReader

from grille.accounts.models import User
from grille.assessments.services import (
    AnswerInput,
    save_answers,
    start_assessment,
    submit_assessment,
)
from grille.core.pdf import render_pdf_bytes
from grille.core.tabular.writing import BOM, csv_response, write_xlsx
from grille.frameworks.models import Practice
from grille.organisations.enums import ActionStatus, DecisionMode, Role, ShareMode
from grille.organisations.exporters import TeamExporter
from grille.organisations.models import ActionItem, Decision, Membership, Share
from grille.organisations.reports import report_context
from grille.organisations.selectors import actions_of, decisions_of
from grille.organisations.services import (
    accept_invitation,
    create_action,
    create_invitation,
    create_organisation,
    set_decision,
    share_assessment,
    withdraw_share,
)
from grille.organisations.team import build_team_map

ORG_NAME = "Pays du Val d'Essai"
FORMULA_NAME = '=HYPERLINK("http://x","y")'
NOTE = "<b>Pas en gras</b> & on s'appuie sur le réseau"
ANONYMOUS = [("claire@exemple.fr", "Claire Discrète"), ("dan@exemple.fr", "Dan Discret"), ("eve@exemple.fr", "Ève Discrète")]
SHEETS = ["À propos", "Équipe", "Pratiques", "Arbitrages", "Plan d'action"]


def person(email: str, name: str = "") -> User:
    return User.objects.create_user(email, display_name=name)


def join(facilitator: Membership, user: User) -> Membership:
    _invitation, raw = create_invitation(membership=facilitator)
    return accept_invitation(raw=raw, user=user)


def share(membership: Membership, levels: dict[str, str], mode: str = ShareMode.NAMED,
          wish: str = "", carrying: str = "") -> Share:
    """The member answers these practices through the questionnaire service, submits and shares."""
    assessment, _raw = start_assessment(version=membership.organisation.version, owner=membership.user)
    save_answers(
        assessment=assessment,
        items=[AnswerInput(practice_code=code, level=level, wish=wish, carrying=carrying) for code, level in levels.items()],
    )
    assessment = submit_assessment(assessment=assessment)
    return share_assessment(membership=membership, assessment=assessment, mode=mode)


class Team:
    """A facilitator and a member sharing by name, two members sharing anonymously, two decisions, two actions."""

    def __init__(self, version):
        self.facilitator_user = person("alice@exemple.fr", "Alice Animatrice")
        self.organisation = create_organisation(user=self.facilitator_user, name=ORG_NAME, structure_type="epci")
        self.facilitator = Membership.objects.select_related("organisation", "user").get(
            organisation=self.organisation, role=Role.FACILITATOR
        )
        self.bob = join(self.facilitator, person("bob@exemple.fr", FORMULA_NAME))
        share(self.facilitator, {"1.1": "3", "1.2": "2", "2.1": "0"}, wish="oui", carrying="interne")
        share(self.bob, {"1.1": "1", "1.2": "nc", "2.1": "0"}, wish="priorite", carrying="partenariat")
        self.anonymous = []
        for email, name in ANONYMOUS[:2]:
            self.add_anonymous(email, name)
        set_decision(
            membership=self.facilitator, practice_code="1.1", mode=DecisionMode.PARTNERSHIP,
            partner_types=["association", "collectivite"], partners="Maison de l'emploi", note=NOTE,
        )
        set_decision(membership=self.facilitator, practice_code="2.1", mode=DecisionMode.IN_HOUSE, partner_types=[])
        today = timezone.localdate()
        create_action(
            membership=self.facilitator, title="Atelier <i>partenaires</i>", practice_codes=["2.1", "1.1"],
            owner_id=self.bob.pk, due_date=today - timedelta(days=3),
        )
        create_action(
            membership=self.facilitator, title="Bilan", practice_codes=[], due_date=today - timedelta(days=1),
            status=ActionStatus.DONE,
        )

    def add_anonymous(self, email: str, name: str) -> Membership:
        membership = join(self.facilitator, person(email, name))
        share(membership, {"1.1": "3", "1.2": "3", "2.1": "3"}, mode=ShareMode.ANONYMOUS)
        self.anonymous.append(membership)
        return membership

    def add_anonymous_until(self, count: int) -> None:
        """More members sharing anonymously (the same answers), until `count` anonymous shares."""
        while len(self.anonymous) < count:
            n = len(self.anonymous)
            self.add_anonymous(f"discret{n}@exemple.fr", f"Discret·e {n}")

    def exporter(self) -> TeamExporter:
        return TeamExporter(
            self.organisation, build_team_map(self.organisation), decisions_of(self.facilitator), list(actions_of(self.facilitator))
        )

    def workbook(self) -> openpyxl.Workbook:
        return openpyxl.load_workbook(io.BytesIO(write_xlsx(self.exporter())))

    def csv(self, sheet: str) -> str:
        return b"".join(csv_response(self.exporter(), sheet).streaming_content).decode("utf-8")

    def pdf(self) -> bytes:
        context = report_context(
            self.organisation, build_team_map(self.organisation), decisions_of(self.facilitator), list(actions_of(self.facilitator))
        )
        return render_pdf_bytes(RequestFactory().get("/"), "organisations/report_pdf.html", context)


@pytest.fixture
def team(version) -> Team:
    return Team(version)


def rows(worksheet) -> list[list]:
    return [list(r) for r in worksheet.iter_rows(values_only=True)]


def all_cells(workbook) -> str:
    return "\n".join(str(v) for ws in workbook.worksheets for row in ws.iter_rows(values_only=True) for v in row)


def pdf_text(content: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return re.sub(r"\s+", " ", text)


def practices_row(workbook, code: str) -> dict:
    header, *body = rows(workbook["Pratiques"])
    return dict(zip(header, next(r for r in body if r[0] == code), strict=True))


def test_team_xlsx_has_the_sheets_and_headers(team):
    workbook = team.workbook()

    assert workbook.sheetnames == SHEETS
    assert rows(workbook["Équipe"])[0] == ["Membre", "Code", "Pratique", "Niveau de pratique", "Souhait de développement", "Portage"]
    assert rows(workbook["Pratiques"])[0] == [
        "Code", "Pratique", "Situation", "Contributions", "Moyenne", "Écart-type", "Réguliers",
        "Souhait de développement", "Partenariat",
        "Niveau de pratique : Je ne pratique pas", "Niveau de pratique : Ponctuellement",
        "Niveau de pratique : Régulièrement", "Niveau de pratique : C'est le cœur de mon activité",
        "Niveau de pratique : Non concerné·e", "Chiffres approchés",
    ]
    assert rows(workbook["Arbitrages"])[0] == [
        "Code", "Pratique", "Arbitrage", "Types de partenaires", "Partenaires locaux", "Note", "Modifié par", "Le",
    ]
    assert rows(workbook["Plan d'action"])[0] == ["Action", "Pratiques", "Responsable", "Échéance", "Statut", "En retard"]
    assert all(cell.font.bold for cell in workbook["Pratiques"][1])


def test_team_xlsx_row_counts_match_the_database(team, version):
    workbook = team.workbook()
    named = Share.objects.filter(organisation=team.organisation, mode=ShareMode.NAMED, withdrawn_at__isnull=True).count()
    practices = Practice.objects.filter(situation__version=version).count()

    assert (named, practices) == (2, 24)
    assert len(rows(workbook["Équipe"])) - 1 == named * practices
    assert len(rows(workbook["Pratiques"])) - 1 == practices
    assert len(rows(workbook["Arbitrages"])) - 1 == Decision.objects.filter(organisation=team.organisation).count() == 2
    assert len(rows(workbook["Plan d'action"])) - 1 == ActionItem.objects.filter(organisation=team.organisation).count() == 2


def test_team_xlsx_keeps_a_formula_like_name_as_text(team):
    sheet = team.workbook()["Équipe"]

    cells = [row[0] for row in sheet.iter_rows(min_row=2) if row[0].value == FORMULA_NAME]

    assert len(cells) == 24
    assert {cell.data_type for cell in cells} == {"s"}


def test_team_xlsx_lists_named_answers_by_member_and_practice(team):
    body = rows(team.workbook()["Équipe"])[1:]

    assert ["Alice Animatrice", "1.1", "Financer les projets", "C'est le cœur de mon activité", "Oui", "En interne"] in body
    assert [FORMULA_NAME, "1.2", "Financer l'ingénierie que je porte", "Non concerné·e", "Oui, en priorité",
            "En partenariat avec d'autres acteurs locaux"] in body
    assert ["Alice Animatrice", "3.1", "Cadrer les projets", None, None, None] in body


def test_team_csv_is_formula_safe_with_bom_and_semicolons(team):
    text = team.csv("equipe")

    assert text.startswith(BOM + "Membre;Code;Pratique;")
    assert "\r\n" in text
    assert '"\'=HYPERLINK(""http://x"",""y"")";1.1;Financer les projets;Ponctuellement;' in text
    assert "\n=" not in text


def test_team_csv_defaults_to_the_practices_sheet_with_decimal_commas(team):
    response = csv_response(team.exporter())
    text = b"".join(response.streaming_content).decode("utf-8")

    assert response["Content-Disposition"].endswith(f"-{timezone.localdate().isoformat()}-pratiques.csv\"")
    assert text.startswith(BOM + "Code;Pratique;Situation;Contributions;Moyenne;")
    # 1.1 with two named levels, 3 and 1: mean 2, sample standard deviation √2; exact figures.
    assert "\r\n1.1;Financer les projets;1. Trouver et diversifier des financements;2;2,0;1,41;1;2;1;0;1;0;1;0;non\r\n" in text


def test_two_anonymous_shares_stay_out_of_every_figure(team):
    workbook = team.workbook()

    assert practices_row(workbook, "1.1")["Contributions"] == 2
    assert practices_row(workbook, "1.1")["Moyenne"] == 2
    assert practices_row(workbook, "1.1")["Chiffres approchés"] == "non"
    about = dict(rows(workbook["À propos"])[1:])
    assert about["Contributions"] == 2
    assert about["Contributions anonymes comptées"] == 0
    assert about["Partages anonymes en attente"] == 2
    assert about["Chiffres approchés"] == "non"
    assert about["Confidentialité"] == (
        "Les contributions anonymes n'apparaissent que dans les totaux, et seulement à partir de 5. Elles y "
        "entrent par lots d'au moins 3 nouveaux partages ; après un retrait ou un départ, elles n'y sont plus "
        "montrées jusqu'au lot suivant. Les chiffres qui les comptent sont approchés : arrondis par une légère "
        "perturbation aléatoire pour protéger les personnes, sans les effectifs anonymes de moins de 5."
    )


def test_a_batch_of_three_anonymous_shares_below_five_people_stays_out_of_every_figure(team):
    team.add_anonymous_until(3)  # one batch released: three people, fewer than the five shown

    workbook = team.workbook()

    assert Share.objects.filter(mode=ShareMode.ANONYMOUS, released=True).count() == 3
    row = practices_row(workbook, "1.1")
    assert (row["Contributions"], row["Moyenne"], row["Chiffres approchés"]) == (2, 2, "non")
    about = dict(rows(workbook["À propos"])[1:])
    assert (about["Contributions"], about["Contributions anonymes comptées"]) == (2, 0)
    assert (about["Partages anonymes en attente"], about["Chiffres approchés"]) == (3, "non")


def test_a_batch_of_anonymous_shares_counts_in_the_aggregates_only_and_approximately(team):
    team.add_anonymous_until(9)  # three batches of three: every anonymous share released

    workbook = team.workbook()

    # Nine anonymous answers at « C'est le cœur de mon activité » read 7 to 11 after noise: shown.
    row = practices_row(workbook, "1.1")
    anonymous = row["Niveau de pratique : C'est le cœur de mon activité"] - 1
    assert 7 <= anonymous <= 11
    assert row["Contributions"] == 2 + anonymous
    assert row["Moyenne"] == round((3 + 1 + 3 * anonymous) / (2 + anonymous), 2)
    assert row["Chiffres approchés"] == "oui"
    about = dict(rows(workbook["À propos"])[1:])
    assert about["Contributions nominatives"] == 2
    assert 7 <= about["Contributions anonymes comptées"] <= 11
    assert about["Contributions"] == 2 + about["Contributions anonymes comptées"]
    assert (about["Partages anonymes en attente"], about["Chiffres approchés"]) == (0, "oui")
    assert len(rows(workbook["Équipe"])) - 1 == 2 * 24


@pytest.mark.parametrize("anonymous", [2, 3, 9])
def test_anonymous_members_never_appear_by_name(team, anonymous):
    team.add_anonymous_until(anonymous)

    exported = "\n".join([all_cells(team.workbook()), *(team.csv(s) for s in ["a-propos", "equipe", "pratiques"]), pdf_text(team.pdf())])

    assert "Alice Animatrice" in exported
    for email, name in ANONYMOUS:
        assert name not in exported
        assert email not in exported


def test_a_withdrawn_share_leaves_the_export(team):
    withdraw_share(membership=team.bob)

    workbook = team.workbook()

    assert {row[0] for row in rows(workbook["Équipe"])[1:]} == {"Alice Animatrice"}
    assert practices_row(workbook, "1.1")["Contributions"] == 1


def test_team_xlsx_lists_decisions_and_actions_with_labels(team):
    workbook = team.workbook()

    decision = rows(workbook["Arbitrages"])[1]
    assert decision[:7] == [
        "1.1", "Financer les projets", "En partenariat", "Collectivité territoriale, Association",
        "Maison de l'emploi", NOTE, "Alice Animatrice",
    ]
    assert decision[7].date() == timezone.localdate()
    actions = rows(workbook["Plan d'action"])[1:]
    assert [a[:3] + a[4:] for a in actions] == [
        ["Atelier <i>partenaires</i>", "1.1, 2.1", FORMULA_NAME, "À faire", "oui"],
        ["Bilan", None, None, "Fait", "non"],
    ]


def test_team_export_makes_no_query_once_its_inputs_are_loaded(team, django_assert_num_queries):
    team_map, decisions = build_team_map(team.organisation), decisions_of(team.facilitator)
    actions = list(actions_of(team.facilitator))

    with django_assert_num_queries(0):
        write_xlsx(TeamExporter(team.organisation, team_map, decisions, actions))
        report_context(team.organisation, team_map, decisions, actions)


def test_team_export_file_name_carries_the_organisation_and_the_day(team):
    assert team.exporter().filename == f"equipe-pays-du-val-dessai-{timezone.localdate().isoformat()}"


def test_report_pdf_shows_the_organisation_practices_and_decisions(team):
    content = team.pdf()

    text = pdf_text(content)
    assert content.startswith(b"%PDF")
    assert ORG_NAME in text
    assert "Financer les projets" in text
    assert "Maison de l'emploi" in text
    assert "Atelier <i>partenaires</i>" in text
    assert "En retard" in text


def test_report_pdf_prints_html_in_a_note_as_literal_text(team):
    text = pdf_text(team.pdf())

    assert NOTE in text
    assert "&lt;" not in text and "&amp;" not in text


def test_report_context_counts_and_flags(team):
    team.add_anonymous_until(9)
    context = report_context(
        team.organisation, build_team_map(team.organisation), decisions_of(team.facilitator), list(actions_of(team.facilitator))
    )

    assert (context["anonymous_min"], context["anonymous_batch"]) == (5, 3)
    assert 7 <= context["anonymous_counted"] <= 11
    assert context["team_map"].contribution_count == 2 + context["anonymous_counted"]
    assert [(a.title, a.is_overdue) for a in context["actions"]] == [("Atelier <i>partenaires</i>", True), ("Bilan", False)]
    assert context["overdue_count"] == 1
    assert [(d.practice.code, d.mode_label, d.partner_types) for d in context["decisions"]] == [
        ("1.1", "En partenariat", ["Collectivité territoriale", "Association"]),
        ("2.1", "En interne", []),
    ]
    assert context["radar"].startswith("<svg") and "Profil de l&#x27;équipe" in context["radar"]
    assert context["regular_from"].label == "Régulièrement"


def test_report_pdf_of_an_organisation_without_shares(version):
    user = person("solo@exemple.fr", "Solo")
    organisation = create_organisation(user=user, name="Structure vide", structure_type="association")
    context = report_context(organisation, build_team_map(organisation), {}, [])

    text = pdf_text(render_pdf_bytes(RequestFactory().get("/"), "organisations/report_pdf.html", context))

    assert context["radar"] == ""
    assert "Structure vide" in text
    assert "Aucun positionnement n'est encore partagé avec la structure" in text
    assert "Aucun arbitrage enregistré pour l'instant." in text


def test_report_pdf_marks_figures_with_the_anonymous_pool_as_approximate(team):
    exact = pdf_text(team.pdf())
    team.add_anonymous_until(9)

    approximate = pdf_text(team.pdf())

    assert "perturbation aléatoire" not in exact and "≈" not in exact
    assert "perturbation aléatoire" in approximate
    assert "≈" in approximate
    assert "moins de 5 n'y sont pas comptés" in approximate
    # Counted from five people, changing by batches of three new shares, hidden after a departure.
    for text in (exact, approximate):
        assert "et seulement à partir de 5 personnes" in text
        assert "par lots d'au moins 3 nouveaux partages" in text
        assert "après un retrait ou un départ, ils n'y sont plus montrés jusqu'au lot suivant" in text


def test_a_departure_takes_every_anonymous_figure_out_of_the_exports_until_the_next_batch(team):
    team.add_anonymous_until(9)
    assert team.exporter().team_map.anonymous_included

    withdraw_share(membership=team.anonymous[3])

    workbook = team.workbook()
    row = practices_row(workbook, "1.1")
    assert (row["Contributions"], row["Moyenne"], row["Chiffres approchés"]) == (2, 2, "non")
    about = dict(rows(workbook["À propos"])[1:])
    assert (about["Contributions"], about["Contributions anonymes comptées"], about["Chiffres approchés"]) == (2, 0, "non")
    assert about["Partages anonymes en attente"] == 8
    assert "≈" not in pdf_text(team.pdf())
    team.add_anonymous_until(11)  # two brand-new shares: not yet a batch
    assert practices_row(team.workbook(), "1.1")["Contributions"] == 2

    team.add_anonymous_until(12)

    row = practices_row(team.workbook(), "1.1")
    assert row["Chiffres approchés"] == "oui"
    assert 9 <= row["Contributions"] - 2 <= 13  # the eleven anonymous shares left, after noise
